//! Errors and their exit codes.
//!
//! Bad input (a scenario file, a flag) exits with 2 and names the file, the field and the allowed
//! range; failures at run time (writing results) exit with 1.

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
    /// The process exit code: 2 for bad input, 1 for failures at run time.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Scenario { .. } | Error::Usage(_) => 2,
            Error::Io { .. } | Error::NoAnswer(_) => 1,
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
