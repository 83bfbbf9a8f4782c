//! One error type for the whole library, sorted by who is at fault.
//!
//! The CLI maps [`Error::exit_code`] straight to the process exit status: `2` for bad usage or
//! bad input (the message names the file and what is wrong), `1` for a check that ran and failed.

/// What can go wrong, by category. Every message is a complete sentence for a person: it names
/// the file or parameter involved and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller gave something unusable: a missing or corrupt file, a shape that does not fit,
    /// a parameter out of range. Exit code 2.
    #[error("{0}")]
    Input(String),
    /// The model ran but produced something that cannot be explained (NaN, infinite values).
    /// Exit code 2: the model or the input is at fault, not a check.
    #[error("{0}")]
    Model(String),
    /// A check ran and failed (verification mismatch, regression, threshold). Exit code 1.
    #[error("{0}")]
    Check(String),
    /// Bad input at a known place in a file (a TOML key and line): exit code 2, like
    /// [`Error::Input`], with the place kept in structured form.
    #[error("{0}")]
    Located(Box<Located>),
}

/// Where in a file a problem is, and what it is: `{what}, line N: KEY: message`.
///
/// ```
/// use explain_core::error::{Error, Located};
/// let e = Error::from(Located {
///     what: "config explain.toml".into(),
///     line: Some(5),
///     key: Some("[model] backend".into()),
///     message: "unknown backend 'x': expected tract or ort".into(),
///     source: None,
/// });
/// assert_eq!(e.to_string(), "config explain.toml, line 5: [model] backend: unknown backend 'x': expected tract or ort");
/// assert_eq!(e.exit_code(), 2);
/// ```
#[derive(Debug)]
pub struct Located {
    /// The file, as messages name it (`config explain.toml`, `datasheet data.toml`).
    pub what: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The key, as messages name it (`[model] backend`), when known.
    pub key: Option<String>,
    pub message: String,
    /// The parser's own error, when there is one.
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl std::fmt::Display for Located {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.what)?;
        if let Some(l) = self.line {
            write!(f, ", line {l}")?;
        }
        write!(f, ": ")?;
        if let Some(k) = &self.key {
            write!(f, "{k}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for Located {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<Located> for Error {
    fn from(l: Located) -> Error {
        Error::Located(Box::new(l))
    }
}

impl Error {
    /// The process exit code for this error: 1 for a failed check, 2 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Check(_) => 1,
            Error::Input(_) | Error::Model(_) | Error::Located(_) => 2,
        }
    }
}

/// Shorthand for `Err(Error::Input(format!(...)))`.
#[macro_export]
macro_rules! bad_input {
    ($($arg:tt)*) => { return Err($crate::Error::Input(format!($($arg)*))) };
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
