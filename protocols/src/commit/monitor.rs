//! Atomic commit's invariants and metrics, from the servers' events.
//!
//! - `atomicity`: no transaction commits at one participant and aborts at
//!   another, and no decision is ever reversed (the client may have been
//!   told it).
//! - `commit-needs-all-yes`: no participant commits a transaction before
//!   every participant of it has voted yes.
//! - `money-conserved`: at the end, the transactions that every
//!   participant has settled moved money between accounts without making
//!   or losing any. Transactions still uncertain somewhere are in flight
//!   and not judged (counted as `txns_unsettled_at_end`).
//!
//! Metrics: `commit_latency_ms` (begin to commit decision), `uncertain_ms`
//! (a participant's time from its yes vote to learning the outcome),
//! `messages_per_txn` (server messages about one settled transaction), and
//! the transactions caught in doubt by a coordinator crash (and among them
//! those where every participant had voted yes and nothing was decided),
//! and how many of them stayed blocked until it came back.

use super::messages::{CommitEvent, SentKind, TxnId};
use super::participant::COORDINATOR;
use crate::invariant::{Monitor, ProtocolMetrics, Violation};
use sim_core::{NodeId, SimTime};
use std::collections::{BTreeMap, BTreeSet};

pub const ATOMICITY: &str = "atomicity";
pub const COMMIT_NEEDS_ALL_YES: &str = "commit-needs-all-yes";
pub const MONEY_CONSERVED: &str = "money-conserved";

/// Transactions tracked at most; later ones are counted but not checked.
const TXNS_TRACKED_MAX: usize = 1_000_000;

#[derive(Debug, Default)]
struct TxnView {
    participants: Vec<NodeId>,
    yes: BTreeSet<NodeId>,
    outcomes: BTreeMap<NodeId, bool>,
    delta_sum: i64,
    began: Option<SimTime>,
    /// The first decision anyone made.
    decided: Option<bool>,
    messages: u64,
    /// Participants that voted yes and do not know the outcome yet.
    uncertain_since: BTreeMap<NodeId, SimTime>,
}

#[derive(Debug, Default)]
pub struct CommitMonitor {
    txns: BTreeMap<TxnId, TxnView>,
    /// Transactions with an uncertain participant right now.
    in_doubt: BTreeSet<TxnId>,
    coordinator_down: bool,
    /// In doubt when the coordinator last crashed, and not yet settled.
    caught_by_outage: BTreeSet<TxnId>,
    counts: BTreeMap<&'static str, u64>,
    commit_latency_ms: Vec<f64>,
    uncertain_ms: Vec<f64>,
    messages_per_txn: Vec<f64>,
    untracked: u64,
}

fn ms(from: SimTime, to: SimTime) -> f64 {
    to.saturating_since(from).as_nanos() as f64 / 1e6
}

impl CommitMonitor {
    fn bump(&mut self, name: &'static str, by: u64) {
        *self.counts.entry(name).or_default() += by;
    }

    fn view(&mut self, txn: TxnId) -> Option<&mut TxnView> {
        if !self.txns.contains_key(&txn) && self.txns.len() >= TXNS_TRACKED_MAX {
            self.untracked += 1;
            return None;
        }
        Some(self.txns.entry(txn).or_default())
    }

    fn applied(
        &mut self,
        time: SimTime,
        node: NodeId,
        txn: TxnId,
        commit: bool,
        delta_sum: i64,
    ) -> Option<Violation> {
        let view = self.view(txn)?;
        if view.outcomes.get(&node) == Some(&commit) {
            // Applied again after a power loss took its outcome record
            // back before the sync completed: the shard rebuilt its
            // balances from its log, so this is not a second transfer.
            return None;
        }
        view.delta_sum += delta_sum;
        let mut uncertain_sample = None;
        if let Some(since) = view.uncertain_since.remove(&node) {
            uncertain_sample = Some(ms(since, time));
        }
        let settled = view.uncertain_since.is_empty();
        let other = view
            .outcomes
            .iter()
            .find(|(n, c)| **n != node && **c != commit)
            .map(|(n, _)| *n);
        view.outcomes.insert(node, commit);
        let missing_yes: Vec<NodeId> = view
            .participants
            .iter()
            .copied()
            .filter(|p| !view.yes.contains(p))
            .collect();
        if let Some(sample) = uncertain_sample {
            self.uncertain_ms.push(sample);
        }
        if settled {
            self.in_doubt.remove(&txn);
            self.caught_by_outage.remove(&txn);
        }
        if let Some(other) = other {
            let (mine, theirs) = if commit {
                ("committed", "aborted")
            } else {
                ("aborted", "committed")
            };
            return Some(Violation {
                invariant: ATOMICITY,
                time,
                node: Some(node),
                message: format!("{node} {mine} transaction {txn}, which {other} {theirs}"),
            });
        }
        if commit && !missing_yes.is_empty() {
            let names: Vec<String> = missing_yes.iter().map(|n| n.to_string()).collect();
            return Some(Violation {
                invariant: COMMIT_NEEDS_ALL_YES,
                time,
                node: Some(node),
                message: format!(
                    "{node} committed transaction {txn} before {} voted yes",
                    names.join(", ")
                ),
            });
        }
        None
    }

    /// The coordinator is back (or the run ended): what was caught in
    /// doubt by its crash and is still unsettled was blocked throughout.
    fn outage_over(&mut self) {
        if self.coordinator_down {
            let blocked = self.caught_by_outage.len() as u64;
            self.bump("txns_blocked_by_coordinator_outage", blocked);
            self.caught_by_outage.clear();
            self.coordinator_down = false;
        }
    }
}

impl Monitor<CommitEvent> for CommitMonitor {
    const INVARIANTS: &'static [&'static str] = &[ATOMICITY, COMMIT_NEEDS_ALL_YES, MONEY_CONSERVED];

    fn new(_servers: u32) -> Self {
        CommitMonitor::default()
    }

    fn observe(&mut self, time: SimTime, node: NodeId, event: &CommitEvent) -> Option<Violation> {
        match event {
            CommitEvent::Begin { txn, participants } => {
                self.bump("txns_begun", 1);
                let view = self.view(*txn)?;
                view.participants = participants.clone();
                view.began = Some(time);
            }
            CommitEvent::Voted { txn, yes } => {
                let view = self.view(*txn)?;
                if *yes {
                    view.yes.insert(node);
                    view.uncertain_since.insert(node, time);
                    self.in_doubt.insert(*txn);
                }
            }
            CommitEvent::Decided { txn, commit } => {
                let view = self.view(*txn)?;
                if let Some(first) = view.decided {
                    if first == *commit {
                        return None;
                    }
                    // A decision is final: the client may have been told.
                    let (was, now) = if first {
                        ("commit", "abort")
                    } else {
                        ("abort", "commit")
                    };
                    return Some(Violation {
                        invariant: ATOMICITY,
                        time,
                        node: Some(node),
                        message: format!(
                            "transaction {txn} was decided {was}, and now {node} decides {now}"
                        ),
                    });
                }
                view.decided = Some(*commit);
                let latency = view.began.map(|began| ms(began, time));
                if *commit {
                    self.bump("txns_committed", 1);
                    if let Some(latency) = latency {
                        self.commit_latency_ms.push(latency);
                    }
                } else {
                    self.bump("txns_aborted", 1);
                }
            }
            CommitEvent::Applied {
                txn,
                commit,
                delta_sum,
            } => {
                return self.applied(time, node, *txn, *commit, *delta_sum);
            }
            CommitEvent::CoordinatorRecovered => self.outage_over(),
            CommitEvent::Sent { txn, kind } => {
                let name = match kind {
                    SentKind::Prepare => "prepare_messages",
                    SentKind::Vote => "vote_messages",
                    SentKind::PreCommit => "precommit_messages",
                    SentKind::PreCommitAck => "precommit_ack_messages",
                    SentKind::Decision => "decision_messages",
                    SentKind::DecisionAck => "decision_ack_messages",
                    SentKind::Termination => "termination_messages",
                };
                self.bump(name, 1);
                if let Some(view) = self.view(*txn) {
                    view.messages += 1;
                }
            }
        }
        None
    }

    fn node_crashed(&mut self, _time: SimTime, node: NodeId) {
        if node == COORDINATOR {
            self.bump("coordinator_crashes", 1);
            self.coordinator_down = true;
            self.caught_by_outage = self.in_doubt.clone();
            self.bump(
                "txns_in_doubt_at_coordinator_crash",
                self.in_doubt.len() as u64,
            );
            // The textbook case: every participant voted yes, and the
            // coordinator had not decided.
            let all_voted = self
                .in_doubt
                .iter()
                .filter(|txn| {
                    let view = &self.txns[*txn];
                    view.decided.is_none() && view.participants.iter().all(|p| view.yes.contains(p))
                })
                .count() as u64;
            self.bump("txns_all_voted_undecided_at_coordinator_crash", all_voted);
        }
    }

    fn heap_bytes(&self) -> usize {
        use crate::heap::{map_bytes, set_bytes};
        map_bytes(&self.txns)
            + self.txns.len() * 6 * crate::heap::MAP_ENTRY_OVERHEAD_BYTES
            + set_bytes(&self.in_doubt)
            + set_bytes(&self.caught_by_outage)
            + (self.commit_latency_ms.capacity()
                + self.uncertain_ms.capacity()
                + self.messages_per_txn.capacity())
                * 8
    }

    fn finish(&mut self, time: SimTime) -> Vec<Violation> {
        self.outage_over();
        let unsettled = self.in_doubt.len() as u64;
        self.bump("txns_unsettled_at_end", unsettled);
        let mut money = 0i64;
        let mut settled = 0u64;
        for view in self.txns.values().filter(|v| v.uncertain_since.is_empty()) {
            money += view.delta_sum;
            settled += 1;
            if view.decided.is_some() {
                self.messages_per_txn.push(view.messages as f64);
            }
        }
        if self.untracked > 0 {
            self.bump("txns_untracked", self.untracked);
        }
        if money == 0 {
            return Vec::new();
        }
        vec![Violation {
            invariant: MONEY_CONSERVED,
            time,
            node: None,
            message: format!(
                "after {settled} settled transactions the accounts hold {money:+} against their starting total"
            ),
        }]
    }

    fn metrics(&self) -> ProtocolMetrics {
        ProtocolMetrics {
            samples: vec![
                ("commit_latency_ms", self.commit_latency_ms.clone()),
                ("uncertain_ms", self.uncertain_ms.clone()),
                ("messages_per_txn", self.messages_per_txn.clone()),
            ],
            counts: self.counts.iter().map(|(name, n)| (*name, *n)).collect(),
            series: Vec::new(),
            ..ProtocolMetrics::default()
        }
    }
}
