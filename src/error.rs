//! Typed errors of the library. The binary maps them to exit codes: bad input → 2, anything that
//! goes wrong while running or writing → 1.

use std::borrow::Cow;
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

/// `s` on one line: control characters (a line break in a value the message quotes, a tab) are
/// written as escapes (`\n`, `\r`, `\t`, `\u{1b}`), so that one problem is one line of output and
/// a program reading stderr can split problems by line.
pub fn one_line(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = one_line(&self.file);
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{file}")?;
            if p.line > 0 {
                write!(f, ":{}:{}", p.line, p.column)?;
            }
            let message = one_line(&p.message);
            if p.path.is_empty() {
                write!(f, ": {message}")?;
            } else {
                write!(f, ": {}: {message}", one_line(&p.path))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_with_a_line_break_is_shown_escaped_so_each_problem_stays_one_line() {
        let e = InputError {
            file: "s.toml".into(),
            problems: vec![
                Problem {
                    line: 8,
                    column: 28,
                    path: "segments[0].availability.profile".into(),
                    message: "unknown availability profile \"office\nlaptop\"".into(),
                },
                Problem {
                    line: 9,
                    column: 1,
                    path: "a\tb".into(),
                    message: "found \"x\r\u{1b}\"".into(),
                },
            ],
        };
        assert_eq!(
            e.to_string(),
            "s.toml:8:28: segments[0].availability.profile: unknown availability profile \"office\\nlaptop\"\n\
             s.toml:9:1: a\\tb: found \"x\\r\\u{1b}\""
        );
        assert!(matches!(one_line("plain é"), Cow::Borrowed("plain é")));
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
