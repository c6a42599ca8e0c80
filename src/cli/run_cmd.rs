//! `faultline run`: one seed, checked, summarised and written out.

use super::error::{CliError, ErrorKind};
use crate::run_output::{self, reproduce_command};
use scenarios::run::RunVerdict;
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct RunOptions {
    pub seed: Option<u64>,
    pub out: Option<PathBuf>,
    pub sets: Vec<String>,
    pub json: bool,
    /// Between progress lines on stderr while the engine runs.
    pub progress_every: std::time::Duration,
    /// Run the seed a second time and compare the two traces.
    pub check_determinism: bool,
    /// The run's wall-clock budget (`--timeout`).
    pub timeout: Option<std::time::Duration>,
    /// Write the charts and `report.html` beside the run's files, so.
    pub report: Option<reports::run_report::RunOptions>,
}

pub fn run(
    path: &Path,
    options: RunOptions,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, CliError> {
    let RunOptions {
        seed,
        out,
        sets,
        json,
        progress_every,
        check_determinism,
        timeout,
        report,
    } = options;
    let (scenario, source, applied) = super::load_with_sets(path, &sets)?;
    let seed = seed.unwrap_or(scenario.seed);
    let resolved = scenarios::resolve(&scenario, seed);
    if let Some(report) = &report {
        // Before the run, so that a misspelt node costs no run.
        report.check(&resolved)?;
    }
    // With --check-determinism both runs record their traces to compare
    // them; what is written out still follows the scenario's outputs.
    let mut traced = resolved.clone();
    traced.outputs.trace |= check_determinism;
    let input_error = |error| run_error(&source, error);
    // Progress lines go to stderr, so they never mix with --json's object.
    let (result, timing) =
        run_output::execute(&traced, Some((&mut *stderr, progress_every)), timeout)
            .map_err(input_error)?;
    let determinism = if check_determinism {
        let (again, _) = run_output::execute(&traced, None, timeout).map_err(input_error)?;
        Some(run_output::compare_runs(&result, &again))
    } else {
        None
    };
    let out_dir = out.unwrap_or_else(|| {
        PathBuf::from("faultline-out")
            .join(&scenario.name)
            .join(format!("seed-{seed}"))
    });
    let reproduce = reproduce_command(&source, seed, &applied);
    let mut summary = run_output::summarise(&resolved, &result, timing, reproduce);
    summary.out_dir = Some(out_dir.display().to_string());
    let write_report = report.is_some() && result.is_ok();
    summary.report = write_report.then(|| out_dir.join("report.html").display().to_string());
    if let Some(report) = determinism {
        fold_determinism(&mut summary, report);
    }
    let warnings = write_files(
        &out_dir,
        &resolved,
        &result,
        &summary,
        report.as_ref().filter(|_| write_report),
    )?;
    for warning in &warnings {
        let _ = writeln!(stderr, "warning: {warning}");
    }
    if json {
        super::print_json(stdout, &summary);
    } else {
        let _ = print_text(&summary, stdout);
    }
    Ok(match summary.verdict {
        RunVerdict::Pass => 0,
        RunVerdict::Inconclusive => 3,
        RunVerdict::Fail => 1,
    })
}

/// The run's files, and its report when one is asked for and the run
/// ended without a panic.
fn write_files(
    out_dir: &Path,
    resolved: &scenarios::Scenario,
    result: &Result<scenarios::RunOutcome, run_output::Panicked>,
    summary: &run_output::RunSummary,
    report: Option<&reports::run_report::RunOptions>,
) -> Result<Vec<String>, CliError> {
    run_output::write_outputs(out_dir, resolved, result, summary).map_err(|error| {
        CliError::new(
            ErrorKind::Output,
            format!("cannot write {}: {error}", out_dir.display()),
        )
        .with_file(out_dir.display().to_string())
    })?;
    let Some((report_options, Ok(outcome))) = report.map(|r| (r, result)) else {
        return Ok(Vec::new());
    };
    let written = run_output::write_report(out_dir, resolved, outcome, summary, report_options)
        .map_err(|error| {
            CliError::new(
                ErrorKind::Output,
                format!("cannot write the report: {error}"),
            )
            .with_file(out_dir.display().to_string())
        })?;
    Ok(written.warnings)
}

/// A run's input error, sorted into the CLI's kind, with the fault's path
/// when a fault bound at run time caused it.
fn run_error(source: &str, error: scenarios::run::RunError) -> CliError {
    let path = match &error {
        scenarios::run::RunError::Binding { index, .. } => {
            Some(format!("faults.schedule[{index}].fault"))
        }
        _ => None,
    };
    let e = CliError::new(ErrorKind::Run, format!("{source}: {error}")).with_file(source);
    match path {
        Some(path) => e.with_path(path),
        None => e,
    }
}

/// A second run that diverged fails the seed: the verdict says so.
fn fold_determinism(summary: &mut run_output::RunSummary, report: run_output::DeterminismReport) {
    if !report.deterministic {
        summary.verdict = RunVerdict::Fail;
        summary.passed = false;
        summary.failed.push("determinism".into());
    }
    summary.determinism = Some(report);
}

fn print_text(s: &run_output::RunSummary, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "scenario {}  seed {}", s.scenario, s.seed)?;
    writeln!(
        out,
        "simulated {:.3} s, {} events in {:.3} s ({:.2} M events/s); checks {:.3} s; {:.3} s wall",
        s.simulated_seconds,
        s.events,
        s.engine_seconds,
        s.events_per_second / 1e6,
        s.checks_seconds,
        s.wall_seconds
    )?;
    if let Some(panic) = &s.panic {
        writeln!(out, "PANIC in protocol code: {panic}")?;
        if let Some(hash) = &s.trace_hash {
            writeln!(
                out,
                "  the panic came at simulated {:.6} s, after {} events (trace hash so far {hash})",
                s.simulated_seconds, s.events
            )?;
        }
    }
    if let Some(cut) = &s.inconclusive {
        writeln!(out, "CUT SHORT ({}): {}", cut.reason, cut.detail)?;
    }
    for check in &s.checks {
        writeln!(
            out,
            "  {:<20} {:<8} {}",
            check.name,
            check.verdict.to_uppercase(),
            check.detail
        )?;
    }
    for skipped in &s.skipped {
        writeln!(
            out,
            "  {:<20} {:<8} {}",
            skipped.name, "SKIPPED", skipped.why
        )?;
    }
    if let Some(hash) = &s.trace_hash {
        writeln!(out, "trace hash {hash}")?;
    }
    if let Some(report) = &s.determinism {
        writeln!(out, "determinism: {}", report.text)?;
    }
    writeln!(out, "{}", verdict_line(s))?;
    if let Some(dir) = &s.out_dir {
        writeln!(
            out,
            "wrote {dir}/ (resolved.ron reproduces this run: faultline run {dir}/resolved.ron)"
        )?;
    }
    if let Some(report) = &s.report {
        writeln!(out, "report: {report}")?;
    }
    writeln!(out, "reproduce: {}", s.reproduce)
}

/// `faultline run`'s flags, as clap reads them (the command's help is
/// its variant's doc comment in `cli/mod.rs`).
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// A scenario file, or a curated scenario's name (`faultline list`).
    pub scenario: PathBuf,
    /// The seed; defaults to the scenario's `seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output directory; defaults to faultline-out/<name>/seed-<seed>.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override a field: --set network.default.loss=0.1 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// The run's memory budget, e.g. 512MiB or 4GiB (the scenario's
    /// limits.memory, 1GiB by default). Past it the run stops as
    /// inconclusive (exit 3).
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// Seconds between progress lines on stderr while the engine runs
    /// (simulated time reached, events, events/s).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub progress_every: f64,
    /// Run the seed twice and compare the traces: prints the first
    /// diverging event with both sides (exit 1), or that they agree.
    #[arg(long)]
    pub check_determinism: bool,
    /// Wall time the run may take, e.g. 30s or 5m; past it the run
    /// stops as inconclusive (exit 3), never with a verdict.
    #[arg(long, value_name = "TIME")]
    pub timeout: Option<String>,
    /// Skip the charts and report.html (written by default).
    #[arg(long)]
    pub no_report: bool,
    #[command(flatten)]
    pub window: super::WindowArgs,
}

/// Runs `faultline run` from its flags.
pub fn from_args(
    args: RunArgs,
    json: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, CliError> {
    let RunArgs {
        scenario,
        seed,
        out,
        mut sets,
        memory,
        progress_every,
        check_determinism,
        timeout,
        no_report,
        window,
    } = args;
    let report = window.options()?;
    let timeout = super::wall_timeout(timeout)?;
    // --memory is a --set of limits.memory, so that the reproduce
    // command and resolved.ron carry it.
    sets.extend(memory.map(|m| format!("limits.memory={m}")));
    let every = super::progress_interval(progress_every)?;
    let options = RunOptions {
        seed,
        out,
        sets,
        json,
        progress_every: every,
        check_determinism,
        timeout,
        report: (!no_report).then_some(report),
    };
    run(&scenario, options, stdout, stderr)
}

/// The run's verdict in one line: why it is inconclusive, when it is.
fn verdict_line(s: &run_output::RunSummary) -> String {
    match (s.verdict, &s.inconclusive) {
        (RunVerdict::Pass, _) => "PASS".to_string(),
        (RunVerdict::Inconclusive, Some(cut)) => format!(
            "INCONCLUSIVE: the run stopped at {:.3} s of {:.3} s simulated ({}); nothing failed before that",
            s.simulated_seconds, s.duration_seconds, cut.reason
        ),
        (RunVerdict::Inconclusive, None) => format!(
            "INCONCLUSIVE: {} ran out of budget ({})",
            if s.unknown.len() == 1 { "a check" } else { "checks" },
            s.unknown.join(", ")
        ),
        (RunVerdict::Fail, _) => "FAIL".to_string(),
    }
}
