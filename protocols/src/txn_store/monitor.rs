//! TxnStore's monitor: the atomicity of every commit across its shards,
//! checked as the run goes, and the store's metrics.
//!
//! Invariant `atomic-commit`: no transaction is installed on one shard and
//! dropped after a yes vote on another, and none is installed anywhere
//! that its coordinator aborted. (Isolation is the history checkers'
//! work: list-append and rw-register judge what clients saw.) With
//! shards as Raft groups, Raft's own invariants too, judged per group by
//! the Raft monitor from its replicas' events; a group's takeovers count
//! as `shard_takeovers`.
//!
//! Metrics: per run, its throughput (`throughput_per_s`, commits per
//! simulated second) and the share of decided transactions that aborted
//! (`abort_percent`), one sample each, so a sweep draws each group's mean
//! with its interval; the time from request to decision of each commit
//! (`commit_latency_ms`, at its coordinator, commit-wait included); commits (and how many
//! spanned shards), aborts by reason
//! (`aborts/deadlock`, `aborts/conflict`, `aborts/validation`,
//! `aborts/timeout`, `aborts/refused`), how long a shard's part waited for
//! locks (`lock_wait_ms`), how long a prepared transaction held its keys
//! until its decision arrived (`prepared_hold_ms`: a coordinator crash
//! after prepare shows here), and the versions kept over all shards
//! (`versions_kept`, over time).

use super::locks::TxnId;
use super::messages::{AbortKind, TxnEvent};
use crate::invariant::{push_sample, Monitor, ProtocolMetrics, Series, Violation};
use crate::raft::monitor::{
    RaftMonitor, ELECTION_SAFETY, LEADER_COMPLETENESS, LOG_MATCHING, STATE_MACHINE_SAFETY,
};
use sim_core::{NodeId, SimTime};
use std::collections::BTreeMap;

/// Transactions whose fate the monitor remembers at most; past it the
/// oldest is forgotten (a violation about it could then go unseen).
pub const TRACKED_MAX: usize = 200_000;

const INSTALLED: u8 = 1;
const DROPPED_PREPARED: u8 = 2;
const ABORTED: u8 = 4;

#[derive(Debug, Default)]
pub struct TxnMonitor {
    fates: BTreeMap<TxnId, u8>,
    counts: BTreeMap<&'static str, u64>,
    lock_wait_ms: Vec<f64>,
    prepared_hold_ms: Vec<f64>,
    /// Per server, its versions kept at its last commit.
    versions: BTreeMap<NodeId, usize>,
    versions_kept: Series,
    commit_latency_ms: Vec<f64>,
    /// Set at the end of the run: (commits per second, abort percent).
    rates: Option<(f64, f64)>,
    /// Per shard's Raft group: its size and Raft's monitor over its
    /// replicas (members `0..replicas`), made at its first Raft event.
    groups: BTreeMap<u32, (u32, Box<RaftMonitor>)>,
}

impl TxnMonitor {
    fn note(&mut self, txn: TxnId, fate: u8) -> u8 {
        if !self.fates.contains_key(&txn) && self.fates.len() >= TRACKED_MAX {
            self.fates.pop_first();
        }
        let seen = self.fates.entry(txn).or_insert(0);
        *seen |= fate;
        *seen
    }

    fn count(&mut self, name: &'static str) {
        *self.counts.entry(name).or_insert(0) += 1;
    }
}

fn abort_count(kind: AbortKind) -> &'static str {
    match kind {
        AbortKind::Deadlock => "aborts/deadlock",
        AbortKind::Conflict => "aborts/conflict",
        AbortKind::Validation => "aborts/validation",
        AbortKind::Timeout => "aborts/timeout",
        AbortKind::Refused => "aborts/refused",
    }
}

impl Monitor<TxnEvent> for TxnMonitor {
    const INVARIANTS: &'static [&'static str] = &[
        "atomic-commit",
        ELECTION_SAFETY,
        LOG_MATCHING,
        LEADER_COMPLETENESS,
        STATE_MACHINE_SAFETY,
    ];

    fn new(_servers: u32) -> Self {
        TxnMonitor::default()
    }

    fn observe(&mut self, time: SimTime, node: NodeId, event: &TxnEvent) -> Option<Violation> {
        let fate = match event {
            TxnEvent::Decided {
                txn,
                commit,
                why,
                shards,
                latency_ns,
            } => {
                if *commit {
                    push_sample(&mut self.commit_latency_ms, *latency_ns as f64 / 1e6);
                    self.count("commits");
                    if *shards > 1 {
                        self.count("commits_cross_shard");
                    }
                    return None;
                }
                self.count(abort_count(why.expect("an abort has a reason")));
                (*txn, self.note(*txn, ABORTED))
            }
            TxnEvent::ShardCommitted { txn, versions_kept } => {
                self.versions.insert(node, *versions_kept);
                let total: usize = self.versions.values().sum();
                self.versions_kept
                    .push(time.as_nanos() as f64 / 1e6, total as f64);
                (*txn, self.note(*txn, INSTALLED))
            }
            TxnEvent::ShardAbortedPrepared { txn } => (*txn, self.note(*txn, DROPPED_PREPARED)),
            TxnEvent::Waited { waited_ns, .. } => {
                push_sample(&mut self.lock_wait_ms, *waited_ns as f64 / 1e6);
                return None;
            }
            TxnEvent::HeldPrepared { held_ns, .. } => {
                push_sample(&mut self.prepared_hold_ms, *held_ns as f64 / 1e6);
                return None;
            }
            TxnEvent::Raft {
                shard,
                replicas,
                event,
            } => {
                let (size, raft) = self
                    .groups
                    .entry(*shard)
                    .or_insert_with(|| (*replicas, Box::new(RaftMonitor::new(*replicas))));
                debug_assert_eq!(size, replicas, "a group keeps its size");
                let member = NodeId(node.0 % *size);
                return raft.observe(time, member, event).map(|mut v| {
                    v.message = format!("shard {shard}'s group: {}", v.message);
                    v.node = Some(node);
                    v
                });
            }
            TxnEvent::TookOver { .. } => {
                self.count("shard_takeovers");
                return None;
            }
        };
        let (txn, seen) = fate;
        if seen & INSTALLED != 0 && seen & (DROPPED_PREPARED | ABORTED) != 0 {
            let how = if seen & ABORTED != 0 {
                "its coordinator aborted it"
            } else {
                "another shard dropped it after voting yes"
            };
            return Violation::at(
                "atomic-commit",
                time,
                Some(node),
                format!(
                    "transaction of client {} (operation {}) was installed on a shard, but {how}",
                    txn.client, txn.seq
                ),
            );
        }
        None
    }

    fn node_crashed(&mut self, time: SimTime, node: NodeId) {
        // Groups are consecutive servers: this one's group is the one
        // whose members' range holds it.
        for (shard, (size, raft)) in self.groups.iter_mut() {
            if node.0 / *size == *shard {
                raft.node_crashed(time, NodeId(node.0 % *size));
            }
        }
    }

    fn finish(&mut self, time: SimTime) -> Vec<Violation> {
        let commits = self.counts.get("commits").copied().unwrap_or(0);
        let aborts: u64 = (self.counts.iter())
            .filter(|(name, _)| name.starts_with("aborts/"))
            .map(|(_, n)| *n)
            .sum();
        let seconds = time.as_nanos() as f64 / 1e9;
        if seconds > 0.0 && commits + aborts > 0 {
            let abort_percent = 100.0 * aborts as f64 / (commits + aborts) as f64;
            self.rates = Some((commits as f64 / seconds, abort_percent));
        }
        let mut violations = Vec::new();
        for raft in self.groups.values_mut() {
            violations.extend(raft.1.finish(time));
        }
        violations
    }

    fn metrics(&self) -> ProtocolMetrics {
        let mut counts: Vec<(&'static str, u64)> =
            self.counts.iter().map(|(name, n)| (*name, *n)).collect();
        counts.sort();
        ProtocolMetrics {
            samples: vec![
                (
                    "throughput_per_s",
                    self.rates.map(|r| vec![r.0]).unwrap_or_default(),
                ),
                (
                    "abort_percent",
                    self.rates.map(|r| vec![r.1]).unwrap_or_default(),
                ),
                ("commit_latency_ms", self.commit_latency_ms.clone()),
                ("lock_wait_ms", self.lock_wait_ms.clone()),
                ("prepared_hold_ms", self.prepared_hold_ms.clone()),
            ],
            counts,
            series: vec![("versions_kept", self.versions_kept.points().to_vec())],
            ..ProtocolMetrics::default()
        }
    }

    fn heap_bytes(&self) -> usize {
        self.groups
            .values()
            .map(|g| g.1.heap_bytes())
            .sum::<usize>()
            + self.fates.len() * 48
            + (self.lock_wait_ms.capacity()
                + self.prepared_hold_ms.capacity()
                + self.commit_latency_ms.capacity())
                * 8
            + self.versions_kept.heap_bytes()
    }
}

#[cfg(test)]
#[path = "monitor_test.rs"]
mod tests;
