//! The error every history reader returns: where (file, and line where one
//! applies) and what is wrong, in words that say how to fix it.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryError {
    pub file: String,
    /// 1-based line (or item of a JSON array); `None` for the whole file.
    pub line: Option<usize>,
    /// 1-based column within the line, where the reader knows it.
    pub column: Option<usize>,
    pub message: String,
}

impl HistoryError {
    pub fn at(file: &str, line: usize, message: impl Into<String>) -> HistoryError {
        HistoryError {
            file: file.to_string(),
            line: Some(line),
            column: None,
            message: message.into(),
        }
    }
    pub fn whole(file: &str, message: impl Into<String>) -> HistoryError {
        HistoryError {
            file: file.to_string(),
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

impl HistoryError {
    /// At a line and column (a JSON parser's position).
    pub fn at_column(
        file: &str,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> HistoryError {
        HistoryError {
            column: Some(column),
            ..HistoryError::at(file, line, message)
        }
    }
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => {
                write!(f, "{}:{line}:{column}: {}", self.file, self.message)
            }
            (Some(line), None) => write!(f, "{}:{line}: {}", self.file, self.message),
            (None, _) => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for HistoryError {}

impl From<HistoryError> for String {
    fn from(error: HistoryError) -> String {
        error.to_string()
    }
}
