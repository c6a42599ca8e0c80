//! Where snapshot isolation's timestamps come from, and what commit-wait
//! costs (Spanner's rule, Corbett et al., 2012).
//!
//! - `Oracle`: one server hands out strictly increasing numbers (Percolator's
//!   timestamp oracle): a transaction that begins after another committed
//!   gets a larger start timestamp, so it sees it, whatever the clocks.
//! - `LocalClocks`: each coordinator stamps with its own clock (in ns).
//!   Clocks that disagree can give a transaction that begins after
//!   another committed a start timestamp below that commit: it misses a
//!   write that finished before it began (a real-time order violation).
//!   Commit-wait restores the order: the coordinator answers a commit at
//!   `commit_ts` only once its own clock reads past `commit_ts` plus the
//!   bound on how far two clocks can disagree, so every transaction that
//!   begins after the answer starts above `commit_ts`.

use sim_core::SimDuration;

/// The timestamp source, as a scenario writes it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub enum TimestampSource {
    Oracle,
    /// Coordinators' clocks; `commit_wait`: wait out this bound on clock
    /// disagreement before answering a commit (zero: no wait).
    LocalClocks {
        commit_wait: sim_core::Dur,
    },
}

/// The oracle's state: the last timestamp it gave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Oracle {
    last: u64,
}

impl Oracle {
    /// The next timestamp: larger than every one given before.
    pub fn issue(&mut self) -> u64 {
        self.last += 1;
        self.last
    }

    /// The last timestamp given (or the floor it recovered from).
    pub fn peek(&self) -> u64 {
        self.last
    }

    /// After a restart from a durable high-water mark `floor` (a batch the
    /// oracle reserved on disk before handing any out), it never goes back.
    pub fn recover(floor: u64) -> Oracle {
        Oracle { last: floor }
    }
}

/// How long a coordinator whose clock reads `now_ns` waits before it
/// answers a commit stamped `commit_ts_ns`, under `bound` (Spanner's
/// commit-wait): until its clock passes `commit_ts + bound`.
pub fn commit_wait(commit_ts_ns: u64, now_ns: u64, bound: SimDuration) -> SimDuration {
    let until = commit_ts_ns.saturating_add(bound.as_nanos());
    SimDuration::from_nanos(until.saturating_sub(now_ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oracle_never_repeats_or_goes_back_even_across_a_restart() {
        let mut oracle = Oracle::default();
        let first: Vec<u64> = (0..3).map(|_| oracle.issue()).collect();
        assert_eq!(first, [1, 2, 3]);
        let mut again = Oracle::recover(1_000);
        assert_eq!(again.issue(), 1_001);
    }

    #[test]
    fn commit_wait_lasts_until_the_clock_passes_the_stamp_plus_the_bound() {
        let bound = SimDuration::from_millis(7);
        // Stamped at 100 ms by a clock now reading 100 ms: wait 7 ms.
        assert_eq!(commit_wait(100_000_000, 100_000_000, bound), bound);
        // The clock has moved on 5 ms since: 2 ms more.
        assert_eq!(
            commit_wait(100_000_000, 105_000_000, bound),
            SimDuration::from_millis(2)
        );
        // Past it already, or no bound: no wait.
        assert_eq!(
            commit_wait(100_000_000, 200_000_000, bound),
            SimDuration::ZERO
        );
        assert_eq!(
            commit_wait(100_000_000, 100_000_000, SimDuration::ZERO),
            SimDuration::ZERO
        );
    }

    /// The anomaly and its cure, on two clocks 5 ms apart: T1 commits at
    /// its coordinator's 100 ms; T2 begins right after on a clock 5 ms
    /// behind and starts at 95 ms, below T1's commit: it would miss T1.
    /// With a 5 ms commit-wait, T1 answers only when its clock reads
    /// 105 ms, when the slow clock reads 100 ms: T2 starts at or above it.
    #[test]
    fn commit_wait_of_the_skew_puts_a_later_start_at_or_above_the_commit() {
        let skew_ns = 5_000_000u64;
        let commit_ts = 100_000_000u64;
        let no_wait_start = commit_ts - skew_ns;
        assert!(no_wait_start < commit_ts, "misses the commit");
        let wait = commit_wait(commit_ts, commit_ts, SimDuration::from_nanos(skew_ns));
        let answered_at_fast_clock = commit_ts + wait.as_nanos();
        let start_on_slow_clock = answered_at_fast_clock - skew_ns;
        assert!(start_on_slow_clock >= commit_ts);
    }
}
