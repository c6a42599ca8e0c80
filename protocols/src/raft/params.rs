//! Raft's parameters: timing, optional extensions, the read mode, and the
//! bug switches (known broken variants the checkers must catch).

use serde::{Deserialize, Serialize};
use sim_core::{Dur, SimDuration};

/// How a leader serves a get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ReadMode {
    /// A get is a log entry like a write: linearizable, and as slow as a write.
    Log,
    /// Dissertation §6.4: note the commit index, confirm leadership with one
    /// heartbeat round to a majority, then read once applied. Linearizable.
    ReadIndex,
    /// Dissertation §6.4.1: serve locally while a lease, renewed by heartbeat
    /// majorities, holds. Linearizable only while clock drift stays within
    /// `lease_drift_bound_ppm`.
    Lease,
    /// Any server answers from its own state machine: stale by design.
    Follower,
}

/// Raft's params, as a scenario writes them:
/// `protocol: Raft(read_mode: ReadIndex)`. Every field has a default, so
/// `Raft()` is the paper's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RaftParams {
    /// Range of the randomized election timeout, (min, max).
    pub election_timeout: (Dur, Dur),
    /// How often a leader sends AppendEntries; by default half the minimum
    /// election timeout, as in the paper.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat_interval: Option<Dur>,
    /// Ask for votes before raising the term (dissertation §9.6).
    pub pre_vote: bool,
    /// A leader without a majority for an election timeout steps down
    /// (dissertation §6.2); servers that heard a leader recently ignore
    /// vote requests (leader stickiness).
    pub check_quorum: bool,
    /// Log, ReadIndex, Lease (needs bounded drift) or Follower (stale by design).
    pub read_mode: ReadMode,
    /// The clock drift, in ppm per clock, a lease assumes at most.
    pub lease_drift_bound_ppm: u32,
    /// A new leader appends an empty entry of its term (dissertation §6.4),
    /// so it learns its commit index at once. ReadIndex and Lease need it.
    pub leader_noop: bool,
    /// Entries per AppendEntries at most.
    pub batch_entries_max: u32,
    /// Experiment setup: server i starts with this many entries of term 1
    /// already in its log (a prefix of one common log).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub preload_log_lengths: Vec<u32>,
    /// Experiment setup: this server (by index) starts as the leader of
    /// term 1, and every other server as its follower having voted for it,
    /// so that a run starts from a stable leader whose heartbeats fall at
    /// known times (0, h, 2h, ...: the election experiment's synchronized
    /// heartbeat).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_leader: Option<u32>,
    /// A candidate sends its vote requests while its disk records its vote
    /// for itself, and counts that vote once durable (dissertation §9.4).
    /// Off, it sends them only once its vote is durable, as an
    /// implementation that persists before every send does (raft-rs's and
    /// etcd's Ready): each election round then costs one more disk write.
    pub overlap_own_vote_write: bool,
    /// A voter that learns a newer term from a vote request writes it (and
    /// its cleared vote) on stepping down, then writes its vote: two syncs,
    /// one after the other, before it answers, as LogCabin (the Raft
    /// paper's implementation) does. Off, the term and the vote go in one
    /// write.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub step_down_write_apart: bool,
    /// Group commit: entries appended while a sync is in flight share the
    /// next sync (one sync at a time). Off, every append is its own sync,
    /// and a slow disk caps the leader at one sync per disk latency.
    pub group_commit: bool,
    /// BUG SWITCH: commit earlier terms' entries by counting replicas (Figure 8).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub commit_previous_terms: bool,
    /// BUG SWITCH: vote without persisting votedFor.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub vote_without_persist: bool,
    /// BUG SWITCH: grant votes without the log up-to-date check.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub vote_without_log_check: bool,
    /// BUG SWITCH: leases that assume clocks never drift.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lease_without_drift_bound: bool,
}

/// Upper bounds on the params, so a typo cannot make a run endless.
pub const TIMEOUT_MAX: SimDuration = SimDuration::from_secs(60);
pub const BATCH_ENTRIES_MAX: u32 = 10_000;
pub const PRELOAD_ENTRIES_MAX: u32 = 10_000;
pub const DRIFT_BOUND_PPM_MAX: u32 = 500_000;

impl Default for RaftParams {
    fn default() -> Self {
        RaftParams {
            election_timeout: (Dur::ms(150), Dur::ms(300)),
            heartbeat_interval: None,
            pre_vote: false,
            check_quorum: false,
            read_mode: ReadMode::Log,
            lease_drift_bound_ppm: 1_000,
            leader_noop: true,
            batch_entries_max: 64,
            preload_log_lengths: Vec::new(),
            initial_leader: None,
            overlap_own_vote_write: true,
            step_down_write_apart: false,
            group_commit: true,
            commit_previous_terms: false,
            vote_without_persist: false,
            vote_without_log_check: false,
            lease_without_drift_bound: false,
        }
    }
}

impl RaftParams {
    pub fn election_timeout_min(&self) -> SimDuration {
        self.election_timeout.0 .0
    }
    pub fn election_timeout_max(&self) -> SimDuration {
        self.election_timeout.1 .0
    }
    /// The heartbeat interval: as set, or half the minimum election timeout.
    pub fn heartbeat(&self) -> SimDuration {
        self.heartbeat_interval.map_or(
            SimDuration::from_nanos(self.election_timeout_min().as_nanos() / 2),
            |d| d.0,
        )
    }

    /// Checks the params against a cluster of `servers`. Errors read
    /// "field: what is wrong and how to fix it", with the field as a
    /// scenario writes it (`election_timeout`, not its two halves here).
    pub fn validate(&self, servers: usize) -> Result<(), String> {
        let (min, max) = (self.election_timeout_min(), self.election_timeout_max());
        if min == SimDuration::ZERO || max > TIMEOUT_MAX {
            return Err(format!(
                "election_timeout: both ends must be in (0, {TIMEOUT_MAX}], got ({min}, {max})"
            ));
        }
        if max < min {
            return Err(format!(
                "election_timeout: write (min, max) with min <= max, got ({min}, {max})"
            ));
        }
        let heartbeat = self.heartbeat();
        if heartbeat == SimDuration::ZERO || heartbeat >= min {
            return Err(format!(
                "heartbeat_interval: must be above zero and below the election timeout's minimum ({min}), got {heartbeat}"
            ));
        }
        if self.batch_entries_max == 0 || self.batch_entries_max > BATCH_ENTRIES_MAX {
            return Err(format!(
                "batch_entries_max: must be in 1..={BATCH_ENTRIES_MAX}, got {}",
                self.batch_entries_max
            ));
        }
        if self.lease_drift_bound_ppm > DRIFT_BOUND_PPM_MAX {
            return Err(format!(
                "lease_drift_bound_ppm: at most {DRIFT_BOUND_PPM_MAX}, got {}",
                self.lease_drift_bound_ppm
            ));
        }
        if matches!(self.read_mode, ReadMode::ReadIndex | ReadMode::Lease) && !self.leader_noop {
            return Err(format!(
                "leader_noop: read_mode {:?} needs leader_noop: true (a new leader learns its commit index from its no-op)",
                self.read_mode
            ));
        }
        if !self.preload_log_lengths.is_empty() && self.preload_log_lengths.len() != servers {
            return Err(format!(
                "preload_log_lengths: give one length per server ({servers}), got {}",
                self.preload_log_lengths.len()
            ));
        }
        if let Some(leader) = self.initial_leader.filter(|l| *l as usize >= servers) {
            return Err(format!(
                "initial_leader: a server index below {servers}, got {leader}"
            ));
        }
        if let Some(big) = self
            .preload_log_lengths
            .iter()
            .find(|n| **n > PRELOAD_ENTRIES_MAX)
        {
            return Err(format!(
                "preload_log_lengths: at most {PRELOAD_ENTRIES_MAX} entries each, got {big}"
            ));
        }
        Ok(())
    }

    /// How long a lease lasts on the leader's clock, counted from when the
    /// heartbeat round that a majority acknowledged was sent.
    ///
    /// Why this length: followers wait at least `election_timeout_min` on
    /// their own clocks after hearing the leader before electing another.
    /// If each clock may run fast or slow by ρ, the leader's measure of that
    /// wait may overstate it by (1+ρ)/(1−ρ), so the lease is shortened by the
    /// inverse factor.
    pub fn lease_duration(&self) -> SimDuration {
        if self.lease_without_drift_bound {
            return self.election_timeout_min();
        }
        let rho = self.lease_drift_bound_ppm as f64 * 1e-6;
        let factor = (1.0 - rho) / (1.0 + rho);
        SimDuration::from_nanos((self.election_timeout_min().as_nanos() as f64 * factor) as u64)
    }
}
