//! `faultline report DIR`: the charts and report.html of a run folder,
//! made again from its files (so a run done elsewhere is reported here).

use super::error::{CliError, ErrorKind};
use std::io::Write;
use std::path::Path;

pub fn report(dir: &Path, json: bool, stdout: &mut dyn Write) -> Result<u8, CliError> {
    if !dir.join("resolved.ron").is_file() {
        let hint = if dir.join("results.jsonl").is_file() {
            "this is a sweep folder; give one of its runs, or run one seed with `faultline run`"
        } else {
            "give a folder `faultline run` wrote (it holds resolved.ron)"
        };
        return Err(CliError::new(
            ErrorKind::Io,
            format!(
                "{} is not a run folder: it has no resolved.ron",
                dir.display()
            ),
        )
        .with_file(dir.display().to_string())
        .with_hint(hint));
    }
    let page = reports::run_report::write(dir).map_err(|error| {
        CliError::new(
            ErrorKind::Output,
            format!("cannot write the report: {error}"),
        )
        .with_file(dir.display().to_string())
    })?;
    if json {
        super::print_json(
            stdout,
            &serde_json::json!({ "report": page.display().to_string() }),
        );
    } else {
        let _ = writeln!(stdout, "wrote {}", page.display());
    }
    Ok(0)
}
