//! How a scenario writes Raft's params: `protocol: Raft(read_mode: ReadIndex)`.
//! Every field has a default, so `Raft()` is the paper's configuration.

use crate::duration::Dur;
use protocols::raft::params::{RaftBugs, RaftParams, ReadMode};
use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadModeSpec {
    Log,
    ReadIndex,
    Lease,
    Follower,
}

fn default_timeout() -> (Dur, Dur) {
    let params = RaftParams::default();
    (
        Dur(params.election_timeout_min),
        Dur(params.election_timeout_max),
    )
}
fn default_read_mode() -> ReadModeSpec {
    ReadModeSpec::Log
}
fn default_drift_bound() -> u32 {
    RaftParams::default().lease_drift_bound_ppm
}
fn default_true() -> bool {
    true
}
fn default_batch() -> u32 {
    RaftParams::default().batch_entries_max
}
fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaftSpec {
    /// The range each randomized election timeout is drawn from, (min, max).
    #[serde(default = "default_timeout")]
    pub election_timeout: (Dur, Dur),
    /// Default: half the minimum election timeout, as in the paper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_interval: Option<Dur>,
    #[serde(default)]
    pub pre_vote: bool,
    #[serde(default)]
    pub check_quorum: bool,
    #[serde(default = "default_read_mode")]
    pub read_mode: ReadModeSpec,
    #[serde(default = "default_drift_bound")]
    pub lease_drift_bound_ppm: u32,
    #[serde(default = "default_true")]
    pub leader_noop: bool,
    #[serde(default = "default_batch")]
    pub batch_entries_max: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preload_log_lengths: Vec<u32>,
    /// BUG SWITCH: commit earlier terms' entries by counting replicas (Figure 8).
    #[serde(default, skip_serializing_if = "is_false")]
    pub commit_previous_terms: bool,
    /// BUG SWITCH: vote without persisting votedFor.
    #[serde(default, skip_serializing_if = "is_false")]
    pub vote_without_persist: bool,
    /// BUG SWITCH: grant votes without the log up-to-date check.
    #[serde(default, skip_serializing_if = "is_false")]
    pub vote_without_log_check: bool,
    /// BUG SWITCH: lease reads that assume clocks never drift.
    #[serde(default, skip_serializing_if = "is_false")]
    pub lease_without_drift_bound: bool,
}

impl Default for RaftSpec {
    fn default() -> Self {
        crate::dialect::ron_options()
            .from_str("()")
            .expect("every Raft field has a default")
    }
}

impl RaftSpec {
    pub const BUG_SWITCHES: &'static [&'static str] = &[
        "commit_previous_terms",
        "vote_without_persist",
        "vote_without_log_check",
        "lease_without_drift_bound",
    ];

    pub fn params(&self) -> RaftParams {
        let (min, max) = (self.election_timeout.0 .0, self.election_timeout.1 .0);
        RaftParams {
            election_timeout_min: min,
            election_timeout_max: max,
            heartbeat_interval: self
                .heartbeat_interval
                .map_or(SimDuration::from_nanos(min.as_nanos() / 2), |d| d.0),
            pre_vote: self.pre_vote,
            check_quorum: self.check_quorum,
            read_mode: match self.read_mode {
                ReadModeSpec::Log => ReadMode::Log,
                ReadModeSpec::ReadIndex => ReadMode::ReadIndex,
                ReadModeSpec::Lease => ReadMode::Lease,
                ReadModeSpec::Follower => ReadMode::Follower,
            },
            lease_drift_bound_ppm: self.lease_drift_bound_ppm,
            leader_noop: self.leader_noop,
            batch_entries_max: self.batch_entries_max,
            preload_log_lengths: self.preload_log_lengths.clone(),
            bugs: RaftBugs {
                commit_previous_terms: self.commit_previous_terms,
                vote_without_persist: self.vote_without_persist,
                vote_without_log_check: self.vote_without_log_check,
                lease_without_drift_bound: self.lease_without_drift_bound,
            },
        }
    }
}
