//! Errors and their exit codes.
//!
//! Bad input (a scenario file, a flag) exits with 2 and names the file, the field and the allowed
//! range; failures at run time (writing results) exit with 1; an inverse answer written but too
//! unstable to trust exits with 3; a finished answer whose files could not be written where asked
//! exits with 4 (its figures printed, a copy kept where the message says).

use std::path::PathBuf;

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario file that cannot be read, parsed or validated.
    #[error("{file}: {message}")]
    Scenario { file: String, message: String },
    /// A bad command-line value.
    #[error("{0}")]
    Usage(String),
    /// A run that finished without an answer (an inverse run no trial reproduced); nothing is
    /// written.
    #[error("{0}")]
    NoAnswer(String),
    /// An answer written in full that is not to be trusted (an inverse answer whose weights are
    /// too heavy-tailed, a scenario `check` finds not calibrated): the figures are kept, the
    /// exit code says so.
    #[error("{0}")]
    Unreliable(String),
    /// A finished result whose files could not be written where asked: its figures were
    /// printed, and the message says where a copy was kept, if anywhere.
    #[error("{0}")]
    NotSaved(String),
    /// The run was stopped (Ctrl-C) and a partial result written.
    #[error("interrupted: partial result written")]
    Interrupted,
    /// A file that could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// The process exit code: 2 for bad input, 1 for failures at run time, 3 for an answer
    /// written but not to be trusted, 4 for an answer not written where asked.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Scenario { .. } | Error::Usage(_) => 2,
            Error::Io { .. } | Error::NoAnswer(_) => 1,
            // Written, but not to be relied on: apart from a failure, so scripts can tell.
            Error::Unreliable(_) => 3,
            // Finished but not saved where asked: apart from a failure before the answer.
            Error::NotSaved(_) => 4,
            // The shell's convention for a process stopped by SIGINT.
            Error::Interrupted => 130,
        }
    }

    /// An I/O error at `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
