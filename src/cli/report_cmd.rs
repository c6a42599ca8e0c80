//! `faultline report DIR`: the charts and report.html of a run or a sweep
//! folder, made again from its files (so a run or sweep done elsewhere is
//! reported here).

use super::error::{CliError, ErrorKind};
use std::io::Write;
use std::path::Path;

pub fn report(
    dir: &Path,
    run_options: &reports::run_report::RunOptions,
    sweep_options: &reports::sweep_report::SweepOptions,
    json: bool,
    (stdout, stderr): (&mut dyn Write, &mut dyn Write),
) -> Result<u8, CliError> {
    let sweep = dir.join("results.jsonl").is_file();
    if !sweep && !dir.join("resolved.ron").is_file() {
        return Err(CliError::new(
            ErrorKind::Io,
            format!(
                "{} is neither a run folder (no resolved.ron) nor a sweep folder (no results.jsonl)",
                dir.display()
            ),
        )
        .with_file(dir.display().to_string())
        .with_hint("give a folder that `faultline run` or `faultline sweep` wrote"));
    }
    let output_error = |error: String| {
        CliError::new(
            ErrorKind::Output,
            format!("cannot write the report: {error}"),
        )
        .with_file(dir.display().to_string())
    };
    let mut missing = None;
    let mut warnings = Vec::new();
    let page = if sweep {
        // The CSV files beside the results too, so a folder whose results
        // were written by an older faultline gets them.
        let (header, results, _) =
            crate::sweep::read_results(&crate::sweep::results_file(dir)).map_err(output_error)?;
        for (name, text) in crate::consistency::files(&header, &results) {
            std::fs::write(dir.join(name), text).map_err(|e| output_error(e.to_string()))?;
        }
        missing = header.missing_note(results.len() as u64);
        crate::sweep_report::write(dir, sweep_options).map_err(output_error)?
    } else {
        let files = reports::run_report::RunFiles::read(dir)?;
        run_options.check(&files.resolved)?;
        let written = reports::run_report::write(dir, &files.data(), run_options)?;
        warnings = written.warnings;
        written.page
    };
    for warning in &warnings {
        let _ = writeln!(stderr, "warning: {warning}");
    }
    if json {
        let mut object = serde_json::json!({ "report": page.display().to_string() });
        if let Some(missing) = &missing {
            object["incomplete"] = serde_json::Value::String(missing.clone());
        }
        if !warnings.is_empty() {
            object["warnings"] = serde_json::json!(warnings);
        }
        super::print_json(stdout, &object);
    } else {
        if let Some(missing) = &missing {
            let _ = writeln!(stdout, "INCOMPLETE: {missing}");
        }
        let _ = writeln!(stdout, "wrote {}", page.display());
    }
    Ok(0)
}
