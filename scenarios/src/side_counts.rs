//! One side of a partition that named clients, counted: the one shape a
//! side's numbers take in a run's metrics (`metrics::SideAvailability`), a
//! sweep's results line (`UnitConsistency::sides`), a group's sums
//! (`GroupConsistency::sides`), its CSV row and its report.

use serde::{Deserialize, Serialize};

/// What the clients on one side of a partition got while it lasted.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SideCounts {
    /// The side's nodes, servers and clients, as the fault names them,
    /// joined by '+'.
    pub side: String,
    /// The operations its clients invoked during the partition, by outcome.
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
    /// Of the `fail`s, those the client gave itself at its deadline, every
    /// attempt refused: not served. The rest a server answered "no" (a
    /// mismatched compare-and-set, an abort), which is served.
    #[serde(default)]
    pub gave_up: u64,
    /// Of its ok reads the staleness measure could judge, how many missed
    /// a write that had completed before they began (the consistency side
    /// of the CAP choice).
    pub reads: u64,
    pub stale_reads: u64,
    /// The partition's `SIDE_WINDOW_MS` windows, and those in which one of
    /// its clients got a server's answer: availability over time, which a
    /// share of operations hides (a side that answers for 200 ms and then
    /// hangs its clients on 500 ms timeouts has most of its few operations ok).
    #[serde(default)]
    pub windows: u64,
    #[serde(default)]
    pub windows_served: u64,
}

/// The names of `SideCounts::by_outcome`'s counts.
pub const OUTCOME_LABELS: [&str; 3] = [
    "served (ok, or a server's no)",
    "gave up (refused)",
    "unknown",
];

/// The width of a side's availability windows.
pub const SIDE_WINDOW_MS: u64 = 100;

impl SideCounts {
    /// The operations its clients invoked.
    pub fn total(&self) -> u64 {
        self.ok + self.fail + self.info
    }

    /// The operations a server answered: ok, or "no".
    pub fn served(&self) -> u64 {
        debug_assert!(self.gave_up <= self.fail);
        self.ok + self.fail - self.gave_up.min(self.fail)
    }

    /// Its operations as a stacked bar draws them: served, given up
    /// (refused), unknown (`OUTCOME_LABELS`).
    pub fn by_outcome(&self) -> [u64; 3] {
        [self.served(), self.gave_up.min(self.fail), self.info]
    }

    /// served / (ok + fail + info); None when its clients invoked nothing.
    pub fn availability(&self) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| self.served() as f64 / total as f64)
    }

    /// The share of the partition's windows with an ok answer.
    pub fn time_served(&self) -> Option<f64> {
        (self.windows > 0).then(|| self.windows_served as f64 / self.windows as f64)
    }

    /// Judged reads that saw every completed write.
    pub fn fresh_reads(&self) -> u64 {
        self.reads - self.stale_reads.min(self.reads)
    }

    /// Adds another run's counts of the same side.
    pub fn add(&mut self, other: &SideCounts) {
        debug_assert_eq!(self.side, other.side, "sums are per side");
        self.ok += other.ok;
        self.fail += other.fail;
        self.info += other.info;
        self.gave_up += other.gave_up;
        self.reads += other.reads;
        self.stale_reads += other.stale_reads;
        self.windows += other.windows;
        self.windows_served += other.windows_served;
        debug_assert!(self.stale_reads <= self.reads && self.windows_served <= self.windows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_come_from_the_counts_and_sums_add_field_by_field() {
        let mut side = SideCounts {
            side: "n1+client1".into(),
            ok: 3,
            fail: 2,
            info: 1,
            gave_up: 1,
            reads: 2,
            stale_reads: 1,
            windows: 10,
            windows_served: 4,
        };
        // A "no" from a server is served; a give-up and an unknown are not.
        assert_eq!(side.availability(), Some(4.0 / 6.0));
        assert_eq!(side.time_served(), Some(0.4));
        side.add(&side.clone());
        assert_eq!(
            (
                side.ok,
                side.fail,
                side.gave_up,
                side.reads,
                side.windows_served
            ),
            (6, 4, 2, 4, 8)
        );
        assert_eq!(side.fresh_reads(), 2);
        assert_eq!(SideCounts::default().availability(), None);
        assert_eq!(SideCounts::default().time_served(), None);
    }
}
