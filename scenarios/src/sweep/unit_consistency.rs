//! What one run's reads saw and what its clients got, as a sweep's
//! results line carries it (`UnitResult::consistency`); `consistency.rs`
//! sums these per group into the sweep's CSV files.

use crate::side_counts::SideCounts;
use crate::RunOutcome;
use serde::{Deserialize, Serialize};
use sim_core::checker::staleness::VisibilityBin;
use sim_core::checker::visibility::Thresholds;
use sim_core::histogram::SparseHistogram;

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
    pub sides: Vec<SideCounts>,
    /// Index k: the share of the run with at least k servers up (runs
    /// with crashes only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers_up: Vec<f64>,
    /// (100 ms windows until the workload stopped, those with an ok write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_windows: Option<(u64, u64)>,
    /// Each read's t-visibility threshold, where the protocol's monitor
    /// reports them (`sim_core::checker::visibility`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
}

impl UnitConsistency {
    pub fn of(outcome: &RunOutcome) -> UnitConsistency {
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
            read_latency: outcome.metrics.read_latency.to_sparse(),
            write_latency: outcome.metrics.write_latency.to_sparse(),
            sides: outcome
                .metrics
                .partition_sides
                .iter()
                .map(|s| s.counts.clone())
                .collect(),
            servers_up: outcome.metrics.servers_up.clone(),
            write_windows: outcome.metrics.write_windows,
            thresholds: outcome.metrics.visibility.clone(),
        }
    }
}
