//! Serde for a typed value that is written as text: any type with `Display` and `FromStr`
//! (a feature spec, a baseline spec) is stored in a document as the string the command line
//! and the config spell it, and read back through the same `FromStr`, so a document can only
//! hold what the command line would accept.
//!
//! ```
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct R {
//!     #[serde(with = "explain_core::util::as_text")]
//!     n: std::net::Ipv4Addr,
//! }
//! let r: R = serde_json::from_str(r#"{"n": "127.0.0.1"}"#).unwrap();
//! assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"n":"127.0.0.1"}"#);
//! assert!(serde_json::from_str::<R>(r#"{"n": "x"}"#).is_err());
//! ```

use serde::{Deserialize, Deserializer, Serializer, de};
use std::fmt::Display;
use std::str::FromStr;

/// Writes `value` as its `Display` text.
pub fn serialize<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// Reads a string and parses it with `FromStr`; its error is serde's message.
pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
where
    T: FromStr,
    T::Err: Display,
    D: Deserializer<'de>,
{
    let text = String::deserialize(d)?;
    text.parse().map_err(de::Error::custom)
}

/// The same for an optional value (`null` or absent for `None`).
pub mod option {
    use super::*;

    /// Writes `Some(value)` as its text, `None` as `null`.
    pub fn serialize<T: Display, S: Serializer>(
        value: &Option<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    /// Reads `null` as `None` and a string through `FromStr`.
    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        match Option::<String>::deserialize(d)? {
            Some(text) => text.parse().map(Some).map_err(de::Error::custom),
            None => Ok(None),
        }
    }
}
