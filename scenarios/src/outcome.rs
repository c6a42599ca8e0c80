//! What a run reports, in parts that the engine drive and the checks both
//! use: each check's result, why a run is inconclusive, the verdict, a
//! panic's progress, and the watcher that hears how a run goes.

use crate::schema::Expect;
use protocols::invariant::Violation;
use serde::Serialize;
use sim_core::checker::linearizability::Counterexample;
use sim_core::checker::Verdict;

/// One check's result.
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub name: String,
    pub verdict: Verdict,
    /// One line for people.
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Counterexample>,
}

impl CheckResult {
    /// What failed, by name: each violated invariant, or the check itself;
    /// nothing if it did not fail.
    pub fn failed_names(&self) -> Vec<&str> {
        match self.verdict {
            Verdict::Fail if self.violations.is_empty() => vec![self.name.as_str()],
            Verdict::Fail => self.violations.iter().map(|v| v.invariant).collect(),
            Verdict::Pass | Verdict::Unknown => Vec::new(),
        }
    }
}

/// Why a run's verdict is inconclusive: it stopped before its end, at a limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Inconclusive {
    /// The stop reason's name: `memory_limit`, `queue_limit`, `event_limit`
    /// or `protocol_limit`.
    pub reason: &'static str,
    /// For people: which limit, and how to lift it.
    pub detail: String,
    /// Simulated time reached, against the scenario's duration.
    pub simulated_ns: u64,
    pub duration_ns: u64,
}

/// A check that did not run, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub name: String,
    pub why: String,
}

/// The verdict of a run as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunVerdict {
    /// The run went to its end and every check passed.
    Pass,
    /// A check failed. A failure found before a limit cut the run short is
    /// still a failure: what was seen happened.
    Fail,
    /// Nothing failed, but the run was cut short or a check ran out of budget.
    Inconclusive,
}

/// What a run had reached when protocol code panicked: carried as the panic
/// payload (the run re-raises the panic with it), so that whoever catches
/// the panic can say how far the run got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanicProgress {
    /// The panic's own message.
    pub message: String,
    pub simulated_ns: u64,
    pub events: u64,
    /// The trace hash up to the panicking event (that event included).
    pub trace_hash: u64,
    /// The events recorded up to the panic (when recording was on), so a
    /// replay can draw what led to it.
    pub trace: Vec<sim_core::TraceRecord>,
}

/// A panic payload's text (for a `PanicProgress`, the panic's own message).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else if let Some(progress) = payload.downcast_ref::<PanicProgress>() {
        progress.message.clone()
    } else {
        "a panic with a non-text payload".to_string()
    }
}

/// Whether a failed check `name` counts as one the scenario expects.
pub fn expected_violation(expect: &Expect, name: &str) -> bool {
    match expect {
        Expect::Pass => false,
        Expect::Violation(names) | Expect::Allow(names) => names.iter().any(|n| n == name),
    }
}

/// What the runner tells its caller as a run goes, for progress and timing.
/// The caller may read a wall clock here; the runner never does
/// (ARCHITECTURE.md, invariant 2), and nothing a watcher does changes the
/// run.
pub trait RunWatcher {
    /// The engine is running: simulated time and events so far. Called
    /// after each batch of outputs, and at least every million or so events
    /// (`SLICE_EVENTS`), even while simulated time stands still.
    fn running(&mut self, _simulated_ns: u64, _events: u64) {}
    /// Asked after each call of `running`: `Some(why)` stops the run
    /// there, inconclusive (`cancelled`), with `why` as its detail. This is
    /// how a wall-clock budget ends a run (`faultline run --timeout`): the
    /// only way the machine's speed can enter an outcome, and only when the
    /// caller asks for it, and never as a verdict.
    fn cancel(&mut self) -> Option<String> {
        None
    }
    /// The engine has stopped; the checks start.
    fn engine_done(&mut self) {}
}

/// A watcher that does nothing.
impl RunWatcher for () {}
