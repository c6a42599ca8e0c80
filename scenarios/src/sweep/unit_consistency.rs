//! What one run's reads saw and what its clients got, as a sweep's
//! results line carries it (`UnitResult::consistency`); `consistency.rs`
//! sums these per group into the sweep's CSV files.

use crate::RunOutcome;
use serde::{Deserialize, Serialize};
use sim_core::checker::staleness::VisibilityBin;
use sim_core::histogram::{LatencyHistogram, SparseHistogram};
use sim_core::history::{Function, Outcome};
use sim_core::SimDuration;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct UnitConsistency {
    pub reads: u64,
    pub stale_reads: u64,
    /// Reads by versions behind (the last slot: `BEHIND_MAX` or more).
    pub versions_behind: Vec<u64>,
    /// (bin, reads, consistent): arrays, not objects, since every run of
    /// a sweep writes one line of these (see `VisibilityBin`).
    pub visibility: Vec<(u32, u64, u64)>,
    pub read_latency: SparseHistogram,
    pub write_latency: SparseHistogram,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sides: Vec<UnitSide>,
    /// Index k: the share of the run with at least k servers up (runs
    /// with crashes only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers_up: Vec<f64>,
    /// (100 ms windows until the workload stopped, those with an ok write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_windows: Option<(u64, u64)>,
}

/// One side of a partition that named clients.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct UnitSide {
    /// The side's nodes, joined by '+'.
    pub side: String,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
    pub reads: u64,
    pub stale_reads: u64,
    /// The partition's 100 ms windows, and those with an ok answer.
    #[serde(default)]
    pub windows: u64,
    #[serde(default)]
    pub windows_served: u64,
}

impl UnitConsistency {
    pub fn of(outcome: &RunOutcome) -> UnitConsistency {
        let (mut reads, mut writes) = (LatencyHistogram::default(), LatencyHistogram::default());
        for op in &outcome.history.operations {
            let (Some(done), Outcome::Ok) = (op.complete_ns, op.outcome) else {
                continue;
            };
            let latency = SimDuration::from_nanos(done.saturating_sub(op.invoke_ns));
            match op.f {
                Function::Read => reads.record(latency),
                Function::Write => writes.record(latency),
                _ => {}
            }
        }
        let staleness = &outcome.metrics.staleness;
        UnitConsistency {
            reads: staleness.reads,
            stale_reads: staleness.stale_reads,
            versions_behind: staleness.versions_behind.clone(),
            visibility: staleness
                .visibility
                .iter()
                .map(|b: &VisibilityBin| (b.bin, b.reads, b.consistent))
                .collect(),
            read_latency: reads.to_sparse(),
            write_latency: writes.to_sparse(),
            sides: outcome
                .metrics
                .partition_sides
                .iter()
                .map(|s| UnitSide {
                    side: s.side.join("+"),
                    ok: s.ok,
                    fail: s.fail,
                    info: s.info,
                    reads: s.reads,
                    stale_reads: s.stale_reads,
                    windows: s.windows,
                    windows_served: s.windows_served,
                })
                .collect(),
            servers_up: outcome.metrics.servers_up.clone(),
            write_windows: outcome.metrics.write_windows,
        }
    }
}
