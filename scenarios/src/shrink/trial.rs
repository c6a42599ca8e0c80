//! One candidate's run, reduced to what the search compares: which checks
//! failed (a panic is the failure "panic"), and the sizes the before/after
//! table reports.

use crate::run::{panic_message, RunOutcome, RunVerdict};
use crate::scenario::Scenario;
use serde::Serialize;
use std::panic::{self, AssertUnwindSafe};

/// The failure name a protocol panic goes by (as in a scenario's `expect`).
pub const PANIC: &str = "panic";

/// How a candidate's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialVerdict {
    Pass,
    Fail,
    Inconclusive,
    /// Protocol code panicked.
    Panic,
    /// The run refused its input (a binding the validator could not judge).
    InputError,
}

/// What one run of a candidate showed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trial {
    pub verdict: TrialVerdict,
    /// Failed checks and invariants by name, in check order; `["panic"]`
    /// for a panic.
    pub failed: Vec<String>,
    /// Engine events (at the panic, for a panic).
    pub events: u64,
    /// Operations in the history.
    pub operations: u64,
    /// The most operations one client issued.
    pub operations_per_client_max: u64,
    pub trace_hash: u64,
    /// The panic's message or the input error, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Trial {
    /// A run that went to its verdict.
    pub fn of(outcome: &RunOutcome) -> Trial {
        let mut per_client: Vec<u64> = Vec::new();
        for op in &outcome.history.operations {
            let i = op.process as usize;
            if per_client.len() <= i {
                per_client.resize(i + 1, 0);
            }
            per_client[i] += 1;
        }
        Trial {
            verdict: match outcome.verdict() {
                RunVerdict::Pass => TrialVerdict::Pass,
                RunVerdict::Fail => TrialVerdict::Fail,
                RunVerdict::Inconclusive => TrialVerdict::Inconclusive,
            },
            failed: outcome.failed(),
            events: outcome.stats.events,
            operations: outcome.history.len() as u64,
            operations_per_client_max: per_client.into_iter().max().unwrap_or(0),
            trace_hash: outcome.trace_hash,
            message: None,
        }
    }

    /// A run whose protocol code panicked with `message`; `events` and
    /// `trace_hash` as far as it got.
    pub fn panicked(message: String, events: u64, trace_hash: u64) -> Trial {
        Trial {
            verdict: TrialVerdict::Panic,
            failed: vec![PANIC.to_string()],
            events,
            operations: 0,
            operations_per_client_max: 0,
            trace_hash,
            message: Some(message),
        }
    }

    /// A run as caught: its outcome, the input error it refused, or a
    /// panic's text and payload (a `PanicProgress` says how far it got).
    pub fn of_caught(
        caught: Result<
            Result<RunOutcome, crate::run::RunError>,
            (String, Box<dyn std::any::Any + Send>),
        >,
    ) -> Trial {
        match caught {
            Ok(Ok(outcome)) => Trial::of(&outcome),
            Ok(Err(error)) => Trial::input_error(error.to_string()),
            Err((message, payload)) => {
                let (events, hash) = payload
                    .downcast_ref::<crate::run::PanicProgress>()
                    .map_or((0, 0), |p| (p.events, p.trace_hash));
                Trial::panicked(message, events, hash)
            }
        }
    }

    /// A run that refused its input.
    pub fn input_error(message: String) -> Trial {
        Trial {
            verdict: TrialVerdict::InputError,
            failed: Vec::new(),
            events: 0,
            operations: 0,
            operations_per_client_max: 0,
            trace_hash: 0,
            message: Some(message),
        }
    }

    /// Whether it failed `target`.
    pub fn fails(&self, target: &Target) -> bool {
        match target {
            Target::Check(name) => self.failed.iter().any(|f| f == name),
            Target::AnyFailure => !self.failed.is_empty(),
        }
    }
}

/// The failure a shrink keeps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// This check or invariant must fail (`"panic"` for a protocol panic).
    /// A candidate that fails only in another way does not count.
    Check(String),
    /// Any failure counts, a panic included.
    AnyFailure,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Check(name) => f.write_str(name),
            Target::AnyFailure => f.write_str("any failure"),
        }
    }
}

/// Runs a resolved scenario and reduces it to a `Trial`, catching a
/// protocol panic. The process's panic hook still prints the panic; the
/// CLI installs a quiet one, and a library caller may too.
pub fn run_trial(resolved: &Scenario) -> Trial {
    Trial::of_caught(
        panic::catch_unwind(AssertUnwindSafe(|| crate::run(resolved)))
            .map_err(|payload| (panic_message(payload.as_ref()), payload)),
    )
}
