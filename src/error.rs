//! Typed errors of the library. The binary maps them to exit codes: bad input → 2, anything that
//! goes wrong while running or writing → 1.

use std::fmt;
use std::path::PathBuf;

/// One problem found in an input file, located as precisely as the format allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// Field path such as `segments[2].availability.profile` (empty for syntax errors).
    pub path: String,
    /// The rule broken and the value found.
    pub message: String,
}

/// Everything wrong with one input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The file as the user named it.
    pub file: String,
    /// Problems, in file order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", self.file)?;
            if p.line > 0 {
                write!(f, ":{}:{}", p.line, p.column)?;
            }
            if p.path.is_empty() {
                write!(f, ": {}", p.message)?;
            } else {
                write!(f, ": {}: {}", p.path, p.message)?;
            }
        }
        Ok(())
    }
}

/// Errors of the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input file is malformed or breaks a rule (exit code 2).
    #[error("{0}")]
    Input(InputError),
    /// An input file cannot be read (exit code 2).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An output cannot be written (exit code 1).
    #[error("cannot write {}: {message}", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Something failed while running (exit code 1).
    #[error("{0}")]
    Run(String),
}

impl Error {
    /// Whether the error is the user's input (exit code 2) rather than a failure while running.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Error::Input(_) | Error::Read { .. })
    }
}
