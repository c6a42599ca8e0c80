//! The curated scenarios, carried in the binary so that an installed
//! `faultline` runs them by name from any folder: `faultline run
//! raft-leader-crash`, `faultline show raft-leader-crash`.
//!
//! A path always wins over a name: `faultline run quickstart` reads the file
//! `./quickstart` if there is one, and the curated scenario otherwise.

use super::error::{CliError, ErrorKind};
use std::path::Path;

/// The curated scenarios as (path in the repository, text), in file-name
/// order: every `.ron` file in `scenarios/`, listed by `build.rs`.
pub const CURATED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/curated.rs"));

/// A curated scenario's name: its file name without `.ron`.
pub fn name_of(repo_path: &str) -> &str {
    let file = repo_path.rsplit('/').next().unwrap_or(repo_path);
    file.strip_suffix(".ron").unwrap_or(file)
}

/// Every curated name, in the list's order.
pub fn names() -> Vec<&'static str> {
    CURATED.iter().map(|(path, _)| name_of(path)).collect()
}

/// The curated scenario called `name` (with or without `.ron`, or as its
/// path in the repository): (name, text).
pub fn find(name: &str) -> Option<(&'static str, &'static str)> {
    let wanted = name_of(name);
    CURATED
        .iter()
        .find(|(path, _)| name_of(path) == wanted && (!name.contains('/') || *path == name))
        .map(|(path, text)| (name_of(path), *text))
}

/// A scenario argument, read: the file at `arg` if there is one, else the
/// curated scenario of that name. Returns the scenario and the text to name
/// it by in a reproduce command.
pub fn load(arg: &Path) -> Result<(scenarios::Scenario, String), CliError> {
    let shown = arg.display().to_string();
    if arg.exists() {
        return Ok((scenarios::load_file(arg)?, shown));
    }
    if let Some((name, text)) = find(&shown) {
        // A curated file that does not load is our bug, not the user's.
        let scenario = scenarios::load_str(text, &format!("{name} (curated)"))
            .unwrap_or_else(|e| panic!("curated scenario {name} does not load: {e}"));
        return Ok((scenario, name.to_string()));
    }
    let names = names();
    let hint = match scenarios::error::closest(name_of(&shown), names.iter().copied()) {
        Some(best) => format!("did you mean the curated scenario `{best}`? (`faultline list` shows them all)"),
        None => "give a scenario file's path, or a curated scenario's name (`faultline list` shows them)".to_string(),
    };
    Err(CliError::new(
        ErrorKind::Io,
        format!("{shown}: no such file, and no curated scenario of that name"),
    )
    .with_file(shown)
    .with_hint(hint))
}
