//! Bully election's invariants and message counts, from the servers' events.
//!
//! - `no-lower-leader`: no server becomes leader while a live server with a
//!   larger id leads. A larger id taking over from a smaller one is the
//!   algorithm's "bullying" and allowed; the reverse means a candidate won
//!   without hearing a live, larger server, which the algorithm's timeout
//!   promises cannot happen while messages arrive within it (crashes
//!   only). Partitions and long pauses break that promise.
//! - `max-id-leader`: at the end of the run, every live server follows the
//!   live server with the largest id (shared with ring election).

use super::messages::{BullyEvent, SentKind};
use crate::invariant::{Monitor, ProtocolMetrics, Violation};
use sim_core::{NodeId, SimTime};
use std::collections::BTreeMap;

pub const NO_LOWER_LEADER: &str = "no-lower-leader";
pub use crate::election::MAX_ID_LEADER;

/// Leaderless spells remembered at most (samples of `leaderless_ms`).
const SPELLS_MAX: usize = 100_000;

#[derive(Debug, Default)]
pub struct BullyMonitor {
    uids: Vec<Option<u64>>,
    up: Vec<bool>,
    /// The id each server follows (its own when it leads).
    believes: Vec<Option<u64>>,
    leading: Vec<bool>,
    /// Since when no live server has led, if none does.
    leaderless_since: Option<SimTime>,
    /// Per spell: from the moment no live server led (the start, or the
    /// last leader's crash) to the next leader.
    leaderless_ms: Vec<f64>,
    counts: BTreeMap<&'static str, u64>,
}

impl BullyMonitor {
    fn bump(&mut self, name: &'static str) {
        *self.counts.entry(name).or_default() += 1;
    }

    fn anyone_leads(&self) -> bool {
        (0..self.up.len()).any(|j| self.up[j] && self.leading[j])
    }
}

impl Monitor<BullyEvent> for BullyMonitor {
    const INVARIANTS: &'static [&'static str] = &[NO_LOWER_LEADER, MAX_ID_LEADER];

    fn new(servers: u32) -> Self {
        let n = servers as usize;
        BullyMonitor {
            uids: vec![None; n],
            up: vec![false; n],
            believes: vec![None; n],
            leading: vec![false; n],
            ..BullyMonitor::default()
        }
    }

    fn observe(&mut self, time: SimTime, node: NodeId, event: &BullyEvent) -> Option<Violation> {
        let i = node.index();
        match *event {
            BullyEvent::Started { uid } => {
                self.uids[i] = Some(uid);
                self.up[i] = true;
                self.believes[i] = None;
                self.leading[i] = false;
                if !self.anyone_leads() && self.leaderless_since.is_none() {
                    self.leaderless_since = Some(time);
                }
            }
            BullyEvent::ElectionStarted => self.bump("elections_started"),
            BullyEvent::Sent { kind } => self.bump(match kind {
                SentKind::Election => "election_messages",
                SentKind::Answer => "answer_messages",
                SentKind::Coordinator => "coordinator_messages",
                SentKind::Heartbeat => "heartbeat_messages",
            }),
            BullyEvent::LearnedLeader { uid } => self.believes[i] = Some(uid),
            BullyEvent::SteppedDown => self.leading[i] = false,
            BullyEvent::BecameLeader { uid } => {
                debug_assert_eq!(self.uids[i], Some(uid));
                self.bump("leaders_elected");
                let larger_leader = (0..self.up.len())
                    .find(|&j| j != i && self.up[j] && self.leading[j] && self.uids[j] > Some(uid));
                if self.anyone_leads() {
                    self.bump("takeovers");
                }
                self.believes[i] = Some(uid);
                self.leading[i] = true;
                if let Some(since) = self.leaderless_since.take() {
                    if self.leaderless_ms.len() < SPELLS_MAX {
                        let spell = time.saturating_since(since);
                        self.leaderless_ms.push(spell.as_nanos() as f64 / 1e6);
                    }
                }
                if let Some(j) = larger_leader {
                    return Some(Violation {
                        invariant: NO_LOWER_LEADER,
                        time,
                        node: Some(node),
                        message: format!(
                            "{node} (id {uid}) became leader while #{j} (id {}) leads and is up",
                            self.uids[j].unwrap_or(0)
                        ),
                    });
                }
            }
        }
        None
    }

    fn node_crashed(&mut self, time: SimTime, node: NodeId) {
        let i = node.index();
        self.up[i] = false;
        self.believes[i] = None;
        self.leading[i] = false;
        if !self.anyone_leads() && self.leaderless_since.is_none() {
            self.leaderless_since = Some(time);
        }
    }

    fn heap_bytes(&self) -> usize {
        (self.uids.capacity() + self.believes.capacity()) * 16
            + (self.up.capacity() + self.leading.capacity())
            + self.leaderless_ms.capacity() * 8
    }

    fn finish(&mut self, time: SimTime) -> Vec<Violation> {
        crate::election::max_id_leader(time, &self.up, &self.uids, &self.believes)
    }

    fn metrics(&self) -> ProtocolMetrics {
        ProtocolMetrics {
            samples: vec![("leaderless_ms", self.leaderless_ms.clone())],
            counts: self.counts.iter().map(|(k, v)| (*k, *v)).collect(),
        }
    }
}
