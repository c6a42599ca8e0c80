//! `faultline check --model list-append|rw-register|bank|counter|set|set-full|long-fork|mutex`:
//! the Jepsen family's histories, judged by `sim_core::checker::family`.
//! Exit codes: 0 every model asked for holds, 1 one is ruled out (or the
//! workload's check failed), 3 unknown (budget or deadline), 2 bad input.

use super::check_options::CheckOptions;
use super::error::{CliError, ErrorKind};
use serde::Serialize;
use sim_core::checker::family::{self, FamilyFormat, FamilyModel, Judged};
use sim_core::checker::{Budget, Verdict};
use sim_core::txn::models::Model;
use sim_core::SimDuration;
use std::io::Write;
use std::path::Path;

#[derive(Serialize)]
struct TxnSummary<'a> {
    file: String,
    format: &'static str,
    model: &'a str,
    seconds: f64,
    #[serde(flatten)]
    report: &'a sim_core::txn::check::Report,
}

#[derive(Serialize)]
struct WorkloadSummary<'a> {
    file: String,
    format: &'static str,
    seconds: f64,
    #[serde(flatten)]
    report: &'a sim_core::workload::Report,
}

pub fn check(
    path: &Path,
    model: FamilyModel,
    options: &CheckOptions,
    stdout: &mut dyn Write,
) -> Result<u8, CliError> {
    let (format, timeout, memory) = flags(options)?;
    let consistency_models = consistency_models(options)?;
    let file = path.display().to_string();
    let text = super::check_options::read_history(path)?;
    let started = std::time::Instant::now();
    let deadline = started + std::time::Duration::from_nanos(timeout.as_nanos());
    // The deadline is the CLI's business; the checkers only poll this.
    let cancel = move || std::time::Instant::now() >= deadline;
    let judged = family::judge(
        &text,
        &file,
        &family::Options {
            model,
            format,
            consistency_models,
            negative_balances: options.negative_balances,
            bank_total: options.total,
            budget: Budget {
                steps_max: u64::MAX,
                cancel: Some(&cancel),
                memo_bytes_max: memory
                    .saturating_sub(text.len() as u64)
                    .min(usize::MAX as u64) as usize,
                ..Budget::default()
            },
            memory_bytes_max: memory.saturating_sub(text.len() as u64),
            named_only: options.named_only,
        },
    )
    .map_err(|e| {
        let mut error = CliError::new(ErrorKind::History, e.to_string()).with_file(&file);
        error.line = e.line;
        error
    })?;
    let mut judged = judged;
    name_run_clients(path, &mut judged);
    let seconds = started.elapsed().as_secs_f64();
    let verdict = judged.verdict();
    match &judged {
        Judged::Txn {
            history,
            report,
            format,
        } => print_txn(history, report, *format, &file, seconds, options, stdout)?,
        Judged::Workload {
            report,
            format,
            linearizability,
        } => print_workload(
            report,
            *format,
            linearizability.as_ref(),
            &file,
            seconds,
            options,
            stdout,
        )?,
    }
    Ok(match verdict {
        Verdict::Pass => 0,
        Verdict::Fail => 1,
        Verdict::Unknown => 3,
    })
}

/// `--format`, `--timeout` and `--memory` (bytes), parsed.
fn flags(options: &CheckOptions) -> Result<(FamilyFormat, SimDuration, u64), CliError> {
    let format = FamilyFormat::parse(&options.format).ok_or_else(|| {
        CliError::argument(
            "--format",
            format!(
                "{}: for --model {} expected auto, edn, json, jsonl or plume",
                options.format, options.model
            ),
        )
    })?;
    let timeout =
        SimDuration::parse(&options.timeout).map_err(|e| CliError::argument("--timeout", e))?;
    let memory = sim_core::bytes::Bytes::parse(&options.memory)
        .map_err(|e| CliError::argument("--memory", format!("{}: {e}", options.memory)))?
        .0;
    Ok((format, timeout, memory))
}

/// `--consistency-models`, parsed (none: the checker's default set).
fn consistency_models(options: &CheckOptions) -> Result<Option<Vec<Model>>, CliError> {
    let Some(list) = &options.consistency_models else {
        return Ok(None);
    };
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|name| {
            Model::parse(name).ok_or_else(|| {
                CliError::argument(
                    "--consistency-models",
                    format!(
                        "{name}: expected a comma-separated list of {}",
                        sim_core::txn::models::ALL_MODELS
                            .iter()
                            .map(|m| m.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
        })
        .collect::<Result<Vec<Model>, CliError>>()
        .map(Some)
}

/// A run's history.jsonl: name processes as the run named its clients.
fn name_run_clients(path: &Path, judged: &mut Judged) {
    if let Judged::Txn {
        history,
        format: FamilyFormat::Jsonl,
        ..
    } = judged
    {
        let beside = path.parent().map(|dir| dir.join("resolved.ron"));
        if let Some(Ok(scenario)) = beside
            .filter(|p| p.exists())
            .map(|p| scenarios::load_file(&p))
        {
            history.process_names =
                sim_core::txn::history::client_names(history, u64::from(scenario.workload.clients));
        }
    }
}

/// A transactional verdict: the cycle page (`--html`), and JSON or text.
fn print_txn(
    history: &sim_core::txn::TxnHistory,
    report: &sim_core::txn::check::Report,
    format: FamilyFormat,
    file: &str,
    seconds: f64,
    options: &CheckOptions,
    stdout: &mut dyn Write,
) -> Result<(), CliError> {
    if let Some(out) = &options.html {
        reports::cycle::write_page(history, report, file, out)
            .map_err(|e| super::check_options::output_error(out, e))?;
    }
    if options.json {
        super::print_json(
            stdout,
            &TxnSummary {
                file: file.to_string(),
                format: format.name(),
                model: &options.model,
                seconds,
                report,
            },
        );
        return Ok(());
    }
    let models: Vec<&str> = report.models_checked.iter().map(|m| m.name()).collect();
    let word = match report.verdict {
        Verdict::Pass => format!("VALID ({})", models.join(", ")),
        Verdict::Fail => format!(
            "INVALID ({} ruled out)",
            models
                .iter()
                .filter(|m| report.ruled_out.iter().any(|r| r.name() == **m))
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Verdict::Unknown => unknown_word(report.unknown_reason.as_deref()),
    };
    let _ = writeln!(
        stdout,
        "{file}: {word}\n{} transactions, format {}, model {}, {:.3} s",
        report.transactions,
        format.name(),
        options.model,
        seconds
    );
    let _ = write!(
        stdout,
        "{}",
        sim_core::txn::explain::report_text(history, report)
    );
    Ok(())
}

/// A workload's verdict: the counterexample page (`--html`), and JSON or text.
fn print_workload(
    report: &sim_core::workload::Report,
    format: FamilyFormat,
    linearizability: Option<&(
        sim_core::history::History,
        sim_core::checker::linearizability::Report,
    )>,
    file: &str,
    seconds: f64,
    options: &CheckOptions,
    stdout: &mut dyn Write,
) -> Result<(), CliError> {
    if let (Some(out), Some((history, lin))) = (&options.html, linearizability) {
        if let Some(cx) = &lin.counterexample {
            let name_of = |p: u64| format!("p{p}");
            let page = reports::timeline::render(history, cx, file, &[], None, &name_of);
            std::fs::write(out, page).map_err(|e| super::check_options::output_error(out, e))?;
        }
    }
    if options.json {
        super::print_json(
            stdout,
            &WorkloadSummary {
                file: file.to_string(),
                format: format.name(),
                seconds,
                report,
            },
        );
        return Ok(());
    }
    let word = match report.verdict {
        Verdict::Pass => "VALID".to_string(),
        Verdict::Fail => format!(
            "INVALID ({})",
            report
                .error_counts
                .iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Verdict::Unknown => unknown_word(report.unknown_reason.as_deref()),
    };
    let _ = writeln!(
        stdout,
        "{file}: {word}\n{} operations, format {}, model {}, {:.3} s",
        report.operations,
        format.name(),
        report.model,
        seconds
    );
    let _ = write!(stdout, "{}", report.text());
    if let Some((history, lin)) = linearizability {
        if let Some(cx) = &lin.counterexample {
            let _ = write!(
                stdout,
                "{}",
                sim_core::checker::explain::render(history, cx)
            );
        }
    }
    Ok(())
}

/// An unknown verdict's word, with why (the budget, unless the checker said).
fn unknown_word(reason: Option<&str>) -> String {
    format!("UNKNOWN ({})", reason.unwrap_or("budget"))
}
