//! The error every history reader returns: where (file, and line where one
//! applies) and what is wrong, in words that say how to fix it.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryError {
    pub file: String,
    /// 1-based line (or item of a JSON array); `None` for the whole file.
    pub line: Option<usize>,
    pub message: String,
}

impl HistoryError {
    pub fn at(file: &str, line: usize, message: impl Into<String>) -> HistoryError {
        HistoryError {
            file: file.to_string(),
            line: Some(line),
            message: message.into(),
        }
    }
    pub fn whole(file: &str, message: impl Into<String>) -> HistoryError {
        HistoryError {
            file: file.to_string(),
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for HistoryError {}

impl From<HistoryError> for String {
    fn from(error: HistoryError) -> String {
        error.to_string()
    }
}
