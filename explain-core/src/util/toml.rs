//! The one TOML reader: every TOML file explain reads (the report's `explain.toml`, dataset
//! datasheets, `explain diff`'s `[stability]` thresholds) goes through [`parse`], and its
//! errors read `{what}, line N: [section] key: message`. Lines and keys come from the TOML
//! parser's spans ([`toml::de::DeTable`]), not from scanning the text.

use crate::error::Located;
use crate::{Error, Result};
use serde::de::DeserializeOwned;
use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// Parses `text` into `T`; `what` names the file in messages (`config explain.toml`) and
/// `section` prefixes the keys they name (`[stability] max_metric_change`).
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct T { n: u32 }
/// let e = explain_core::util::toml::parse::<T>("\nn = \"x\"\n", "config a.toml", "").err().unwrap();
/// assert!(e.to_string().starts_with("config a.toml, line 2: "), "{e}");
/// ```
///
/// # Errors
///
/// [`Error::Input`] with the line and key of the first problem.
pub fn parse<T: DeserializeOwned>(text: &str, what: &str, section: &str) -> Result<T> {
    toml::from_str::<T>(text).map_err(|e| error(&e, text, what, section))
}

/// A TOML error as one line: `{what}, line N: KEY: message`, naming the key whose value holds
/// the error when the message does not (type errors). `section` prefixes the key
/// (`[stability] k`).
pub fn error(e: &toml::de::Error, text: &str, what: &str, section: &str) -> Error {
    let message = e.message().trim().replace('\n', " ");
    let (at, key) = match e.span() {
        Some(s) => {
            let start = s.start.min(text.len());
            // A missing key is reported at its table, whose first line sets another key.
            let key = if message.starts_with("missing field") {
                None
            } else {
                key_at(text, start)
            };
            let key = key
                .filter(|k| !k.is_empty() && !message.contains(k.as_str()))
                .map(|k| {
                    if section.is_empty() {
                        k
                    } else {
                        format!("[{section}] {k}")
                    }
                });
            (Some(line_at(text, start)), key)
        }
        None => (None, None),
    };
    Error::from(Located {
        what: what.to_string(),
        line: at,
        key,
        message,
        source: Some(Box::new(e.clone())),
    })
}

/// The 1-based line of byte offset `at`.
fn line_at(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// Every key of a table, nested tables and arrays of tables included: (key, key span, value
/// span), outer keys first.
fn entries<'a>(table: &'a DeTable<'a>, out: &mut Vec<(&'a str, Range<usize>, Range<usize>)>) {
    for (k, v) in table.iter() {
        out.push((k.get_ref().as_ref(), k.span(), v.span()));
        match v.get_ref() {
            DeValue::Table(t) => entries(t, out),
            DeValue::Array(a) => {
                for item in a.iter() {
                    if let DeValue::Table(t) = item.get_ref() {
                        entries(t, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The innermost key whose value holds byte offset `at` (or that is written there).
fn key_at(text: &str, at: usize) -> Option<String> {
    let doc = DeTable::parse(text).ok()?;
    let mut all = Vec::new();
    entries(doc.get_ref(), &mut all);
    all.into_iter()
        .filter(|(_, k, v)| k.contains(&at) || v.contains(&at) || (v.is_empty() && v.start == at))
        .min_by_key(|(_, k, v)| v.end.max(k.end) - k.start.min(v.start))
        .map(|(k, _, _)| k.to_string())
}

/// The entry `name` of `t`: its key's span and its value.
fn find<'a>(t: &DeTable<'a>, name: &str) -> Option<(Range<usize>, toml::Spanned<DeValue<'a>>)> {
    t.iter()
        .find(|(k, _)| k.get_ref() == name)
        .map(|(k, v)| (k.span(), v.clone()))
}

/// The 1-based line on which `key` is set inside `[section]` (top level when `section` is
/// empty; the table's header when `key` is empty). `None` when it is not set.
///
/// ```
/// let text = "title = \"t\"\n[model]\npath = \"m.onnx\"\n";
/// assert_eq!(explain_core::util::toml::line_of(text, "model", "path"), Some(3));
/// assert_eq!(explain_core::util::toml::line_of(text, "model", ""), Some(2));
/// assert_eq!(explain_core::util::toml::line_of(text, "", "title"), Some(1));
/// ```
pub fn line_of(text: &str, section: &str, key: &str) -> Option<usize> {
    let doc = DeTable::parse(text).ok()?;
    let (table, header) = if section.is_empty() {
        (doc.get_ref().clone(), None)
    } else {
        let (span, v) = find(doc.get_ref(), section)?;
        let table = match v.into_inner() {
            DeValue::Table(t) => t,
            DeValue::Array(a) => match a.into_iter().next()?.into_inner() {
                DeValue::Table(t) => t,
                _ => return None,
            },
            _ => return None,
        };
        (table, Some(span))
    };
    if key.is_empty() {
        return header.map(|s| line_at(text, s.start));
    }
    find(&table, key).map(|(span, _)| line_at(text, span.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"title = "t"
[model]
path = "m.onnx"
[explanations]
methods = ["kernel"]
inputs = ["x.npy"]
[validation]
slice_by = ["a"]
[[markets]]
name = "EU"
"#;

    #[test]
    fn lines_of_keys_and_tables() {
        assert_eq!(line_of(MINIMAL, "validation", "slice_by"), Some(8));
        assert_eq!(line_of(MINIMAL, "", "title"), Some(1));
        assert_eq!(line_of(MINIMAL, "model", "output"), None);
        assert_eq!(line_of(MINIMAL, "markets", "name"), Some(10));
        assert_eq!(line_of(MINIMAL, "explanations", ""), Some(4));
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        model: Model,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Model {
        path: String,
        batch: u32,
    }

    #[test]
    fn type_errors_name_their_key_and_line() {
        let e = parse::<Doc>(
            "[model]\npath = \"m\"\nbatch = [\n  \"x\",\n]\n",
            "config c.toml",
            "",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("config c.toml, line 3: batch: "), "{e}");
        // The place is kept in structured form, with the parser's error as the source.
        match parse::<Doc>("[model]\npath = 1\nbatch = 2\n", "config c.toml", "") {
            Err(Error::Located(l)) => {
                assert_eq!((l.line, l.key.as_deref()), (Some(2), Some("path")));
                assert!(std::error::Error::source(&*l).is_some());
            }
            other => panic!("{other:?}"),
        }
        let e = parse::<Doc>("[model]\npath = \"m\"\n", "config c.toml", "s")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("missing field `batch`") && !e.contains("path:"),
            "{e}"
        );
    }
}
