//! A transaction's coordinator, sans-IO: it splits the client's
//! transaction by shard (`plan.rs`), sends each shard its part, collects
//! the reads, runs two-phase commit over the shards it touched, and
//! answers the client. Each call returns what to do (`Step`); the service
//! around it sends, persists and times.
//!
//! The order that makes it atomic (two-phase commit, presumed abort):
//! 1. execute: every shard runs its micro-ops and sends its reads;
//! 2. prepare: every shard votes, having put its part on disk first;
//! 3. decide: commit once every vote is yes, abort at the first no, at an
//!    execution's abort, or at the timeout; a commit decision is put on
//!    disk (`Step::PersistCommit`) before any shard hears it, so a
//!    coordinator that restarts without a record knows the answer was
//!    abort;
//! 4. tell every shard, and answer the client: committed with its reads,
//!    or aborted (a definite failure: nothing was installed).

use super::locks::TxnId;
use super::plan::{Plan, Sharding};
use super::shard::{AbortReason, Mop};
use crate::kv::TxnMop;
use crate::two_phase::{Tally, Votes};
use std::collections::BTreeMap;

/// Transactions coordinated at once at most; a new one beyond it is
/// refused at once.
pub const ACTIVE_MAX: usize = 10_000;

/// What the coordinator asks of a shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Execute {
        txn: TxnId,
        start_ts: u64,
        mops: Vec<Mop>,
    },
    Prepare {
        txn: TxnId,
    },
    Commit {
        txn: TxnId,
        commit_ts: u64,
    },
    Abort {
        txn: TxnId,
    },
}

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Send(u32, Request),
    /// Make the commit decision durable; then call `persisted`.
    PersistCommit(TxnId, u64),
    /// Answer the client: its reads if committed, or why it aborted.
    Reply(TxnId, Result<Vec<String>, Abort>),
}

/// Why a transaction aborted, as the client and the metrics see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Abort {
    Shard(AbortReason),
    /// A shard voted no (validation, write conflict, a restart).
    VotedNo,
    Timeout,
    /// The coordinator is full.
    Refused,
}

#[derive(Debug)]
enum Phase {
    Executing {
        results: BTreeMap<u32, Vec<Option<String>>>,
    },
    Voting {
        reads: Vec<String>,
        votes: Votes<u32>,
    },
    /// Waiting for the commit decision to be durable.
    Persisting { reads: Vec<String> },
}

#[derive(Debug)]
struct Active {
    plan: Plan,
    phase: Phase,
}

/// One server's coordinator.
#[derive(Debug)]
pub struct Coordinator {
    sharding: Sharding,
    shards: u32,
    active: BTreeMap<TxnId, Active>,
}

impl Coordinator {
    pub fn new(sharding: Sharding, shards: u32) -> Coordinator {
        assert!(shards > 0, "at least one shard");
        Coordinator {
            sharding,
            shards,
            active: BTreeMap::new(),
        }
    }

    /// A client's transaction: sends each shard its part.
    pub fn begin(&mut self, txn: TxnId, mops: &[TxnMop], lists: bool, start_ts: u64) -> Vec<Step> {
        let plan = Plan::new(mops, lists, self.sharding, self.shards);
        self.begin_plan(txn, plan, start_ts)
    }

    /// A client's single read or write (`Plan::single`), as a transaction.
    pub fn begin_single(&mut self, txn: TxnId, key: u32, mop: Mop, start_ts: u64) -> Vec<Step> {
        let plan = Plan::single(key, mop, self.sharding, self.shards);
        self.begin_plan(txn, plan, start_ts)
    }

    fn begin_plan(&mut self, txn: TxnId, plan: Plan, start_ts: u64) -> Vec<Step> {
        if self.active.contains_key(&txn) {
            return Vec::new(); // A retry of one in progress.
        }
        if self.active.len() >= ACTIVE_MAX {
            return vec![Step::Reply(txn, Err(Abort::Refused))];
        }
        let steps = plan
            .parts
            .iter()
            .map(|(shard, part)| {
                let request = Request::Execute {
                    txn,
                    start_ts,
                    mops: part.clone(),
                };
                Step::Send(*shard, request)
            })
            .collect();
        let phase = Phase::Executing {
            results: BTreeMap::new(),
        };
        self.active.insert(txn, Active { plan, phase });
        steps
    }

    /// A shard ran its part: once every part has, ask every shard to vote.
    pub fn executed(&mut self, shard: u32, txn: TxnId, results: Vec<Option<String>>) -> Vec<Step> {
        let Some(active) = self.active.get_mut(&txn) else {
            return Vec::new(); // Decided already.
        };
        let Phase::Executing { results: all } = &mut active.phase else {
            return Vec::new(); // A duplicate.
        };
        all.insert(shard, results);
        if all.len() < active.plan.parts.len() {
            return Vec::new();
        }
        let reads = active.plan.merge(all);
        let shards: Vec<u32> = active.plan.parts.keys().copied().collect();
        active.phase = Phase::Voting {
            reads,
            votes: Votes::new(shards.clone()),
        };
        (shards.into_iter())
            .map(|shard| Step::Send(shard, Request::Prepare { txn }))
            .collect()
    }

    /// A shard voted. `commit_ts`: the timestamp a commit gets.
    pub fn voted(&mut self, shard: u32, txn: TxnId, yes: bool, commit_ts: u64) -> Vec<Step> {
        let Some(active) = self.active.get_mut(&txn) else {
            return Vec::new();
        };
        let Phase::Voting { reads, votes } = &mut active.phase else {
            return Vec::new();
        };
        match votes.record(shard, yes) {
            Tally::Pending => Vec::new(),
            Tally::Abort => self.abort(txn, Abort::VotedNo),
            Tally::Commit => {
                let reads = std::mem::take(reads);
                active.phase = Phase::Persisting { reads };
                vec![Step::PersistCommit(txn, commit_ts)]
            }
        }
    }

    /// The commit decision is durable: tell the shards, answer the client.
    pub fn persisted(&mut self, txn: TxnId, commit_ts: u64) -> Vec<Step> {
        let Some(active) = self.active.remove(&txn) else {
            return Vec::new();
        };
        let Phase::Persisting { reads } = active.phase else {
            unreachable!("persisted only after a commit decision");
        };
        let mut steps: Vec<Step> = (active.plan.parts.keys())
            .map(|shard| Step::Send(*shard, Request::Commit { txn, commit_ts }))
            .collect();
        steps.push(Step::Reply(txn, Ok(reads)));
        steps
    }

    /// A shard aborted its part while executing.
    pub fn aborted(&mut self, txn: TxnId, reason: AbortReason) -> Vec<Step> {
        match self.active.get(&txn).map(|a| &a.phase) {
            Some(Phase::Executing { .. } | Phase::Voting { .. }) => {
                self.abort(txn, Abort::Shard(reason))
            }
            // Decided to commit: the shards that voted yes cannot abort.
            _ => Vec::new(),
        }
    }

    /// The transaction's time is up: abort it unless already decided.
    pub fn timed_out(&mut self, txn: TxnId) -> Vec<Step> {
        match self.active.get(&txn).map(|a| &a.phase) {
            Some(Phase::Executing { .. } | Phase::Voting { .. }) => self.abort(txn, Abort::Timeout),
            _ => Vec::new(),
        }
    }

    /// The transaction's time is up while its commit decision waits for
    /// a timestamp and is not yet on disk (the caller knows): no shard has
    /// heard it, so it may still abort.
    pub fn timed_out_undecided(&mut self, txn: TxnId) -> Vec<Step> {
        match self.active.get(&txn).map(|a| &a.phase) {
            Some(_) => self.abort(txn, Abort::Timeout),
            None => Vec::new(),
        }
    }

    fn abort(&mut self, txn: TxnId, why: Abort) -> Vec<Step> {
        let active = self
            .active
            .remove(&txn)
            .expect("aborting an active transaction");
        let mut steps: Vec<Step> = (active.plan.parts.keys())
            .map(|shard| Step::Send(*shard, Request::Abort { txn }))
            .collect();
        steps.push(Step::Reply(txn, Err(why)));
        steps
    }

    /// Whether `txn` is in progress here (not yet decided, or its commit
    /// decision not yet durable): a shard asking about it must wait.
    pub fn is_active(&self, txn: TxnId) -> bool {
        self.active.contains_key(&txn)
    }

    /// The shards `txn` touches, while it is in progress.
    pub fn shards_of(&self, txn: TxnId) -> Vec<u32> {
        self.active
            .get(&txn)
            .map(|a| a.plan.parts.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Transactions in progress.
    pub fn active(&self) -> usize {
        self.active.len()
    }
}
