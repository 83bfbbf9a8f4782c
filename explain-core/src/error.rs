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
}

impl Error {
    /// The process exit code for this error: 1 for a failed check, 2 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Check(_) => 1,
            Error::Input(_) | Error::Model(_) => 2,
        }
    }
}

/// Shorthand for `Err(Error::Input(format!(...)))`.
#[macro_export]
macro_rules! bad_input {
    ($($arg:tt)*) => { return Err($crate::Error::Input(format!($($arg)*))) };
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
