//! The determinism self-check: run the same seed twice and compare traces.
//!
//! Both runs record their traces (bounded by `records_max`). If the traces
//! differ, the first diverging event is reported with both sides; if the
//! recorded windows agree but the final hashes differ, the divergence lies
//! beyond the window and is reported as such.

use crate::engine::{Simulation, Stop};
use crate::protocol::Protocol;
use crate::trace::{format_hash, TraceRecord};
use std::fmt;

/// How a determinism check ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeterminismVerdict {
    /// Both runs produced this trace hash.
    Deterministic {
        trace_hash: u64,
        events: u64,
    },
    Diverged(Divergence),
}

/// The first point where two runs of one seed differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Index of the first differing record (equal to the window length when
    /// the difference lies beyond the recorded window).
    pub index: usize,
    pub first: Option<TraceRecord>,
    pub second: Option<TraceRecord>,
    pub hashes: (u64, u64),
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the two runs diverged at event {} (trace hashes {} vs {})",
            self.index,
            format_hash(self.hashes.0),
            format_hash(self.hashes.1)
        )?;
        writeln!(f, "  first run:  {:?}", self.first)?;
        write!(f, "  second run: {:?}", self.second)
    }
}

/// Builds the simulation twice with `build`, runs each to `stop` with
/// recording on, and compares. `records_max` bounds each trace's memory.
pub fn self_check<P: Protocol>(
    mut build: impl FnMut() -> Simulation<P>,
    stop: Stop,
    records_max: usize,
) -> DeterminismVerdict {
    let mut run = || {
        let mut sim = build();
        sim.record_trace(true, records_max);
        sim.run(stop);
        sim
    };
    let first = run();
    let second = run();
    compare(&first, &second)
}

fn compare<P: Protocol>(first: &Simulation<P>, second: &Simulation<P>) -> DeterminismVerdict {
    compare_traces(
        first.trace_records(),
        second.trace_records(),
        (first.trace_hash(), second.trace_hash()),
        first.stats().events,
    )
}

/// Compares two runs of one seed by their recorded traces and final trace
/// hashes (`events` is the first run's count, reported when they agree).
/// Used by `self_check`, and by the CLI's `--check-determinism`, which runs
/// a whole scenario twice.
pub fn compare_traces(
    a: &[TraceRecord],
    b: &[TraceRecord],
    hashes: (u64, u64),
    events: u64,
) -> DeterminismVerdict {
    if let Some(index) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
        return DeterminismVerdict::Diverged(Divergence {
            index,
            first: a.get(index).cloned(),
            second: b.get(index).cloned(),
            hashes,
        });
    }
    if hashes.0 != hashes.1 {
        return DeterminismVerdict::Diverged(Divergence {
            index: a.len(),
            first: None,
            second: None,
            hashes,
        });
    }
    DeterminismVerdict::Deterministic {
        trace_hash: hashes.0,
        events,
    }
}
