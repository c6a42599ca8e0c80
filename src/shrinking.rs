//! A shrink as the CLI runs it: candidates run with panics caught quietly,
//! a wall-clock budget and progress lines, and the result written out as
//! a folder: `shrunk.ron`, `shrink.json`, and the shrunk run's own files
//! and report (so its space-time diagram shows the few faults left).
//! `faultline shrink` and `faultline sweep --shrink` both use it.

use crate::panic_capture;
use crate::run_output::{self, reproduce_command};
use scenarios::shrink::{self, Refusal, ShrinkWatcher, Shrunk, Size, Step, Stopped, Target, Trial};
use scenarios::Scenario;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// A wall-time budget as flags write it ("60s", "5m"), above 0.
pub fn parse_budget(text: &str) -> Result<Duration, String> {
    let d = sim_core::SimDuration::parse(text)
        .map_err(|e| format!("{text}: {e}; give a time such as 60s or 5m"))?;
    if d.as_nanos() == 0 {
        return Err(format!("{text}: give a time above 0s, such as 60s"));
    }
    Ok(Duration::from_nanos(d.as_nanos()))
}

/// How to shrink.
pub struct Params {
    pub target: Option<Target>,
    pub candidates_max: u64,
    pub jobs: usize,
    /// Wall time the search may take; it then stops with the best so far.
    pub budget: Duration,
    /// Between progress lines.
    pub progress_every: Duration,
}

/// Runs one candidate, a protocol panic caught without the default hook's
/// output (it is the failure "panic", with its location).
pub fn quiet_trial(resolved: &Scenario) -> Trial {
    Trial::of_caught(
        panic_capture::catch(|| scenarios::run(resolved)).map_err(|c| (c.text, c.payload)),
    )
}

/// Stops the search at its deadline and prints a progress line every so often.
struct Watcher<'a> {
    started: Instant,
    deadline: Instant,
    every: Duration,
    last_line: Instant,
    log: Option<&'a mut dyn Write>,
}

impl ShrinkWatcher for Watcher<'_> {
    fn progress(&mut self, p: &shrink::Progress) {
        let Some(log) = self.log.as_mut() else {
            return;
        };
        if self.last_line.elapsed() < self.every {
            return;
        }
        self.last_line = Instant::now();
        let _ = writeln!(
            log,
            "shrink: {} candidates, {} taken, pass {}; now {} faults, {} events, {} operations; {:.0} s elapsed",
            p.candidates,
            p.accepted,
            p.pass,
            p.size.faults,
            p.size.events,
            p.size.operations,
            self.started.elapsed().as_secs_f64()
        );
    }

    fn stop(&mut self) -> bool {
        Instant::now() >= self.deadline
    }
}

/// Shrinks `resolved` (a failing run), with progress lines on `log`.
pub fn search(
    resolved: &Scenario,
    params: &Params,
    log: Option<&mut dyn Write>,
) -> Result<(Shrunk, f64), Refusal> {
    let started = Instant::now();
    let mut watcher = Watcher {
        started,
        deadline: started + params.budget,
        every: params.progress_every,
        last_line: started,
        log,
    };
    let options = shrink::Options {
        target: params.target.clone(),
        candidates_max: params.candidates_max,
        jobs: params.jobs,
    };
    let shrunk = shrink::shrink(resolved, &options, &quiet_trial, &mut watcher)?;
    Ok((shrunk, started.elapsed().as_secs_f64()))
}

/// What `shrink` prints and writes as shrink.json.
#[derive(Clone, Debug, Serialize)]
pub struct ShrinkSummary {
    pub scenario: String,
    pub seed: u64,
    pub target: String,
    /// The shrunk run's failures.
    pub failed: Vec<String>,
    /// False when a budget stopped the search: the result is the best so far.
    pub complete: bool,
    pub stopped: Option<Stopped>,
    pub candidates: u64,
    pub wall_seconds: f64,
    pub before: Size,
    pub after: Size,
    pub steps: Vec<Step>,
    /// The original's faults that are gone, as the schedule writes them.
    pub removed: Vec<String>,
    pub shrunk: String,
    pub out_dir: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// Runs the shrunk scenario.
    pub reproduce: String,
    /// Reproduces the original failing run.
    pub original: String,
}

/// Why a shrink's folder was not written.
#[derive(Debug)]
pub enum WriteError {
    /// A file or folder that cannot be written.
    Output { path: String, message: String },
    /// The shrunk scenario, run again from its file, did not fail as the
    /// search saw it fail: the protocol is not deterministic.
    NotReproduced(String),
}

/// Writes the shrink's folder: `shrunk.ron`, the shrunk run's files (and
/// its report, given options), then `shrink.json`.
pub fn write(
    dir: &Path,
    shrunk: &Shrunk,
    wall_seconds: f64,
    original_reproduce: String,
    report: Option<&reports::run_report::RunOptions>,
) -> Result<ShrinkSummary, WriteError> {
    let output = |message: String| WriteError::Output {
        path: dir.display().to_string(),
        message,
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| output(format!("cannot create {}: {e}", dir.display())))?;
    let file = dir.join("shrunk.ron");
    std::fs::write(&file, shrunk.to_file())
        .map_err(|e| output(format!("cannot write {}: {e}", file.display())))?;
    let scenario = shrunk.file_scenario();
    let path = file.display().to_string();
    let reproduce = reproduce_command(&path, scenario.seed, &[]);
    let (result, timing) = run_again(&scenario, shrunk, &path)?;
    let mut run_summary = run_output::summarise(&scenario, &result, timing, reproduce.clone());
    run_summary.out_dir = Some(dir.display().to_string());
    let report_path = dir.join("report.html");
    if report.is_some() && result.is_ok() {
        run_summary.report = Some(report_path.display().to_string());
    }
    run_output::write_outputs(dir, &scenario, &result, &run_summary)
        .map_err(|e| output(format!("cannot write {}: {e}", dir.display())))?;
    let mut written_report = None;
    if let (Some(options), Ok(outcome)) = (report, &result) {
        let written = run_output::write_report(dir, &scenario, outcome, &run_summary, options)
            .map_err(|e| output(format!("cannot write the report: {e}")))?;
        written_report = Some(written.page.display().to_string());
    }
    let summary = ShrinkSummary {
        scenario: shrunk.scenario.name.clone(),
        seed: shrunk.scenario.seed,
        target: shrunk.target.to_string(),
        failed: shrunk.trial.failed.clone(),
        complete: shrunk.stopped.is_none(),
        stopped: shrunk.stopped,
        candidates: shrunk.candidates,
        wall_seconds,
        before: shrunk.before,
        after: shrunk.after,
        steps: shrunk.steps.clone(),
        removed: shrunk.removed_faults.iter().map(shrink::describe).collect(),
        shrunk: path,
        out_dir: dir.display().to_string(),
        report: written_report,
        reproduce,
        original: original_reproduce,
    };
    std::fs::write(
        dir.join("shrink.json"),
        serde_json::to_string_pretty(&summary).expect("serialisable") + "\n",
    )
    .map_err(|e| output(format!("cannot write shrink.json: {e}")))?;
    Ok(summary)
}

/// Runs the shrunk scenario once more as the file will be read: it must
/// fail the same check, or the protocol is not deterministic.
fn run_again(
    scenario: &Scenario,
    shrunk: &Shrunk,
    path: &str,
) -> Result<
    (
        Result<scenarios::RunOutcome, run_output::Panicked>,
        run_output::Timing,
    ),
    WriteError,
> {
    let not_reproduced = |failed: &[String]| {
        WriteError::NotReproduced(format!(
            "{path} did not fail {} when run again (it failed: {}), though the search saw it fail; the protocol is not deterministic (`faultline run {path} --check-determinism` shows where two runs part)",
            shrunk.target,
            if failed.is_empty() { "nothing".to_string() } else { failed.join(", ") }
        ))
    };
    let (result, timing) =
        run_output::execute(scenario, None, None).map_err(|e| not_reproduced(&[e.to_string()]))?;
    let again = match &result {
        Ok(outcome) => Trial::of(outcome),
        Err(panic) => Trial::panicked(panic.message.clone(), 0, 0),
    };
    if !again.fails(&shrunk.target) {
        return Err(not_reproduced(&again.failed));
    }
    Ok((result, timing))
}

/// The summary for people.
pub fn render(s: &ShrinkSummary, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "shrink {} seed {}: keeps {} failing",
        s.scenario, s.seed, s.target
    )?;
    let both = |f: fn(&Size) -> String| (f(&s.before), f(&s.after));
    writeln!(out, "  {:<12} {:>12} {:>12}", "", "before", "after")?;
    let rows = [
        ("faults", both(|z| z.faults.to_string())),
        ("events", both(|z| z.events.to_string())),
        ("operations", both(|z| z.operations.to_string())),
        ("clients", both(|z| z.clients.to_string())),
        ("servers", both(|z| z.servers.to_string())),
        (
            "duration",
            both(|z| sim_core::SimDuration::from_nanos(z.duration_ns).to_string()),
        ),
    ];
    for (name, (before, after)) in rows {
        writeln!(out, "  {name:<12} {before:>12} {after:>12}")?;
    }
    if !s.removed.is_empty() {
        writeln!(out, "removed faults ({}):", s.removed.len())?;
        const SHOWN: usize = 20;
        for fault in s.removed.iter().take(SHOWN) {
            writeln!(out, "  {fault}")?;
        }
        if s.removed.len() > SHOWN {
            writeln!(
                out,
                "  ... and {} more (shrink.json lists them all)",
                s.removed.len() - SHOWN
            )?;
        }
    }
    writeln!(
        out,
        "steps ({} taken of {} candidates, {:.1} s):",
        s.steps.len(),
        s.candidates,
        s.wall_seconds
    )?;
    for step in &s.steps {
        writeln!(out, "  {}: {}", step.pass, step.what)?;
    }
    match s.stopped {
        None => writeln!(out, "DONE: no smaller scenario fails {}", s.target)?,
        Some(Stopped::Candidates) => writeln!(
            out,
            "STOPPED at the candidate budget: this is the smallest found so far (raise --candidates to go on)"
        )?,
        Some(Stopped::Time) => writeln!(
            out,
            "STOPPED at the time budget: this is the smallest found so far (raise --budget to go on)"
        )?,
    }
    writeln!(out, "wrote {} (fails {})", s.shrunk, s.failed.join(", "))?;
    if let Some(report) = &s.report {
        writeln!(out, "report: {report}")?;
    }
    writeln!(out, "original: {}", s.original)?;
    writeln!(out, "reproduce: {}", s.reproduce)
}
