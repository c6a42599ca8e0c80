//! TxnStore's params, as a scenario will write them:
//! `protocol: TxnStore(isolation: SnapshotIsolation, timestamps:
//! LocalClocks(commit_wait: "7ms"))`. Every field has a default; the
//! defaults are a serializable store (two-phase locking, wound-wait) with
//! one server per shard and hash sharding.

use super::locks::DeadlockPolicy;
use super::plan::Sharding;
use super::shard::{Isolation, Switches};
use super::timestamps::TimestampSource;
use crate::raft::params::RaftParams;
use serde::{Deserialize, Serialize};
use sim_core::{Dur, SimDuration};

/// The isolation level, by its concurrency control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum IsolationLevel {
    /// Shared and exclusive locks held to commit: serializable.
    TwoPhaseLocking,
    /// Optimistic, with backward validation at commit: serializable.
    Occ,
    /// Multi-version reads at a start timestamp, first committer wins.
    SnapshotIsolation,
    /// Reads of the newest committed version; writes locked to commit.
    ReadCommitted,
}

/// How keys are placed on shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ShardBy {
    /// A stable hash of the key's name.
    Hash,
    /// Equal ranges of the key indexes (the workload's `keys`).
    Range,
}

/// Where a transaction's coordinator runs.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum CoordinatorAt {
    /// The server the client sent its transaction to.
    #[default]
    Server,
    /// The client itself: it talks to the shards directly, one network
    /// hop less, and its commit decision goes to its own disk (with one
    /// server per shard) or to its home group's log (with groups).
    Client,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TxnStoreParams {
    /// TwoPhaseLocking, Occ, SnapshotIsolation or ReadCommitted.
    pub isolation: IsolationLevel,
    /// Against deadlock under two-phase locking: WoundWait or WaitDie.
    pub deadlock: DeadlockPolicy,
    /// Snapshot isolation's timestamps: Oracle (server n1) or
    /// LocalClocks(commit_wait: ..), the coordinators' clocks.
    pub timestamps: TimestampSource,
    /// Hash or Range: how keys are placed on the shards (one per server).
    pub sharding: ShardBy,
    /// A transaction not decided in this long is aborted.
    pub request_timeout: Dur,
    /// Servers per shard: 1, a shard per server; 3 or 5, each shard a Raft
    /// group of that many (the servers must make whole groups).
    #[serde(skip_serializing_if = "is_one")]
    pub replicas: u32,
    /// The shard groups' Raft (with `replicas` above 1); `leader_noop`
    /// must stay on: a new leader serves once its term's entry is applied.
    #[serde(skip_serializing_if = "is_default_raft")]
    pub raft: RaftParams,
    /// Server or Client: where each transaction's coordinator runs (Server
    /// when unset). With Client, each client coordinates its own
    /// transactions, a hop closer to the shards; its commit decisions go
    /// to its own disk (one server per shard) or to its home group's log
    /// (its client number mod the shards).
    #[serde(skip_serializing_if = "is_server")]
    pub coordinator: CoordinatorAt,
    /// BUG SWITCH: snapshot isolation without first committer wins (lost update).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub si_without_write_conflict_check: bool,
    /// BUG SWITCH: OCC commits without validating its reads (G2-item).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub occ_skip_validation: bool,
    /// BUG SWITCH: reads see uncommitted writes (G1a, G1b).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_uncommitted: bool,
    /// BUG SWITCH: two-phase locking releases its locks at the vote (G1c, G2).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub release_locks_before_commit: bool,
    /// BUG SWITCH: local-clock timestamps with no commit-wait (real-time order lost under skew).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub local_clock_timestamps_without_wait: bool,
    /// BUG SWITCH: a prepared shard that hears no decision commits on its
    /// own at request_timeout (two-phase commit's switch of that name).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub commit_on_timeout: bool,
}

fn is_server(at: &CoordinatorAt) -> bool {
    *at == CoordinatorAt::Server
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

fn is_default_raft(raft: &RaftParams) -> bool {
    *raft == RaftParams::default()
}

/// Servers per shard at most.
pub const REPLICAS_MAX: u32 = 7;

/// Upper bounds, so a typo cannot make a run endless.
pub const REQUEST_TIMEOUT_MAX: SimDuration = SimDuration::from_secs(60);
pub const COMMIT_WAIT_MAX: SimDuration = SimDuration::from_secs(10);

impl Default for TxnStoreParams {
    fn default() -> Self {
        TxnStoreParams {
            isolation: IsolationLevel::TwoPhaseLocking,
            deadlock: DeadlockPolicy::WoundWait,
            timestamps: TimestampSource::Oracle,
            sharding: ShardBy::Hash,
            request_timeout: Dur::ms(1_000),
            replicas: 1,
            raft: RaftParams::default(),
            coordinator: CoordinatorAt::Server,
            si_without_write_conflict_check: false,
            occ_skip_validation: false,
            read_uncommitted: false,
            release_locks_before_commit: false,
            local_clock_timestamps_without_wait: false,
            commit_on_timeout: false,
        }
    }
}

impl TxnStoreParams {
    /// Checks the params; the message names the field and says how to
    /// fix it.
    pub fn validate(&self) -> Result<(), String> {
        if self.request_timeout.0 == SimDuration::ZERO
            || self.request_timeout.0 > REQUEST_TIMEOUT_MAX
        {
            return Err(format!(
                "request_timeout: above 0 and at most {REQUEST_TIMEOUT_MAX}, got {}",
                self.request_timeout
            ));
        }
        if self.replicas == 0 || self.replicas > REPLICAS_MAX {
            return Err(format!(
                "replicas: from 1 (a shard per server) to {REPLICAS_MAX} (a Raft group per shard), got {}",
                self.replicas
            ));
        }
        if self.replicas > 1 {
            self.raft
                .validate(self.replicas as usize)
                .map_err(|e| format!("raft.{e}"))?;
            if !self.raft.leader_noop {
                return Err("raft.leader_noop: a shard's new leader serves once an entry of its term is applied; set it to true".into());
            }
            if !self.raft.preload_log_lengths.is_empty() {
                return Err("raft.preload_log_lengths: a shard's log holds its records, not no-ops; remove it".into());
            }
        } else if !is_default_raft(&self.raft) {
            return Err("raft: set only with replicas above 1 (each shard a Raft group); remove it, or set replicas".into());
        }
        if let TimestampSource::LocalClocks { commit_wait } = self.timestamps {
            if commit_wait.0 > COMMIT_WAIT_MAX {
                return Err(format!(
                    "timestamps.LocalClocks.commit_wait: at most {COMMIT_WAIT_MAX}, got {commit_wait}"
                ));
            }
        }
        let switch_fits = [
            (
                "si_without_write_conflict_check",
                self.si_without_write_conflict_check,
                self.isolation == IsolationLevel::SnapshotIsolation,
            ),
            (
                "occ_skip_validation",
                self.occ_skip_validation,
                self.isolation == IsolationLevel::Occ,
            ),
            (
                "release_locks_before_commit",
                self.release_locks_before_commit,
                self.isolation == IsolationLevel::TwoPhaseLocking,
            ),
            (
                "local_clock_timestamps_without_wait",
                self.local_clock_timestamps_without_wait,
                self.isolation == IsolationLevel::SnapshotIsolation
                    && matches!(self.timestamps, TimestampSource::LocalClocks { .. }),
            ),
        ];
        for (name, on, fits) in switch_fits {
            if on && !fits {
                return Err(format!(
                    "{name}: this bug switch breaks a level the params do not use (isolation {:?}, timestamps {:?}); set the level it breaks, or turn it off",
                    self.isolation, self.timestamps
                ));
            }
        }
        Ok(())
    }

    /// The shard's concurrency control.
    pub fn shard_isolation(&self) -> Isolation {
        match self.isolation {
            IsolationLevel::TwoPhaseLocking => Isolation::TwoPhaseLocking(self.deadlock),
            IsolationLevel::Occ => Isolation::Occ,
            IsolationLevel::SnapshotIsolation => Isolation::SnapshotIsolation,
            IsolationLevel::ReadCommitted => Isolation::ReadCommitted,
        }
    }

    /// The shard's bug switches.
    pub fn switches(&self) -> Switches {
        Switches {
            si_without_write_conflict_check: self.si_without_write_conflict_check,
            occ_skip_validation: self.occ_skip_validation,
            read_uncommitted: self.read_uncommitted,
            release_locks_before_commit: self.release_locks_before_commit,
        }
    }

    /// Key placement, over the workload's `keys`.
    pub fn placement(&self, keys: u32) -> Sharding {
        match self.sharding {
            ShardBy::Hash => Sharding::Hash,
            ShardBy::Range => Sharding::Range { keys },
        }
    }

    /// How long a coordinator waits before answering a commit (zero
    /// unless local clocks with commit-wait, and not with the bug).
    pub fn commit_wait(&self) -> SimDuration {
        match self.timestamps {
            TimestampSource::LocalClocks { commit_wait }
                if !self.local_clock_timestamps_without_wait =>
            {
                commit_wait.0
            }
            _ => SimDuration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_a_serializable_store_with_one_server_per_shard() {
        let params = TxnStoreParams::default();
        assert_eq!(params.validate(), Ok(()));
        assert_eq!(
            params.shard_isolation(),
            Isolation::TwoPhaseLocking(DeadlockPolicy::WoundWait)
        );
        assert_eq!(params.switches(), Switches::default());
        assert_eq!(params.placement(100), Sharding::Hash);
        assert_eq!(params.commit_wait(), SimDuration::ZERO);
        // Written out and read back.
        let text = serde_json::to_string(&params).unwrap();
        let back: TxnStoreParams = serde_json::from_str(&text).unwrap();
        assert_eq!(back, params);
    }

    #[test]
    fn each_bad_field_is_named_with_how_to_fix_it() {
        let with = |f: &dyn Fn(&mut TxnStoreParams)| {
            let mut p = TxnStoreParams::default();
            f(&mut p);
            p.validate().unwrap_err()
        };
        assert!(with(&|p| p.request_timeout = Dur::ms(0)).starts_with("request_timeout"));
        let long_wait = TimestampSource::LocalClocks {
            commit_wait: Dur::ms(20_000),
        };
        assert!(with(&|p| p.timestamps = long_wait).starts_with("timestamps.LocalClocks"));
        let error = with(&|p| p.occ_skip_validation = true);
        assert!(
            error.starts_with("occ_skip_validation: this bug switch breaks"),
            "{error}"
        );
        let fits = TxnStoreParams {
            isolation: IsolationLevel::Occ,
            occ_skip_validation: true,
            ..TxnStoreParams::default()
        };
        assert_eq!(fits.validate(), Ok(()));
    }

    #[test]
    fn commit_wait_applies_only_to_local_clocks_without_the_bug() {
        let mut params = TxnStoreParams {
            isolation: IsolationLevel::SnapshotIsolation,
            timestamps: TimestampSource::LocalClocks {
                commit_wait: Dur::ms(7),
            },
            ..TxnStoreParams::default()
        };
        assert_eq!(params.commit_wait(), SimDuration::from_millis(7));
        params.local_clock_timestamps_without_wait = true;
        assert_eq!(params.validate(), Ok(()));
        assert_eq!(params.commit_wait(), SimDuration::ZERO);
        assert_eq!(params.placement(8), Sharding::Hash);
        params.sharding = ShardBy::Range;
        assert_eq!(params.placement(8), Sharding::Range { keys: 8 });
    }
}
