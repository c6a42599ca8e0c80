//! Ring election's invariants and message counts, from the servers' events.
//!
//! - `one-leader-per-epoch`: no two servers become leader in one epoch.
//! - `one-live-leader`: no server becomes leader while another live server
//!   still leads (of any epoch): the split brain a partition causes.
//! - `max-id-leader`: at the end of the run, every live server believes the
//!   live server with the largest id leads, and that server believes so
//!   too. Judged at the end, so scenarios stop their faults early enough
//!   for the last election to finish.

use super::messages::{RingEvent, SentKind};
use crate::election::Electorate;
use crate::invariant::{Monitor, ProtocolMetrics, Violation};
use sim_core::{NodeId, SimTime};
use std::collections::BTreeMap;

pub const ONE_LEADER_PER_EPOCH: &str = "one-leader-per-epoch";
pub use crate::election::MAX_ID_LEADER;
pub const ONE_LIVE_LEADER: &str = "one-live-leader";

/// Epochs remembered at most (leaders and message counts per epoch).
const EPOCHS_MAX: usize = 100_000;

#[derive(Debug, Default)]
pub struct RingMonitor {
    servers: Electorate,
    leader_of_epoch: BTreeMap<u64, NodeId>,
    /// Per epoch: election messages sent, and when it started.
    election_messages_of_epoch: BTreeMap<u64, u64>,
    started_at: BTreeMap<u64, SimTime>,
    /// Per elected epoch: the time from its first start to its leader.
    election_ms: Vec<f64>,
}

impl Monitor<RingEvent> for RingMonitor {
    const INVARIANTS: &'static [&'static str] =
        &[ONE_LEADER_PER_EPOCH, ONE_LIVE_LEADER, MAX_ID_LEADER];

    fn new(servers: u32) -> Self {
        RingMonitor {
            servers: Electorate::new(servers, true),
            ..RingMonitor::default()
        }
    }

    fn observe(&mut self, time: SimTime, node: NodeId, event: &RingEvent) -> Option<Violation> {
        let i = node.index();
        match *event {
            RingEvent::Started { uid } => self.servers.started(i, uid),
            RingEvent::ElectionStarted { epoch } => {
                self.servers.bump("elections_started");
                if self.started_at.len() < EPOCHS_MAX {
                    self.started_at.entry(epoch).or_insert(time);
                }
            }
            RingEvent::Sent { kind, epoch } => {
                let name = match kind {
                    SentKind::Election => "election_messages",
                    SentKind::Announcement => "announcement_messages",
                    SentKind::Ack => "ack_messages",
                    SentKind::Heartbeat => "heartbeat_messages",
                    SentKind::Hello => "hello_messages",
                    SentKind::Catchup => "catchup_messages",
                };
                self.servers.bump(name);
                if kind == SentKind::Election && self.election_messages_of_epoch.len() < EPOCHS_MAX
                {
                    *self.election_messages_of_epoch.entry(epoch).or_default() += 1;
                }
            }
            RingEvent::LearnedLeader { uid, .. } => self.servers.believes[i] = Some(uid),
            RingEvent::SteppedDown => self.servers.leading[i] = false,
            RingEvent::BecameLeader { epoch, uid } => {
                self.servers.bump("leaders_elected");
                let other_leader = self.servers.live_leaders_but(i).next();
                self.servers.lead(i, uid);
                match self.leader_of_epoch.get(&epoch) {
                    // The more specific report first: same epoch, two leaders.
                    Some(&other) if other != node => {
                        return Some(Violation {
                            invariant: ONE_LEADER_PER_EPOCH,
                            time,
                            node: Some(node),
                            message: format!(
                                "{node} became leader of epoch {epoch}, which {other} already leads"
                            ),
                        });
                    }
                    Some(_) => {}
                    None => {
                        if self.leader_of_epoch.len() < EPOCHS_MAX {
                            self.leader_of_epoch.insert(epoch, node);
                        }
                        if let Some(start) = self.started_at.get(&epoch) {
                            self.election_ms
                                .push(time.saturating_since(*start).as_nanos() as f64 / 1e6);
                        }
                    }
                }
                if let Some(j) = other_leader {
                    return Some(Violation {
                        invariant: ONE_LIVE_LEADER,
                        time,
                        node: Some(node),
                        message: format!(
                            "{node} became leader of epoch {epoch} while #{j} still leads"
                        ),
                    });
                }
            }
        }
        None
    }

    fn node_crashed(&mut self, _time: SimTime, node: NodeId) {
        self.servers.crashed(node.index());
    }

    fn heap_bytes(&self) -> usize {
        use crate::heap::map_bytes;
        self.servers.heap_bytes()
            + map_bytes(&self.leader_of_epoch)
            + map_bytes(&self.election_messages_of_epoch)
            + map_bytes(&self.started_at)
            + self.election_ms.capacity() * 8
    }

    fn finish(&mut self, time: SimTime) -> Vec<Violation> {
        self.servers.finish(time)
    }

    fn metrics(&self) -> ProtocolMetrics {
        ProtocolMetrics {
            samples: vec![
                // Counted once the run is over: a swallowed id may still
                // be in flight when the winner's comes home.
                (
                    "election_messages",
                    self.leader_of_epoch
                        .keys()
                        .map(|epoch| {
                            self.election_messages_of_epoch
                                .get(epoch)
                                .copied()
                                .unwrap_or(0) as f64
                        })
                        .collect(),
                ),
                ("election_ms", self.election_ms.clone()),
            ],
            counts: self.servers.counts(),
            series: Vec::new(),
            ..ProtocolMetrics::default()
        }
    }
}
