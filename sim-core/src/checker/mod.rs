//! Consistency checkers over client histories.
//!
//! Limits: every search runs under a `Budget`. When it runs out the answer
//! is `Unknown`, never a guess. The budget counts search steps and memo
//! entries, which is deterministic; a caller that wants a wall-clock
//! deadline passes a `cancel` callback (simulation code never reads the
//! wall clock itself, ARCHITECTURE.md invariant 2).

pub mod convergence;
pub mod distinct_values;
pub mod explain;
pub mod family;
pub mod linearizability;
pub mod memo;
pub mod model;
pub mod sequential;
pub mod session;
pub mod staleness;
pub mod visibility;

use crate::history::{Operation, Outcome};
use model::Model;
use serde::Serialize;

/// Whether an operation takes part in a search. A failed operation took no
/// effect; an unknown read-only operation neither changed anything nor
/// reported anything. Neither constrains the history.
pub fn constrains<M: Model>(model: &M, op: &Operation) -> bool {
    match op.outcome {
        Outcome::Fail => false,
        Outcome::Info => !model.is_read_only(op),
        Outcome::Ok => true,
    }
}

/// The answer of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    /// The budget ran out first.
    Unknown,
}

/// How much work a search may do.
pub struct Budget<'a> {
    pub steps_max: u64,
    pub memo_entries_max: usize,
    /// Memory the search memo may hold, in bytes (estimated from its
    /// entries; states' shared heap data is not counted). Searches running
    /// in parallel share it.
    pub memo_bytes_max: usize,
    /// Polled every few thousand steps; `true` stops the search (Unknown).
    pub cancel: Option<&'a (dyn Fn() -> bool + Sync)>,
}

impl Default for Budget<'_> {
    fn default() -> Self {
        Budget {
            steps_max: 50_000_000,
            memo_entries_max: 5_000_000,
            memo_bytes_max: 1 << 30,
            cancel: None,
        }
    }
}
