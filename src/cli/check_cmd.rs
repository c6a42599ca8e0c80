//! `faultline check`: a recorded history against a consistency model.
//! Exit codes: 0 linearizable, 1 not, 3 unknown (budget or deadline), 2 bad input.

use super::error::{CliError, ErrorKind};
use serde::Serialize;
use sim_core::checker::model::KvModel;
use sim_core::checker::{explain, linearizability, Budget, Verdict};
use sim_core::history::import::{import, Format, HISTORY_BYTES_MAX};
use sim_core::history::{Function, History};
use sim_core::SimDuration;
use std::io::Write;
use std::path::Path;

pub struct CheckOptions {
    pub model: String,
    pub format: String,
    pub timeout: String,
    pub initial: Option<String>,
    pub whole: bool,
    pub html: Option<std::path::PathBuf>,
    pub json: bool,
}

#[derive(Serialize)]
struct CheckSummary {
    file: String,
    format: &'static str,
    model: String,
    partitioned: bool,
    operations: usize,
    verdict: Verdict,
    seconds: f64,
    steps: u64,
    keys: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    unknown_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counterexample: Option<linearizability::Counterexample>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<String>,
}

pub fn check(path: &Path, options: CheckOptions, stdout: &mut dyn Write) -> Result<u8, CliError> {
    match prepare(path, &options) {
        Ok((history, model, format)) => {
            let timeout = SimDuration::parse(&options.timeout).expect("validated in prepare");
            let started = std::time::Instant::now();
            let deadline = started + std::time::Duration::from_nanos(timeout.as_nanos());
            // The deadline is the CLI's business; the checker only polls this callback.
            let cancel = move || std::time::Instant::now() >= deadline;
            let budget = Budget {
                steps_max: u64::MAX,
                cancel: Some(&cancel),
                ..Budget::default()
            };
            let report = if options.whole {
                linearizability::check_whole(&history, &model, &budget)
            } else {
                linearizability::check(&history, &model, &budget)
            };
            let seconds = started.elapsed().as_secs_f64();
            let explanation = report
                .counterexample
                .as_ref()
                .map(|cx| explain::render(&history, cx));
            if let (Some(out), Some(cx)) = (&options.html, &report.counterexample) {
                let page =
                    reports::timeline::render(&history, cx, &path.display().to_string(), &[], None);
                std::fs::write(out, page).map_err(|error| {
                    CliError::new(
                        ErrorKind::Output,
                        format!("cannot write {}: {error}", out.display()),
                    )
                    .with_file(out.display().to_string())
                })?;
            }
            let summary = CheckSummary {
                file: path.display().to_string(),
                format: format.name(),
                model: options.model.clone(),
                partitioned: !options.whole,
                operations: history.len(),
                verdict: report.verdict,
                seconds,
                steps: report.steps,
                keys: report.keys_checked,
                unknown_reason: report.unknown_reason.clone(),
                counterexample: report.counterexample.clone(),
                explanation,
            };
            if options.json {
                super::print_json(stdout, &summary);
            } else {
                let verdict = match summary.verdict {
                    Verdict::Pass => "LINEARIZABLE".to_string(),
                    Verdict::Fail => "NOT LINEARIZABLE".to_string(),
                    Verdict::Unknown => format!(
                        "UNKNOWN ({})",
                        summary.unknown_reason.as_deref().unwrap_or("")
                    ),
                };
                let _ = writeln!(
                    stdout,
                    "{}: {verdict}\n{} operations, {} keys{}, format {}, model {}, {:.3} s, {} search steps",
                    summary.file,
                    summary.operations,
                    summary.keys,
                    if options.whole { " (checked as one object)" } else { "" },
                    summary.format,
                    summary.model,
                    seconds,
                    summary.steps
                );
                if let Some(text) = &summary.explanation {
                    let _ = write!(stdout, "{text}");
                }
            }
            Ok(match report.verdict {
                Verdict::Pass => 0,
                Verdict::Fail => 1,
                Verdict::Unknown => 3,
            })
        }
        Err(error) => Err(error),
    }
}

fn prepare(path: &Path, options: &CheckOptions) -> Result<(History, KvModel, Format), CliError> {
    let format = Format::parse(&options.format).ok_or_else(|| {
        CliError::argument(
            "--format",
            format!(
                "{}: expected auto, edn, porcupine-etcd, porcupine-kv or jsonl",
                options.format
            ),
        )
    })?;
    SimDuration::parse(&options.timeout).map_err(|e| CliError::argument("--timeout", e))?;
    let allowed: &[Function] = match options.model.as_str() {
        "register" => &[Function::Read, Function::Write],
        "cas-register" => &[Function::Read, Function::Write, Function::Cas],
        "kv" => &[
            Function::Read,
            Function::Write,
            Function::Cas,
            Function::Append,
        ],
        other => {
            return Err(CliError::argument(
                "--model",
                format!("{other}: expected register, cas-register or kv"),
            ))
        }
    };
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
    let text = String::from_utf8(bytes).map_err(|e| io(format!("{file}: not UTF-8 text ({e})")))?;
    let imported = import(&text, format, &file)
        .map_err(|e| CliError::new(ErrorKind::History, e).with_file(&file))?;
    if let Some(op) = imported
        .history
        .operations
        .iter()
        .find(|op| !allowed.contains(&op.f))
    {
        return Err(CliError::argument(
            "--model",
            format!(
                "{file}: the {} model has no {:?} operations (process {}); choose --model cas-register or kv",
                options.model, op.f, op.process
            ),
        ));
    }
    let initial = options
        .initial
        .clone()
        .or(imported.initial)
        .unwrap_or_default();
    Ok((imported.history, KvModel { initial }, imported.format))
}
