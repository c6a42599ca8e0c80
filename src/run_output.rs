//! One seed of one scenario, as the CLI runs it: timed, with panics caught,
//! summarised, and written to an output directory.

use crate::panic_capture;
pub use scenarios::reproduce::{reproduce_command, shell_word};
use scenarios::run::{Inconclusive, PanicProgress, RunOutcome, RunVerdict, Skipped};
use scenarios::Scenario;
use serde::Serialize;
use sim_core::checker::Verdict;
use std::io::Write;
use std::path::Path;

/// A check's line in a summary.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct CheckLine {
    pub name: String,
    pub verdict: String,
    pub detail: String,
}

/// What `run` prints and writes as summary.json.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub scenario: String,
    pub seed: u64,
    /// "pass", "fail" or "inconclusive" (a panic is a fail).
    pub verdict: RunVerdict,
    pub simulated_seconds: f64,
    /// The scenario's duration: a run cut short reached less.
    pub duration_seconds: f64,
    pub events: u64,
    pub wall_seconds: f64,
    /// Of the wall time: the engine's, and the checks' after it.
    pub engine_seconds: f64,
    pub checks_seconds: f64,
    /// Events per second of the engine's time (checks not counted).
    pub events_per_second: f64,
    pub stop_reason: Option<sim_core::StopReason>,
    /// Set when the run stopped before its end: why, and how far it got.
    pub inconclusive: Option<Inconclusive>,
    pub trace_hash: Option<String>,
    pub checks: Vec<CheckLine>,
    /// Checks left out because the seed's verdict was already decided.
    pub skipped: Vec<Skipped>,
    pub passed: bool,
    pub failed: Vec<String>,
    pub unknown: Vec<String>,
    /// A protocol panic: the message and where it happened. The simulated
    /// time, events and trace hash above are then those at the panic.
    pub panic: Option<String>,
    /// The memory estimate's peak and the run's budget, in bytes.
    pub memory_peak_bytes: u64,
    pub memory_budget_bytes: u64,
    pub reproduce: String,
    pub out_dir: Option<String>,
    /// The run's `report.html`, when one was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// With `--check-determinism`: how the second run compared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub determinism: Option<DeterminismReport>,
}

/// Two runs of one seed, compared (`run --check-determinism`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DeterminismReport {
    pub deterministic: bool,
    /// The first event (trace record index) where the runs differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diverged_at: Option<usize>,
    /// Both sides of that event, as `trace.jsonl` writes them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub second: Option<serde_json::Value>,
    pub trace_hashes: (String, String),
    /// The comparison in words.
    pub text: String,
}

/// Compares two runs of one seed, each with its trace recorded.
pub fn compare_runs(
    first: &Result<RunOutcome, Panicked>,
    second: &Result<RunOutcome, Panicked>,
) -> DeterminismReport {
    use sim_core::determinism::{compare_traces, DeterminismVerdict};
    use sim_core::trace::format_hash;
    let (a, b) = match (first, second) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return compare_panicked(first, second),
    };
    let hashes = (a.trace_hash, b.trace_hash);
    let trace_hashes = (format_hash(hashes.0), format_hash(hashes.1));
    let as_json = |r: &Option<sim_core::trace::TraceRecord>| {
        r.as_ref()
            .map(|r| serde_json::to_value(r).expect("serialisable"))
    };
    match compare_traces(&a.trace, &b.trace, hashes, a.stats.events) {
        DeterminismVerdict::Deterministic { trace_hash, events } => DeterminismReport {
            deterministic: true,
            diverged_at: None,
            first: None,
            second: None,
            text: format!(
                "the seed ran twice with the same trace ({events} events, trace hash {})",
                format_hash(trace_hash)
            ),
            trace_hashes,
        },
        DeterminismVerdict::Diverged(d) => {
            let (first, second) = (as_json(&d.first), as_json(&d.second));
            let show = |v: &Option<serde_json::Value>| {
                v.as_ref()
                    .map_or("(nothing)".to_string(), |v| v.to_string())
            };
            let text = if d.first.is_none() && d.second.is_none() {
                format!(
                    "NONDETERMINISTIC: the recorded traces agree for {} events but the trace hashes differ ({} vs {}); raise outputs.trace_events_max to see where",
                    d.index, trace_hashes.0, trace_hashes.1
                )
            } else {
                format!(
                    "NONDETERMINISTIC: the runs diverged at event {}\n  first run:  {}\n  second run: {}",
                    d.index,
                    show(&first),
                    show(&second)
                )
            };
            DeterminismReport {
                deterministic: false,
                diverged_at: Some(d.index),
                first,
                second,
                trace_hashes,
                text,
            }
        }
    }
}

/// Two runs of which one or both panicked: a panic ends a run, so compare
/// where each got to.
fn compare_panicked(
    first: &Result<RunOutcome, Panicked>,
    second: &Result<RunOutcome, Panicked>,
) -> DeterminismReport {
    use sim_core::trace::format_hash;
    let hash = |r: &Result<RunOutcome, Panicked>| match r {
        Ok(o) => format_hash(o.trace_hash),
        Err(p) => p
            .progress
            .as_ref()
            .map_or("none".into(), |p| format_hash(p.trace_hash)),
    };
    let hashes = (hash(first), hash(second));
    let same = hashes.0 == hashes.1 && first.is_err() == second.is_err();
    DeterminismReport {
        deterministic: same,
        diverged_at: None,
        first: None,
        second: None,
        text: if same {
            format!(
                "both runs panicked at the same point (trace hash {})",
                hashes.0
            )
        } else {
            format!(
                "the runs ended differently (trace hashes {} vs {})",
                hashes.0, hashes.1
            )
        },
        trace_hashes: hashes,
    }
}

/// A run whose protocol code panicked: the message with its location, and
/// how far the run got.
#[derive(Clone, Debug)]
pub struct Panicked {
    pub message: String,
    pub progress: Option<PanicProgress>,
}

/// Where a run's wall time went: the engine, then the checks.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timing {
    pub wall_seconds: f64,
    /// Until the engine stopped (all of it for a run that panicked).
    pub engine_seconds: f64,
}

/// Times a run's phases and, given a log, prints a progress line every
/// `every` while the engine runs.
struct Watcher<'a> {
    started: std::time::Instant,
    engine_done: Option<std::time::Instant>,
    log: Option<&'a mut dyn Write>,
    every: std::time::Duration,
    last_line: std::time::Instant,
    duration_ns: u64,
    /// The wall-clock budget (`--timeout`): past it the run stops, inconclusive.
    timeout: Option<std::time::Duration>,
}

impl scenarios::RunWatcher for Watcher<'_> {
    fn running(&mut self, simulated_ns: u64, events: u64) {
        let Some(log) = self.log.as_mut() else {
            return;
        };
        if self.last_line.elapsed() < self.every {
            return;
        }
        self.last_line = std::time::Instant::now();
        let seconds = self.started.elapsed().as_secs_f64();
        let _ = writeln!(
            log,
            "progress: simulated {:.3} s of {:.3} s ({:.0}%), {:.2} M events, {:.2} M events/s, {:.0} s elapsed",
            simulated_ns as f64 / 1e9,
            self.duration_ns as f64 / 1e9,
            simulated_ns as f64 * 100.0 / (self.duration_ns.max(1)) as f64,
            events as f64 / 1e6,
            events as f64 / 1e6 / seconds.max(1e-9),
            seconds
        );
    }

    fn cancel(&mut self) -> Option<String> {
        let timeout = self.timeout?;
        (self.started.elapsed() > timeout).then(|| {
            format!(
                "its wall-clock budget of {} (--timeout) ran out; the verdict is unknown. Give it longer, or look for what makes the run slow",
                sim_core::SimDuration::from_nanos(timeout.as_nanos() as u64)
            )
        })
    }

    fn engine_done(&mut self) {
        self.engine_done = Some(std::time::Instant::now());
    }
}

/// Runs one resolved scenario; `Err` only for input the validator could
/// not judge before the run (a binding such as "@leader" that overlaps).
/// With `progress`, a line goes there every `every` while the engine runs;
/// with `timeout`, the run stops there, inconclusive (`cancelled`).
pub fn execute(
    resolved: &Scenario,
    progress: Option<(&mut dyn Write, std::time::Duration)>,
    timeout: Option<std::time::Duration>,
) -> Result<(Result<RunOutcome, Panicked>, Timing), scenarios::run::RunError> {
    // Wall time is measured here, outside simulation code (ARCHITECTURE.md, invariant 2).
    let started = std::time::Instant::now();
    let (log, every) = match progress {
        Some((log, every)) => (Some(log), every),
        None => (None, std::time::Duration::MAX),
    };
    let mut watcher = Watcher {
        started,
        engine_done: None,
        log,
        every,
        last_line: started,
        duration_ns: resolved.duration.0.as_nanos(),
        timeout,
    };
    let result = match panic_capture::catch(|| scenarios::run_watched(resolved, &mut watcher)) {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(input_error)) => return Err(input_error),
        Err(caught) => Err(Panicked {
            message: caught.text,
            progress: caught.payload.downcast_ref::<PanicProgress>().cloned(),
        }),
    };
    let ended = std::time::Instant::now();
    let timing = Timing {
        wall_seconds: (ended - started).as_secs_f64(),
        engine_seconds: (watcher.engine_done.unwrap_or(ended) - started).as_secs_f64(),
    };
    Ok((result, timing))
}

pub fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Unknown => "unknown",
    }
}

pub fn summarise(
    resolved: &Scenario,
    result: &Result<RunOutcome, Panicked>,
    timing: Timing,
    reproduce: String,
) -> RunSummary {
    let base = base_summary(resolved, &timing, reproduce);
    match result {
        Err(panic) => RunSummary {
            panic: Some(panic.message.clone()),
            simulated_seconds: panic
                .progress
                .as_ref()
                .map_or(0.0, |p| p.simulated_ns as f64 / 1e9),
            events: panic.progress.as_ref().map_or(0, |p| p.events),
            trace_hash: panic
                .progress
                .as_ref()
                .map(|p| sim_core::trace::format_hash(p.trace_hash)),
            ..base
        },
        Ok(outcome) => RunSummary {
            verdict: outcome.verdict(),
            simulated_seconds: outcome.simulated_ns as f64 / 1e9,
            events: outcome.stats.events,
            events_per_second: outcome.stats.events as f64 / timing.engine_seconds.max(1e-9),
            stop_reason: Some(outcome.stop_reason),
            inconclusive: outcome.inconclusive.clone(),
            skipped: outcome.skipped.clone(),
            memory_peak_bytes: outcome.memory_peak_bytes,
            trace_hash: Some(sim_core::trace::format_hash(outcome.trace_hash)),
            checks: outcome
                .checks
                .iter()
                .map(|c| CheckLine {
                    name: c.name.clone(),
                    verdict: verdict_name(c.verdict).into(),
                    detail: c.detail.clone(),
                })
                .collect(),
            passed: outcome.passed(),
            failed: outcome.failed(),
            unknown: outcome.unknown(),
            ..base
        },
    }
}

/// A summary with what every run has (the scenario, seed, timing and
/// budget), read as a panic until the outcome says otherwise.
fn base_summary(resolved: &Scenario, timing: &Timing, reproduce: String) -> RunSummary {
    RunSummary {
        scenario: resolved.name.clone(),
        seed: resolved.seed,
        verdict: RunVerdict::Fail,
        simulated_seconds: 0.0,
        duration_seconds: resolved.duration.0.as_nanos() as f64 / 1e9,
        events: 0,
        wall_seconds: timing.wall_seconds,
        engine_seconds: timing.engine_seconds,
        checks_seconds: (timing.wall_seconds - timing.engine_seconds).max(0.0),
        events_per_second: 0.0,
        stop_reason: None,
        inconclusive: None,
        trace_hash: None,
        checks: Vec::new(),
        skipped: Vec::new(),
        passed: false,
        failed: vec!["panic".into()],
        unknown: Vec::new(),
        panic: None,
        memory_peak_bytes: 0,
        memory_budget_bytes: resolved.limits.memory.0,
        reproduce,
        out_dir: None,
        report: None,
        determinism: None,
    }
}

/// Writes the run's files into `dir`: resolved.ron, summary.json and, as
/// the scenario's outputs ask, history.jsonl, metrics.json, checks.json and trace.jsonl.
/// The version of `trace.jsonl`'s line schema (`v` in every line). It
/// changes when a field changes meaning or goes; new optional fields do
/// not change it.
pub const TRACE_SCHEMA_VERSION: u32 = 1;

/// One line of `trace.jsonl`; the schema is documented in
/// scenarios/README.md ("trace.jsonl").
#[derive(Serialize)]
pub struct TraceLine<'a> {
    pub v: u32,
    /// True time of the event, in nanoseconds from the start.
    pub time_ns: u64,
    pub kind: &'static str,
    /// Why a message was dropped (`drop` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// The node the event happened at, by its scenario name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<&'a str>,
    /// The other end of a message: the receiver of a `send`, the sender
    /// of a `deliver`, `drop`, `hold` or `defer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<&'a str>,
    /// A message's id, the same on its send and its delivery or drop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<u64>,
    /// The message, timer or fault in words (Rust `Debug` form, node ids
    /// replaced by names).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl<'a> TraceLine<'a> {
    pub fn of(record: &sim_core::trace::TraceRecord, names: &'a [String]) -> Self {
        let name = |id: Option<sim_core::NodeId>| {
            id.and_then(|id| names.get(id.index()).map(String::as_str))
        };
        TraceLine {
            v: TRACE_SCHEMA_VERSION,
            time_ns: record.time.as_nanos(),
            kind: record.kind.name(),
            reason: match record.kind {
                sim_core::TraceKind::Drop(reason) => Some(reason.name()),
                _ => None,
            },
            node: name(record.node),
            peer: name(record.peer),
            message: record.message.map(|m| m.0),
            detail: scenarios::run::with_node_names(&record.detail, names),
        }
    }
}

/// Writes a run's charts and `report.html` into `dir` from what the run
/// holds, as its files hold it (no reading back); returns the report's path.
pub fn write_report(
    dir: &Path,
    resolved: &Scenario,
    outcome: &RunOutcome,
    summary: &RunSummary,
    options: &reports::run_report::RunOptions,
) -> Result<reports::run_report::Written, String> {
    let outputs = &resolved.outputs;
    let metrics = outputs.metrics.then(|| metrics_json(outcome));
    let checks = serde_json::to_value(&outcome.checks).expect("serialisable");
    let summary_json = serde_json::to_value(summary).expect("serialisable");
    let data = reports::run_report::RunData {
        resolved,
        history: outputs.history.then_some(&outcome.history),
        metrics: metrics.as_ref(),
        checks: Some(&checks),
        summary: Some(&summary_json),
    };
    reports::run_report::write(dir, &data, options).map_err(|e| e.to_string())
}

/// What `metrics.json` holds: the run's metrics and the engine's counters.
pub fn metrics_json(outcome: &RunOutcome) -> serde_json::Value {
    serde_json::json!({ "run": outcome.metrics, "engine": outcome.stats })
}

/// Every file a run may write into its folder.
pub const RUN_FILES: [&str; 8] = [
    "resolved.ron",
    "history.jsonl",
    "mutex.edn",
    "metrics.json",
    "checks.json",
    "counterexample.html",
    "trace.jsonl",
    "summary.json",
];

/// Writes a run's files into `dir`. A run's folder holds only what that run
/// wrote: the files an earlier run left there (a counterexample of a
/// failing run, say, under a passing one) are removed first. Other files
/// are the user's and are left alone.
pub fn write_outputs(
    dir: &Path,
    resolved: &Scenario,
    result: &Result<RunOutcome, Panicked>,
    summary: &RunSummary,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for file in RUN_FILES.iter().chain(&reports::run_report::REPORT_FILES) {
        match std::fs::remove_file(dir.join(file)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    std::fs::write(dir.join("resolved.ron"), scenarios::to_ron(resolved))?;
    if let Ok(outcome) = result {
        if resolved.outputs.history {
            let mut file =
                std::io::BufWriter::new(std::fs::File::create(dir.join("history.jsonl"))?);
            outcome.history.write_jsonl(&mut file)?;
            file.flush()?;
            // A lock's own acquires and releases, for `faultline check
            // mutex.edn --model mutex`.
            if let Some(mutex) = &outcome.metrics.mutex_history {
                let text = sim_core::workload::mutex::write_edn(&mutex.ops);
                std::fs::write(dir.join("mutex.edn"), text)?;
            }
        }
        if resolved.outputs.metrics {
            let metrics = metrics_json(outcome);
            std::fs::write(
                dir.join("metrics.json"),
                serde_json::to_string_pretty(&metrics)? + "\n",
            )?;
        }
        std::fs::write(
            dir.join("checks.json"),
            serde_json::to_string_pretty(&outcome.checks)? + "\n",
        )?;
        write_counterexamples(dir, resolved, outcome, summary)?;
        if resolved.outputs.trace {
            let mut file = std::io::BufWriter::new(std::fs::File::create(dir.join("trace.jsonl"))?);
            let names = scenarios::validate::all_node_names(resolved);
            for record in &outcome.trace {
                serde_json::to_writer(&mut file, &TraceLine::of(record, &names))?;
                file.write_all(b"\n")?;
            }
            file.flush()?;
        }
    }
    std::fs::write(
        dir.join("summary.json"),
        serde_json::to_string_pretty(summary)? + "\n",
    )?;
    Ok(())
}

/// A failing check's counterexample page: a transactional check's
/// anomalies, in words and drawn, or a register check's timeline.
fn write_counterexamples(
    dir: &Path,
    resolved: &Scenario,
    outcome: &RunOutcome,
    summary: &RunSummary,
) -> std::io::Result<()> {
    // A failing transactional check: every anomaly, in words and drawn.
    for entry in std::fs::read_dir(dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with("counterexample-") && (name.ends_with(".svg") || name.ends_with(".png"))
        {
            std::fs::remove_file(entry.path())?;
        }
    }
    if resolved.outputs.history {
        let checks = serde_json::to_value(&outcome.checks)?;
        let t = resolved.workload.transactions.clone().unwrap_or_default();
        let models: Vec<sim_core::txn::models::Model> = t
            .models()
            .iter()
            .filter_map(|m| sim_core::txn::models::Model::parse(m))
            .collect();
        if let Some((txns, report)) = reports::cycle::failing_run_check(
            &outcome.history,
            &checks,
            u64::from(resolved.workload.clients),
            &models,
        ) {
            let title = format!("{} seed {}", resolved.name, resolved.seed);
            reports::cycle::write_page(&txns, &report, &title, &dir.join("counterexample.html"))
                .map_err(std::io::Error::other)?;
        }
    }
    for check in &outcome.checks {
        if let Some(cx) = &check.counterexample {
            let title = format!("{} seed {}", resolved.name, resolved.seed);
            let bands = reports::bands::fault_bands(
                &resolved.faults.schedule,
                resolved.duration.0.as_nanos(),
                &outcome.metrics.fault_bindings,
            );
            // The report (when written) draws the same window's messages.
            let lamport = summary.report.is_some().then_some("report.html#space-time");
            let clients = u64::from(resolved.workload.clients);
            let name_of = |p: u64| scenarios::names::client_of_process(p, clients);
            let page =
                reports::timeline::render(&outcome.history, cx, &title, &bands, lamport, &name_of);
            std::fs::write(dir.join("counterexample.html"), page)?;
        }
    }
    Ok(())
}
