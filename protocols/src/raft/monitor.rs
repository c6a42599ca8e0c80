//! Raft's invariants (Figure 3 of the paper), checked as the run goes from
//! the events servers emit, and the metrics measured from the same events.
//!
//! The monitor mirrors every server's log from `Stored`, `Truncated` and
//! `Recovered` events, so it can judge Leader Completeness at the moment a
//! leader is elected, not only at the end.

use super::messages::RaftEvent;
use crate::invariant::{push_sample, Monitor, ProtocolMetrics, Violation};
use sim_core::{NodeId, SimTime};
use std::collections::BTreeMap;

pub const ELECTION_SAFETY: &str = "election-safety";
pub const LOG_MATCHING: &str = "log-matching";
pub const LEADER_COMPLETENESS: &str = "leader-completeness";
pub const STATE_MACHINE_SAFETY: &str = "state-machine-safety";

/// Entries awaiting commit whose append time is remembered, at most.
const PENDING_COMMITS_MAX: usize = 100_000;

/// A crash of the leader whose replacement is not yet heard by everyone.
#[derive(Debug)]
struct Leaderless {
    since: SimTime,
    /// The crashed leader's term; any later leader ends the measurement.
    term: u64,
    /// The newest leader since the crash, and its term: the measurement
    /// ends when every live server has heard *it* (a first leader deposed
    /// before everyone heard it does not end it, and its successor, which
    /// never hears itself, must not be left waiting).
    new_leader: Option<(NodeId, u64)>,
    /// Who has heard the newest leader (or a later one).
    heard: Vec<bool>,
    /// The term of the first election started, since the crash, by a
    /// server whose log could win (as up to date as every live server's).
    first_eligible_term: Option<u64>,
}

#[derive(Debug)]
pub struct RaftMonitor {
    servers: usize,
    leaders: BTreeMap<u64, NodeId>,
    /// The node leading now, and its term.
    leading: Option<(NodeId, u64)>,
    /// Each server's log as (term, digest) per index.
    logs: Vec<Vec<(u64, u64)>>,
    /// The digest of the entry with a given (index, term), first seen.
    entries: BTreeMap<(u64, u64), u64>,
    /// Per committed index: (digest, the term of the leader that committed it).
    committed: Vec<(u64, u64)>,
    /// Per applied index: the digest first applied there.
    applied: Vec<u64>,
    up: Vec<bool>,
    leaderless: Option<Leaderless>,
    leaderless_ms: Vec<f64>,
    /// Per replaced leader: 1 if the first election a server that could
    /// win started did not elect it or anyone (a split vote), else 0.
    first_round_split: Vec<f64>,
    /// Leader crashes whose replacement was never heard by every live server.
    leaderless_unfinished: u64,
    /// (index, term) -> when the leader of `term` appended it.
    appended_at: BTreeMap<(u64, u64), SimTime>,
    commit_latency_ms: Vec<f64>,
    committed_commands: u64,
    elections_won: u64,
}

fn violation(
    invariant: &'static str,
    time: SimTime,
    node: NodeId,
    message: String,
) -> Option<Violation> {
    Violation::at(invariant, time, Some(node), message)
}

impl RaftMonitor {
    fn log_mut(&mut self, node: NodeId) -> &mut Vec<(u64, u64)> {
        &mut self.logs[node.index()]
    }

    fn on_became_leader(&mut self, time: SimTime, node: NodeId, term: u64) -> Option<Violation> {
        self.elections_won += 1;
        if let Some(other) = self.leaders.insert(term, node) {
            if other != node {
                return violation(
                    ELECTION_SAFETY,
                    time,
                    node,
                    format!("{node} and {other} were both elected leader of term {term}"),
                );
            }
        }
        self.leading = Some((node, term));
        if let Some(open) = self.leaderless.as_mut().filter(|l| term > l.term) {
            if open.new_leader.is_none() {
                // Elected in the first eligible round, or after a split.
                let split = open.first_eligible_term != Some(term);
                push_sample(&mut self.first_round_split, f64::from(u8::from(split)));
            }
            if open.new_leader.is_none_or(|(_, newest)| term > newest) {
                // A newer leader: only hearing it (or a later one) counts.
                open.new_leader = Some((node, term));
                open.heard.iter_mut().for_each(|h| *h = false);
            }
            debug_assert!(open.new_leader.is_some_and(|(_, t)| t >= term));
            self.finish_leaderless_if_heard(time);
        }
        // Leader Completeness: every entry committed in an earlier term is
        // in the new leader's log.
        let log = &self.logs[node.index()];
        for (i, (digest, commit_term)) in self.committed.iter().enumerate() {
            if *commit_term >= term {
                continue;
            }
            if log.get(i).map(|e| e.1) != Some(*digest) {
                return violation(
                    LEADER_COMPLETENESS,
                    time,
                    node,
                    format!(
                        "{node} became leader of term {term} without entry {} committed in term {commit_term}",
                        i + 1
                    ),
                );
            }
        }
        None
    }

    fn on_stored(
        &mut self,
        time: SimTime,
        node: NodeId,
        index: u64,
        term: u64,
        digest: u64,
    ) -> Option<Violation> {
        let log = self.log_mut(node);
        assert_eq!(
            log.len() as u64 + 1,
            index,
            "{node} stored entry {index} after a log of {} entries",
            log.len()
        );
        log.push((term, digest));
        if self.leading == Some((node, term)) && self.appended_at.len() < PENDING_COMMITS_MAX {
            self.appended_at.insert((index, term), time);
        }
        let first = *self.entries.entry((index, term)).or_insert(digest);
        if first != digest {
            return violation(
                LOG_MATCHING,
                time,
                node,
                format!("{node} stored a different entry at index {index}, term {term}, than another server"),
            );
        }
        // Log Matching's second half: equal (index, term) means equal
        // prefixes. Checked against the one predecessor, which by induction
        // covers the whole prefix.
        if index > 1 {
            let prev = self.logs[node.index()][index as usize - 2];
            for (other, log) in self.logs.iter().enumerate() {
                let same_here = log.get(index as usize - 1) == Some(&(term, digest));
                if other != node.index() && same_here && log[index as usize - 2] != prev {
                    return violation(
                        LOG_MATCHING,
                        time,
                        node,
                        format!(
                            "{node} and {} agree at index {index} (term {term}) but differ at {}",
                            NodeId(other as u32),
                            index - 1
                        ),
                    );
                }
            }
        }
        None
    }

    fn on_leader_committed(&mut self, time: SimTime, node: NodeId, commit_index: u64, term: u64) {
        let from = self.committed.len() as u64 + 1;
        for index in from..=commit_index {
            let (entry_term, digest) = self.logs[node.index()][index as usize - 1];
            self.committed.push((digest, term));
            if let Some(at) = self.appended_at.remove(&(index, entry_term)) {
                push_sample(
                    &mut self.commit_latency_ms,
                    time.saturating_since(at).as_millis_f64(),
                );
            }
        }
    }

    fn on_applied(
        &mut self,
        time: SimTime,
        node: NodeId,
        index: u64,
        digest: u64,
        client_command: bool,
    ) -> Option<Violation> {
        let i = index as usize - 1;
        if i == self.applied.len() {
            self.applied.push(digest);
            if client_command {
                self.committed_commands += 1;
            }
            return None;
        }
        if self.applied.get(i) != Some(&digest) {
            return violation(
                STATE_MACHINE_SAFETY,
                time,
                node,
                format!(
                    "{node} applied a different command at index {index} than another server did"
                ),
            );
        }
        None
    }

    /// Notes the first election since a leader crash that a server able to
    /// win started: the split-vote rate counts from it.
    fn on_election_started(&mut self, node: NodeId, term: u64, last: (u64, u64)) {
        let Some(open) = self.leaderless.as_ref() else {
            return;
        };
        if open.first_eligible_term.is_some() || open.new_leader.is_some() {
            return;
        }
        let best = (0..self.servers)
            .filter(|s| self.up[*s] && *s != node.index())
            .map(|s| {
                let log = &self.logs[s];
                (log.last().map_or(0, |(t, _)| *t), log.len() as u64)
            })
            .max()
            .unwrap_or((0, 0));
        if last >= best {
            if let Some(open) = self.leaderless.as_mut() {
                open.first_eligible_term = Some(term);
            }
        }
    }

    fn finish_leaderless_if_heard(&mut self, time: SimTime) {
        let Some(open) = &self.leaderless else {
            return;
        };
        let Some((new_leader, _)) = open.new_leader else {
            return;
        };
        let everyone =
            (0..self.servers).all(|s| !self.up[s] || s == new_leader.index() || open.heard[s]);
        if everyone {
            push_sample(
                &mut self.leaderless_ms,
                time.saturating_since(open.since).as_millis_f64(),
            );
            self.leaderless = None;
        }
    }
}

impl Monitor<RaftEvent> for RaftMonitor {
    const INVARIANTS: &'static [&'static str] = &[
        ELECTION_SAFETY,
        LOG_MATCHING,
        LEADER_COMPLETENESS,
        STATE_MACHINE_SAFETY,
    ];

    fn new(servers: u32) -> Self {
        let servers = servers as usize;
        RaftMonitor {
            servers,
            leaders: BTreeMap::new(),
            leading: None,
            logs: vec![Vec::new(); servers],
            entries: BTreeMap::new(),
            committed: Vec::new(),
            applied: Vec::new(),
            up: vec![true; servers],
            leaderless: None,
            leaderless_ms: Vec::new(),
            first_round_split: Vec::new(),
            leaderless_unfinished: 0,
            appended_at: BTreeMap::new(),
            commit_latency_ms: Vec::new(),
            committed_commands: 0,
            elections_won: 0,
        }
    }

    fn observe(&mut self, time: SimTime, node: NodeId, event: &RaftEvent) -> Option<Violation> {
        match *event {
            RaftEvent::BecameLeader { term } => self.on_became_leader(time, node, term),
            RaftEvent::ElectionStarted {
                term,
                last_log_index,
                last_log_term,
            } => {
                self.on_election_started(node, term, (last_log_term, last_log_index));
                None
            }
            RaftEvent::SteppedDown { term } => {
                if self.leading == Some((node, term)) {
                    self.leading = None;
                }
                None
            }
            RaftEvent::Stored {
                index,
                term,
                digest,
            } => self.on_stored(time, node, index, term, digest),
            RaftEvent::Truncated { last_index } => {
                self.log_mut(node).truncate(last_index as usize);
                None
            }
            RaftEvent::LeaderCommitted { commit_index, term } => {
                self.on_leader_committed(time, node, commit_index, term);
                None
            }
            RaftEvent::Applied {
                index,
                digest,
                client_command,
                ..
            } => self.on_applied(time, node, index, digest, client_command),
            RaftEvent::HeardLeader { term, .. } => {
                // Hearing the newest leader since the crash, or a later one.
                let newest = |l: &Leaderless| l.new_leader.map_or(l.term + 1, |(_, t)| t);
                if let Some(open) = self.leaderless.as_mut().filter(|l| term >= newest(l)) {
                    open.heard[node.index()] = true;
                    self.finish_leaderless_if_heard(time);
                }
                None
            }
            RaftEvent::Recovered { last_index, .. } => {
                self.up[node.index()] = true;
                let log = self.log_mut(node);
                assert!(
                    log.len() as u64 >= last_index,
                    "{node} recovered more log than it stored"
                );
                log.truncate(last_index as usize);
                None
            }
        }
    }

    fn node_crashed(&mut self, time: SimTime, node: NodeId) {
        if node.index() >= self.servers {
            return; // A client.
        }
        self.up[node.index()] = false;
        if let Some((leader, term)) = self.leading.filter(|(l, _)| *l == node) {
            debug_assert_eq!(leader, node);
            if self.leaderless.is_some() {
                self.leaderless_unfinished += 1;
            }
            self.leaderless = Some(Leaderless {
                since: time,
                term,
                new_leader: None,
                heard: vec![false; self.servers],
                first_eligible_term: None,
            });
            self.leading = None;
        }
        self.finish_leaderless_if_heard(time);
    }

    fn finish(&mut self, _time: SimTime) -> Vec<Violation> {
        if self.leaderless.take().is_some() {
            self.leaderless_unfinished += 1;
        }
        Vec::new()
    }

    fn heap_bytes(&self) -> usize {
        use crate::heap::map_bytes;
        let logs: usize = self.logs.iter().map(|l| l.capacity() * 16).sum();
        logs + map_bytes(&self.leaders)
            + map_bytes(&self.entries)
            + map_bytes(&self.appended_at)
            + (self.committed.capacity() * 16)
            + (self.applied.capacity()
                + self.leaderless_ms.capacity()
                + self.first_round_split.capacity()
                + self.commit_latency_ms.capacity())
                * 8
    }

    fn metrics(&self) -> ProtocolMetrics {
        ProtocolMetrics {
            samples: vec![
                ("leaderless_ms", self.leaderless_ms.clone()),
                ("first_round_split", self.first_round_split.clone()),
                ("commit_latency_ms", self.commit_latency_ms.clone()),
            ],
            counts: vec![
                ("committed_commands", self.committed_commands),
                ("elections_won", self.elections_won),
                ("leader_crashes_unrecovered", self.leaderless_unfinished),
            ],
            series: Vec::new(),
            ..ProtocolMetrics::default()
        }
    }
}
