//! One shape for every error the command line reports.
//!
//! Every subcommand returns `Result<exit code, CliError>`; `emit` prints the
//! error once, as `error: MESSAGE` on stderr, or with `--json` as one
//! object on stdout: `{"error": {kind, message, file, line, column, path,
//! hint, problems}}`, the fields that apply. Either way the exit code is 2.
//! Why one type: a script reading `--json` must get JSON on every exit, and
//! a message written in one place cannot drift between subcommands.

use serde::Serialize;
use std::io::Write;

/// What went wrong, for a script to branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The command line itself: an unknown flag, a missing argument.
    Usage,
    /// A flag's value: `--seeds`, `--set`, `--shard`, `--jobs`, `--memory`, ...
    Argument,
    /// A file that cannot be read (missing, a folder, too large, not UTF-8).
    Io,
    /// A scenario file that does not parse: `file`, `line`, `column`.
    Syntax,
    /// A scenario that parses but is invalid: `path` names the field.
    Invalid,
    /// A history file that cannot be imported.
    History,
    /// Results files that cannot be merged or resumed.
    Results,
    /// A run stopped on bad input found only when it ran (a name bound at
    /// run time).
    Run,
    /// An output that cannot be written.
    Output,
    /// Nothing to act on: `shrink` given a seed that does not fail (or
    /// does not fail the check named).
    Refused,
}

/// One problem of an invalid scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    pub path: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CliError {
    pub kind: ErrorKind,
    /// The whole message, as the text output prints it.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// A field path (`faults.schedule[0].fault`) or a flag (`--seeds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Every problem of an invalid scenario (the first is in `path`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<FieldProblem>,
}

impl From<crate::shrinking::WriteError> for CliError {
    fn from(error: crate::shrinking::WriteError) -> Self {
        match error {
            crate::shrinking::WriteError::Output { path, message } => {
                CliError::new(ErrorKind::Output, message).with_file(path)
            }
            crate::shrinking::WriteError::NotReproduced(message) => {
                CliError::new(ErrorKind::Run, message)
            }
        }
    }
}

/// The library's report errors, sorted into the CLI's kinds.
impl From<reports::error::ReportError> for CliError {
    fn from(error: reports::error::ReportError) -> Self {
        use reports::error::ReportError;
        match error {
            ReportError::Read { path, message } => {
                CliError::new(ErrorKind::Io, message).with_file(path.display().to_string())
            }
            ReportError::Write { dir, message } => CliError::new(
                ErrorKind::Output,
                format!("cannot write the report: {message}"),
            )
            .with_file(dir.display().to_string()),
            ReportError::Option(message) => CliError::argument("--nodes", message),
            other => CliError::new(ErrorKind::Output, other.to_string()),
        }
    }
}

impl CliError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CliError {
            kind,
            message: message.into(),
            file: None,
            line: None,
            column: None,
            path: None,
            hint: None,
            problems: Vec::new(),
        }
    }

    /// A bad value of `flag`; the message says which.
    pub fn argument(flag: &str, message: impl std::fmt::Display) -> Self {
        let mut error = Self::new(ErrorKind::Argument, format!("{flag}: {message}"));
        error.path = Some(flag.to_string());
        error
    }

    pub fn with_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The message, and the hint on its own line unless the message
    /// already ends with it (a scenario's syntax error carries its hint).
    pub fn text(&self) -> String {
        match &self.hint {
            Some(hint) if !self.message.contains("hint:") => {
                format!("{}\n  hint: {hint}", self.message)
            }
            _ => self.message.clone(),
        }
    }

    /// Prints the error (text on stderr, or JSON on stdout) and gives exit 2.
    pub fn emit(&self, json: bool, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
        if json {
            super::print_json(stdout, &serde_json::json!({ "error": self }));
        } else {
            let _ = writeln!(stderr, "error: {}", self.text());
        }
        2
    }
}

impl From<scenarios::ScenarioError> for CliError {
    fn from(error: scenarios::ScenarioError) -> Self {
        let message = error.to_string();
        match error {
            scenarios::ScenarioError::Io { file, .. } => {
                CliError::new(ErrorKind::Io, message).with_file(file)
            }
            scenarios::ScenarioError::Syntax {
                file,
                line,
                column,
                hint,
                ..
            } => CliError {
                line: Some(line),
                column: Some(column),
                hint,
                ..CliError::new(ErrorKind::Syntax, message).with_file(file)
            },
            scenarios::ScenarioError::Invalid { file, problems } => CliError {
                path: problems.first().map(|p| p.path.clone()),
                problems: problems
                    .into_iter()
                    .map(|p| FieldProblem {
                        path: p.path,
                        message: p.message,
                    })
                    .collect(),
                ..CliError::new(ErrorKind::Invalid, message).with_file(file)
            },
        }
    }
}
