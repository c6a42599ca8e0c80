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
use crate::election::Electorate;
use crate::invariant::{Monitor, ProtocolMetrics, Violation};
use sim_core::{NodeId, SimTime};

pub const NO_LOWER_LEADER: &str = "no-lower-leader";
pub use crate::election::MAX_ID_LEADER;

/// Leaderless spells remembered at most (samples of `leaderless_ms`).
const SPELLS_MAX: usize = 100_000;

#[derive(Debug, Default)]
pub struct BullyMonitor {
    servers: Electorate,
    /// Since when no live server has led, if none does.
    leaderless_since: Option<SimTime>,
    /// Per spell: from the moment no live server led (the start, or the
    /// last leader's crash) to the next leader.
    leaderless_ms: Vec<f64>,
}

impl Monitor<BullyEvent> for BullyMonitor {
    const INVARIANTS: &'static [&'static str] = &[NO_LOWER_LEADER, MAX_ID_LEADER];

    fn new(servers: u32) -> Self {
        BullyMonitor {
            servers: Electorate::new(servers, false),
            ..BullyMonitor::default()
        }
    }

    fn observe(&mut self, time: SimTime, node: NodeId, event: &BullyEvent) -> Option<Violation> {
        let i = node.index();
        match *event {
            BullyEvent::Started { uid } => {
                self.servers.started(i, uid);
                if !self.servers.anyone_leads() && self.leaderless_since.is_none() {
                    self.leaderless_since = Some(time);
                }
            }
            BullyEvent::ElectionStarted => self.servers.bump("elections_started"),
            BullyEvent::Sent { kind } => self.servers.bump(match kind {
                SentKind::Election => "election_messages",
                SentKind::Answer => "answer_messages",
                SentKind::Coordinator => "coordinator_messages",
                SentKind::Heartbeat => "heartbeat_messages",
            }),
            BullyEvent::LearnedLeader { uid } => self.servers.believes[i] = Some(uid),
            BullyEvent::SteppedDown => self.servers.leading[i] = false,
            BullyEvent::BecameLeader { uid } => {
                debug_assert_eq!(self.servers.uids[i], Some(uid));
                self.servers.bump("leaders_elected");
                let larger_leader = self
                    .servers
                    .live_leaders_but(i)
                    .find(|&j| self.servers.uids[j] > Some(uid));
                if self.servers.anyone_leads() {
                    self.servers.bump("takeovers");
                }
                self.servers.lead(i, uid);
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
                            self.servers.uids[j].unwrap_or(0)
                        ),
                    });
                }
            }
        }
        None
    }

    fn node_crashed(&mut self, time: SimTime, node: NodeId) {
        self.servers.crashed(node.index());
        if !self.servers.anyone_leads() && self.leaderless_since.is_none() {
            self.leaderless_since = Some(time);
        }
    }

    fn heap_bytes(&self) -> usize {
        self.servers.heap_bytes() + self.leaderless_ms.capacity() * 8
    }

    fn finish(&mut self, time: SimTime) -> Vec<Violation> {
        self.servers.finish(time)
    }

    fn metrics(&self) -> ProtocolMetrics {
        ProtocolMetrics {
            samples: vec![("leaderless_ms", self.leaderless_ms.clone())],
            counts: self.servers.counts(),
            series: Vec::new(),
            ..ProtocolMetrics::default()
        }
    }
}
