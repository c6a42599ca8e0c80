//! Leader election on a unidirectional ring (Chang–Roberts, and LeLann as a
//! variant), with a failure detector that re-elects when the leader dies.
//!
//! Server i passes ring messages to server i+1 (mod n). Every server starts
//! an election at once, as the textbook message counts assume. An election
//! belongs to an epoch; a newer epoch supersedes an older one everywhere.
//!
//! Failures. The leader sends `Alive` to everyone every heartbeat; a server
//! that hears nothing for `failure_timeout` starts the next epoch. Each ring
//! hop is acknowledged; a successor that does not acknowledge within
//! `hop_timeout` is suspected and skipped, and the message goes on to the
//! next server. A restarted server says `Hello` (so nobody skips it) and
//! learns the leader from its `Alive`; a server that hears a leader with a
//! smaller id than its own starts an election, so the largest live id
//! leads in the end. This assumes a perfect failure detector: crashes, and
//! delays below the timeouts. Pauses or partitions beyond them make the
//! ring elect two leaders, which the monitor reports.
//!
//! Epochs. A server writes each epoch it enters to its storage, without
//! waiting for a sync, and a restarted server resumes from it, so its next
//! election is of a later epoch than any it took part in. A process crash
//! keeps that write; a power loss before the disk's next sync can take
//! it, and a server that lost it while every other witness of the epoch is
//! down may elect itself in that epoch again (`one-leader-per-epoch`
//! reports it). Without a quorum, nothing more can be known.

pub mod messages;
pub mod monitor;
#[cfg(test)]
mod monitor_test;
pub mod params;
pub mod plugin;
#[cfg(test)]
mod ring_test;

use crate::cluster::{ServerCtx, Service};
use messages::{RingEvent, RingMessage, RingTimer, SentKind};
use params::{RingParams, RingVariant};
use sim_core::{LocalTime, NodeId, TimerId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Where a server keeps the latest epoch it entered.
const EPOCH_KEY: &str = "ring/epoch";

/// Ring messages awaiting an ack at most; beyond it a hop goes untracked
/// (sent, but not resent if the successor died).
const UNACKED_MAX: usize = 4_096;

/// One election or announcement message awaiting its successor's ack.
#[derive(Debug)]
struct Unacked {
    successor: NodeId,
    message: RingMessage,
    timer: TimerId,
    /// When it was sent, and when the successor was last heard from since
    /// (this server's clock): heard since means it is up, whatever the ack.
    sent_at: LocalTime,
    heard_at: Option<LocalTime>,
}

#[derive(Debug)]
pub struct RingElection {
    params: Arc<RingParams>,
    uid: u64,
    epoch: u64,
    /// This server has sent its own id in the current epoch.
    participant: bool,
    /// The current epoch's election ended here (a leader is known).
    decided: bool,
    /// LeLann: the ids seen in this epoch, with their servers.
    seen: BTreeMap<u64, NodeId>,
    leader: Option<(u64, NodeId)>,
    /// Servers this one suspects (sparse: memory grows with the suspects,
    /// not with the ring, so a ring of n servers holds O(n) in all).
    suspected: BTreeSet<NodeId>,
    /// hop -> (successor, message, its ack timer, when it was sent).
    unacked: BTreeMap<u64, Unacked>,
    /// LeLann: restarted, and not yet in an epoch it started or saw
    /// decided. Before the crash it may have forwarded ids of the epoch now
    /// running and forgotten them, so its own id coming home would make it
    /// decide without them (two leaders in one epoch). It starts the next
    /// epoch instead of joining a running one.
    rejoining: bool,
    next_hop: u64,
    silence_timer: Option<TimerId>,
    stall_timer: Option<TimerId>,
    heartbeat_timer: Option<TimerId>,
}

impl RingElection {
    pub fn new(params: Arc<RingParams>) -> Self {
        RingElection {
            params,
            uid: 0,
            epoch: 0,
            participant: false,
            decided: false,
            seen: BTreeMap::new(),
            rejoining: false,
            leader: None,
            suspected: BTreeSet::new(),
            unacked: BTreeMap::new(),
            next_hop: 0,
            silence_timer: None,
            stall_timer: None,
            heartbeat_timer: None,
        }
    }

    pub fn is_leader(&self, me: NodeId) -> bool {
        self.leader.is_some_and(|(_, node)| node == me)
    }

    fn boot(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let me = ctx.id();
        self.uid = self.params.uids[me.index()];
        self.suspected.clear();
        ctx.emit(RingEvent::Started { uid: self.uid });
    }

    fn set_suspected(&mut self, node: NodeId, suspected: bool) {
        if suspected {
            self.suspected.insert(node);
        } else {
            self.suspected.remove(&node);
        }
    }

    /// The next server along the ring that is not suspected, if any.
    fn successor(&self, ctx: &ServerCtx<'_, '_, Self>) -> Option<NodeId> {
        let n = ctx.server_count();
        let me = ctx.id().0;
        (1..n)
            .map(|step| NodeId((me + step) % n))
            .find(|node| !self.suspected.contains(node))
    }

    fn count(&self, ctx: &mut ServerCtx<'_, '_, Self>, kind: SentKind) {
        ctx.emit(RingEvent::Sent {
            kind,
            epoch: self.epoch,
        });
    }

    /// Sends an election or announcement message to the successor and
    /// waits for its ack. Alone on the ring, the message has come home.
    fn send_ring(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, mut message: RingMessage) {
        let hop = self.next_hop;
        self.next_hop += 1;
        let kind = match &mut message {
            RingMessage::Election { hop: h, .. } => {
                *h = hop;
                SentKind::Election
            }
            RingMessage::Elected { hop: h, .. } => {
                *h = hop;
                SentKind::Announcement
            }
            other => unreachable!("not a ring message: {other:?}"),
        };
        let Some(next) = self.successor(ctx) else {
            self.came_home_alone(ctx, message);
            return;
        };
        self.count(ctx, kind);
        ctx.send(next, message.clone());
        if self.unacked.len() < UNACKED_MAX {
            let timer = ctx.set_timer(self.params.hop_timeout.0, RingTimer::Hop(hop));
            self.unacked.insert(
                hop,
                Unacked {
                    successor: next,
                    message,
                    timer,
                    sent_at: ctx.now(),
                    heard_at: None,
                },
            );
        }
    }

    /// Every other server is suspected: this one is the ring.
    fn came_home_alone(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, message: RingMessage) {
        if let RingMessage::Election { epoch, .. } = message {
            if epoch == self.epoch && !self.decided {
                self.become_leader(ctx);
            }
        }
    }

    /// Enters `epoch`: whatever this server believed before is void.
    fn join(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, epoch: u64) {
        debug_assert!(epoch > self.epoch);
        if self.is_leader(ctx.id()) {
            ctx.emit(RingEvent::SteppedDown);
        }
        self.epoch = epoch;
        // Remembered across a crash: a restarted server that forgot the
        // epoch would elect itself in one that another server already led
        // (a process crash keeps this write; a power loss before the next
        // sync may not, which the module doc states).
        ctx.storage().put(EPOCH_KEY, epoch.to_le_bytes().to_vec());
        ctx.storage().sync_grouped();
        self.participant = false;
        self.decided = false;
        self.seen.clear();
        self.leader = None;
        ctx.cancel_timer_in(&mut self.heartbeat_timer);
        ctx.cancel_timer_in(&mut self.silence_timer);
        ctx.cancel_timer_in(&mut self.stall_timer);
        let timer = ctx.set_timer(
            self.params.election_timeout.0,
            RingTimer::ElectionStalled(epoch),
        );
        self.stall_timer = Some(timer);
    }

    /// Whether this server must not take part in the epoch running now.
    fn must_not_join(&self) -> bool {
        self.rejoining && !self.participant
    }

    fn start_election(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.rejoining = false;
        self.join(ctx, self.epoch + 1);
        ctx.emit(RingEvent::ElectionStarted { epoch: self.epoch });
        self.send_own(ctx);
    }

    fn send_own(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.participant = true;
        self.seen.insert(self.uid, ctx.id());
        let message = RingMessage::Election {
            uid: self.uid,
            origin: ctx.id(),
            epoch: self.epoch,
            hop: 0,
        };
        self.send_ring(ctx, message);
    }

    fn become_leader(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        debug_assert!(!self.decided);
        let me = ctx.id();
        self.decided = true;
        self.rejoining = false;
        self.leader = Some((self.uid, me));
        ctx.cancel_timer_in(&mut self.stall_timer);
        ctx.emit(RingEvent::BecameLeader {
            epoch: self.epoch,
            uid: self.uid,
        });
        if self.params.variant == RingVariant::ChangRoberts {
            let message = RingMessage::Elected {
                uid: self.uid,
                leader: me,
                epoch: self.epoch,
                hop: 0,
            };
            self.send_ring(ctx, message);
        }
        self.send_heartbeat(ctx);
    }

    fn learn_leader(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, uid: u64, node: NodeId) {
        self.decided = true;
        self.rejoining = false;
        self.leader = Some((uid, node));
        ctx.cancel_timer_in(&mut self.stall_timer);
        ctx.emit(RingEvent::LearnedLeader {
            epoch: self.epoch,
            uid,
        });
        self.watch_leader(ctx);
    }

    fn watch_leader(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        ctx.cancel_timer_in(&mut self.silence_timer);
        let timer = ctx.set_timer(self.params.failure_timeout.0, RingTimer::LeaderSilent);
        self.silence_timer = Some(timer);
    }

    fn send_heartbeat(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        for peer in ctx.peers() {
            self.count(ctx, SentKind::Heartbeat);
            ctx.send(
                peer,
                RingMessage::Alive {
                    uid: self.uid,
                    epoch: self.epoch,
                },
            );
        }
        ctx.cancel_timer_in(&mut self.heartbeat_timer);
        let timer = ctx.set_timer(self.params.heartbeat_interval.0, RingTimer::Heartbeat);
        self.heartbeat_timer = Some(timer);
    }

    fn ack(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, from: NodeId, hop: u64) {
        self.set_suspected(from, false);
        self.count(ctx, SentKind::Ack);
        ctx.send(from, RingMessage::HopAck { hop });
    }

    /// Told that epoch `epoch` is on (this server was away): join it, and
    /// follow its leader if that id is larger than ours, else stand.
    fn on_current(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        epoch: u64,
        leader: Option<(u64, NodeId)>,
    ) {
        if epoch < self.epoch || (epoch == self.epoch && self.decided) {
            return;
        }
        if epoch > self.epoch {
            self.join(ctx, epoch);
        }
        match leader {
            Some((uid, node)) if uid > self.uid => self.learn_leader(ctx, uid, node),
            Some(_) => self.start_election(ctx),
            // An election is running: take part in it, or, back from a
            // crash under LeLann, supersede it (see `rejoining`).
            None if self.must_not_join() => self.start_election(ctx),
            None if !self.participant => self.send_own(ctx),
            None => {}
        }
    }

    fn on_election(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        uid: u64,
        origin: NodeId,
        epoch: u64,
    ) {
        if epoch < self.epoch {
            self.tell_current(ctx, origin);
            return;
        }
        if epoch > self.epoch {
            self.join(ctx, epoch);
        }
        if self.must_not_join() && !self.decided {
            // The running epoch may hold ids this server forgot in its
            // crash: start the next one; this message's epoch is then over.
            self.start_election(ctx);
            return;
        }
        match self.params.variant {
            RingVariant::ChangRoberts => self.chang_roberts(ctx, uid, origin),
            RingVariant::LeLann => self.lelann(ctx, uid, origin),
        }
    }

    /// Tells `to`, which sent a message of an older epoch, the epoch now.
    fn tell_current(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, to: NodeId) {
        if to == ctx.id() {
            return;
        }
        self.count(ctx, SentKind::Catchup);
        let leader = self.leader.filter(|_| self.decided);
        ctx.send(
            to,
            RingMessage::Current {
                epoch: self.epoch,
                leader,
            },
        );
    }

    /// A late id in a decided epoch comes from a server that was away: if
    /// it outranks the leader, elect again; else tell it the leader.
    fn late_id(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, uid: u64, origin: NodeId) {
        let leader_uid = self.leader.map_or(0, |(uid, _)| uid);
        if uid > leader_uid {
            self.start_election(ctx);
        } else {
            self.tell_current(ctx, origin);
        }
    }

    fn chang_roberts(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, uid: u64, origin: NodeId) {
        if self.decided {
            self.late_id(ctx, uid, origin);
            return;
        }
        let forward = RingMessage::Election {
            uid,
            origin,
            epoch: self.epoch,
            hop: 0,
        };
        if uid == self.uid {
            self.become_leader(ctx);
        } else if uid > self.uid {
            // A larger id will win; this server need not stand.
            self.participant = true;
            self.send_ring(ctx, forward);
        } else if self.params.forward_smaller_ids {
            if !self.participant {
                self.send_own(ctx);
            }
            self.send_ring(ctx, forward);
        } else if !self.participant {
            self.send_own(ctx);
        }
    }

    fn lelann(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, uid: u64, origin: NodeId) {
        if uid == self.uid {
            // Our id came home behind every other (FIFO links): the largest
            // id seen leads, unless the leader's heartbeat said so first.
            // (Not sent in this incarnation: a message from before a crash,
            // whose round this server did not watch.)
            if !self.decided && self.participant {
                let (&best, &node) = self.seen.last_key_value().expect("own id is seen");
                if best == self.uid {
                    self.become_leader(ctx);
                } else {
                    self.learn_leader(ctx, best, node);
                }
            }
            return;
        }
        if self.decided && self.leader.is_some_and(|(leader, _)| uid > leader) {
            self.late_id(ctx, uid, origin);
            return;
        }
        if !self.participant && !self.decided {
            self.send_own(ctx);
        }
        // Every id goes all the way round, also past servers that know the
        // leader already: its owner decides only when it comes home.
        self.seen.insert(uid, origin);
        let forward = RingMessage::Election {
            uid,
            origin,
            epoch: self.epoch,
            hop: 0,
        };
        self.send_ring(ctx, forward);
    }

    fn on_elected(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        uid: u64,
        leader: NodeId,
        epoch: u64,
    ) {
        if leader == ctx.id() {
            // The announcement went round.
            return;
        }
        if epoch < self.epoch {
            self.tell_current(ctx, leader);
            return;
        }
        if epoch > self.epoch {
            self.join(ctx, epoch);
        }
        // The leader's heartbeat may have come first; the announcement
        // still goes all the way round.
        if !(self.decided && self.leader == Some((uid, leader))) {
            self.learn_leader(ctx, uid, leader);
        }
        let forward = RingMessage::Elected {
            uid,
            leader,
            epoch,
            hop: 0,
        };
        self.send_ring(ctx, forward);
    }

    fn on_alive(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, from: NodeId, uid: u64, epoch: u64) {
        if epoch < self.epoch {
            return;
        }
        if epoch > self.epoch {
            self.join(ctx, epoch);
        }
        if uid < self.uid {
            // A smaller id leads (this server was away): take over.
            self.start_election(ctx);
            return;
        }
        // A larger id leads this epoch; if this server's election is still
        // running here, it has lost it anyway.
        if self.leader != Some((uid, from)) {
            self.learn_leader(ctx, uid, from);
        } else {
            self.watch_leader(ctx);
        }
    }

    fn on_hop_timeout(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, hop: u64) {
        let Some(Unacked {
            successor,
            message,
            sent_at,
            heard_at,
            ..
        }) = self.unacked.remove(&hop)
        else {
            return;
        };
        // Heard from since: it was down when the message came and is back
        // (its `Hello` said so). Only silence makes a server suspect.
        let heard_since = heard_at.is_some_and(|at| at > sent_at);
        self.set_suspected(successor, !heard_since);
        let epoch = match &message {
            RingMessage::Election { epoch, .. } | RingMessage::Elected { epoch, .. } => *epoch,
            _ => unreachable!("only ring messages wait for acks"),
        };
        if epoch == self.epoch {
            self.send_ring(ctx, message);
        }
    }
}

impl Service for RingElection {
    type Message = RingMessage;
    type Timer = RingTimer;
    type Event = RingEvent;
    type Monitor = monitor::RingMonitor;

    fn state_heap_bytes(&self) -> usize {
        crate::heap::set_bytes(&self.suspected)
            + crate::heap::map_bytes(&self.seen)
            + crate::heap::map_bytes(&self.unacked)
    }

    fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.boot(ctx);
        self.start_election(ctx);
    }

    fn on_recover(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.boot(ctx);
        if let Some(bytes) = ctx.storage().get(EPOCH_KEY) {
            self.epoch = u64::from_le_bytes(bytes.try_into().expect("an epoch is 8 bytes"));
        }
        self.rejoining = self.params.variant == RingVariant::LeLann;
        for peer in ctx.peers() {
            self.count(ctx, SentKind::Hello);
            ctx.send(peer, RingMessage::Hello);
        }
        // The leader answers with `Alive`; if none does, elect.
        self.watch_leader(ctx);
    }

    fn on_message(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        message: RingMessage,
    ) {
        // Only a successor with a message awaiting its ack is asked when it
        // was last heard, so that is the only place the time is kept.
        let now = ctx.now();
        for waiting in self.unacked.values_mut() {
            if waiting.successor == from {
                waiting.heard_at = Some(now);
            }
        }
        match message {
            RingMessage::Election {
                uid,
                origin,
                epoch,
                hop,
            } => {
                self.ack(ctx, from, hop);
                self.on_election(ctx, uid, origin, epoch);
            }
            RingMessage::Elected {
                uid,
                leader,
                epoch,
                hop,
            } => {
                self.ack(ctx, from, hop);
                self.on_elected(ctx, uid, leader, epoch);
            }
            RingMessage::HopAck { hop } => {
                self.set_suspected(from, false);
                if let Some(waiting) = self.unacked.remove(&hop) {
                    ctx.cancel_timer(waiting.timer);
                }
            }
            RingMessage::Alive { uid, epoch } => {
                self.set_suspected(from, false);
                self.on_alive(ctx, from, uid, epoch);
            }
            RingMessage::Current { epoch, leader } => self.on_current(ctx, epoch, leader),
            RingMessage::Hello => {
                self.set_suspected(from, false);
                if self.is_leader(ctx.id()) {
                    self.count(ctx, SentKind::Heartbeat);
                    ctx.send(
                        from,
                        RingMessage::Alive {
                            uid: self.uid,
                            epoch: self.epoch,
                        },
                    );
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, _id: TimerId, timer: RingTimer) {
        match timer {
            RingTimer::Heartbeat => {
                self.heartbeat_timer = None;
                if self.is_leader(ctx.id()) {
                    self.send_heartbeat(ctx);
                }
            }
            RingTimer::LeaderSilent => {
                self.silence_timer = None;
                if !self.is_leader(ctx.id()) {
                    self.start_election(ctx);
                }
            }
            RingTimer::Hop(hop) => self.on_hop_timeout(ctx, hop),
            RingTimer::ElectionStalled(epoch) => {
                self.stall_timer = None;
                if epoch == self.epoch && !self.decided {
                    self.start_election(ctx);
                }
            }
        }
    }

    fn leader_term(&self) -> Option<u64> {
        self.leader
            .filter(|(uid, _)| *uid == self.uid)
            .map(|_| self.epoch)
    }
}
