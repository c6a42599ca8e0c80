//! What `faultline check` was asked, for every kind of history: the
//! register checks (`check_cmd.rs`) and Jepsen's workload family
//! (`check_family.rs`) read the same options, and the file the same way.

use super::error::{CliError, ErrorKind};
use sim_core::history::import::HISTORY_BYTES_MAX;
use std::path::Path;

pub struct CheckOptions {
    pub model: String,
    pub format: String,
    pub timeout: String,
    pub initial: Option<String>,
    pub whole: bool,
    pub html: Option<std::path::PathBuf>,
    pub json: bool,
    /// Refuse a history with fields its format does not define.
    pub strict: bool,
    /// The check's memory budget ("1GiB"): the file, the history and the
    /// search's memo count against it; past it the verdict is unknown.
    pub memory: String,
    /// The transactional models to judge (comma-separated).
    pub consistency_models: Option<String>,
    /// bank: allow negative balances.
    pub negative_balances: bool,
    /// bank: the initial total.
    pub total: Option<i64>,
    /// list-append, rw-register: check only what decides the named models.
    pub named_only: bool,
    /// Register models: "auto" (the distinct-values check where it
    /// applies, the search elsewhere) or "search" (the search everywhere).
    pub algorithm: String,
}

/// The history file's text: refused (an I/O error naming the file) when
/// missing, larger than `HISTORY_BYTES_MAX`, or not UTF-8.
pub fn read_history(path: &Path) -> Result<String, CliError> {
    let file = path.display().to_string();
    let io = |message: String| CliError::new(ErrorKind::Io, message).with_file(&file);
    let size = std::fs::metadata(path)
        .map_err(|e| io(format!("{file}: {e}")))?
        .len();
    if size > HISTORY_BYTES_MAX as u64 {
        return Err(io(format!(
            "{file}: {size} bytes; histories are limited to {HISTORY_BYTES_MAX}"
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| io(format!("{file}: {e}")))?;
    String::from_utf8(bytes).map_err(|e| io(format!("{file}: not UTF-8 text ({e})")))
}

/// An output error for `out` (`--html`), naming it.
pub fn output_error(out: &Path, error: impl std::fmt::Display) -> CliError {
    CliError::new(
        ErrorKind::Output,
        format!("cannot write {}: {error}", out.display()),
    )
    .with_file(out.display().to_string())
}
