//! Leader election by the Bully algorithm (Garcia-Molina, 1982) on a fully
//! connected network, with heartbeats as the failure detector.
//!
//! Every server knows every server's id. A server that suspects the leader
//! (or boots, or restarts) stands: it sends `Election` to every larger id
//! and waits `answer_timeout`. Any larger server that is alive answers,
//! which tells the candidate to stand down and wait for a `Coordinator`;
//! the answerer stands itself. A candidate nobody larger answers has the
//! largest live id: it declares itself with `Coordinator` to every smaller
//! id and sends `Alive` heartbeats to all. A server that hears a smaller
//! leader (a `Coordinator` or `Alive`) stands against it: this "bullying"
//! is how a restarted server with a larger id takes over.
//!
//! The one synchrony assumption is that an alive server answers within
//! `answer_timeout`. Crashes keep it; a partition or a long pause breaks it,
//! and a smaller id then declares itself beside a larger one (the monitor's
//! `no-lower-leader`).
//!
//! Message counts (no failures), election + answer + coordinator messages:
//! n−1 when only the largest id stands, n(n−1)/2 + n(n−1)/2 + (n−1) = n²−1
//! when the smallest stands (its messages wake every other) or all do.

#[cfg(test)]
mod bully_test;
pub mod messages;
pub mod monitor;
#[cfg(test)]
mod monitor_test;
pub mod params;
pub mod plugin;

use crate::cluster::{ServerCtx, Service};
use messages::{BullyEvent, BullyMessage, BullyTimer, SentKind};
use params::{BullyParams, FirstElection};
use sim_core::{NodeId, TimerId};
use std::sync::Arc;

/// The election this server is standing in.
#[derive(Clone, Copy, Debug)]
struct Candidacy {
    round: u64,
    /// A larger id answered: wait for its `Coordinator`, do not declare.
    answered: bool,
}

#[derive(Debug)]
pub struct Bully {
    params: Arc<BullyParams>,
    uid: u64,
    /// Numbers this server's elections (volatile: a restarted server's
    /// rounds restart too, and a late answer to a round of its previous
    /// life only ends a wait early, which the answer timeout then covers).
    round: u64,
    candidacy: Option<Candidacy>,
    /// Whom this server follows: (id, server); itself when it leads.
    leader: Option<(u64, NodeId)>,
    election_timer: Option<TimerId>,
    silence_timer: Option<TimerId>,
    heartbeat_timer: Option<TimerId>,
}

impl Bully {
    pub fn new(params: Arc<BullyParams>) -> Self {
        Bully {
            params,
            uid: 0,
            round: 0,
            candidacy: None,
            leader: None,
            election_timer: None,
            silence_timer: None,
            heartbeat_timer: None,
        }
    }

    pub fn is_leader(&self, me: NodeId) -> bool {
        self.leader.is_some_and(|(_, node)| node == me)
    }

    fn boot(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.uid = self.params.uids[ctx.id().index()];
        ctx.emit(BullyEvent::Started { uid: self.uid });
    }

    fn uid_of(&self, node: NodeId) -> u64 {
        self.params.uids[node.index()]
    }

    /// Whether a leader with id `uid` may lead this server. The bug switch
    /// accepts any leader; the algorithm only larger ones.
    fn outranks_me(&self, uid: u64) -> bool {
        uid > self.uid || self.params.accept_lower_leader
    }

    fn send(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, to: NodeId, message: BullyMessage) {
        let kind = match message {
            BullyMessage::Election { .. } => SentKind::Election,
            BullyMessage::Answer { .. } => SentKind::Answer,
            BullyMessage::Coordinator { .. } => SentKind::Coordinator,
            BullyMessage::Alive { .. } => SentKind::Heartbeat,
        };
        ctx.emit(BullyEvent::Sent { kind });
        ctx.send(to, message);
    }

    fn start_election(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        debug_assert!(!self.is_leader(ctx.id()), "a leader does not stand again");
        self.round += 1;
        self.leader = None;
        ctx.cancel_timer_in(&mut self.silence_timer);
        ctx.cancel_timer_in(&mut self.election_timer);
        ctx.emit(BullyEvent::ElectionStarted);
        if self.params.declare_without_election {
            self.become_leader(ctx);
            return;
        }
        let larger: Vec<NodeId> = ctx
            .peers()
            .filter(|peer| self.uid_of(*peer) > self.uid)
            .collect();
        for peer in larger {
            let message = BullyMessage::Election {
                uid: self.uid,
                round: self.round,
            };
            self.send(ctx, peer, message);
        }
        // Even with no larger id to ask, wait: a larger server that restarts
        // now will stand too, and must not find this one already leading
        // beside it (see `monitor`'s `no-lower-leader`).
        self.candidacy = Some(Candidacy {
            round: self.round,
            answered: false,
        });
        let timer = ctx.set_timer(
            self.params.answer_timeout.0,
            BullyTimer::NoAnswer(self.round),
        );
        self.election_timer = Some(timer);
    }

    fn become_leader(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let me = ctx.id();
        self.candidacy = None;
        ctx.cancel_timer_in(&mut self.election_timer);
        ctx.cancel_timer_in(&mut self.silence_timer);
        self.leader = Some((self.uid, me));
        ctx.emit(BullyEvent::BecameLeader { uid: self.uid });
        let smaller: Vec<NodeId> = ctx
            .peers()
            .filter(|peer| self.uid_of(*peer) < self.uid)
            .collect();
        for peer in smaller {
            self.send(ctx, peer, BullyMessage::Coordinator { uid: self.uid });
        }
        self.arm_heartbeat(ctx);
    }

    fn arm_heartbeat(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        ctx.cancel_timer_in(&mut self.heartbeat_timer);
        let timer = ctx.set_timer(self.params.heartbeat_interval.0, BullyTimer::Heartbeat);
        self.heartbeat_timer = Some(timer);
    }

    /// Follows `uid` on `node`: ends any candidacy, and any leadership.
    fn follow(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, uid: u64, node: NodeId) {
        debug_assert!(node != ctx.id());
        if self.is_leader(ctx.id()) {
            ctx.emit(BullyEvent::SteppedDown);
            ctx.cancel_timer_in(&mut self.heartbeat_timer);
        }
        self.candidacy = None;
        ctx.cancel_timer_in(&mut self.election_timer);
        if self.leader != Some((uid, node)) {
            self.leader = Some((uid, node));
            ctx.emit(BullyEvent::LearnedLeader { uid });
        }
        self.watch_leader(ctx);
    }

    fn watch_leader(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        ctx.cancel_timer_in(&mut self.silence_timer);
        let timer = ctx.set_timer(self.params.failure_timeout.0, BullyTimer::LeaderSilent);
        self.silence_timer = Some(timer);
    }

    /// Stands unless already standing or leading.
    fn stand(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        if self.candidacy.is_none() && !self.is_leader(ctx.id()) {
            self.start_election(ctx);
        }
    }

    fn on_election(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, from: NodeId, round: u64) {
        debug_assert!(self.uid_of(from) < self.uid, "elections go to larger ids");
        let leader = self.is_leader(ctx.id());
        self.send(ctx, from, BullyMessage::Answer { round, leader });
        self.stand(ctx);
    }

    fn on_answer(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        round: u64,
        leader: bool,
    ) {
        let Some(candidacy) = self.candidacy.filter(|c| c.round == round) else {
            return;
        };
        if leader {
            self.follow(ctx, self.uid_of(from), from);
        } else if !candidacy.answered {
            self.candidacy = Some(Candidacy {
                answered: true,
                ..candidacy
            });
            ctx.cancel_timer_in(&mut self.election_timer);
            let timer = ctx.set_timer(
                self.params.coordinator_timeout.0,
                BullyTimer::NoCoordinator(round),
            );
            self.election_timer = Some(timer);
        }
    }

    fn on_coordinator(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, from: NodeId, uid: u64) {
        if self.outranks_me(uid) {
            self.follow(ctx, uid, from);
        } else if self.is_leader(ctx.id()) {
            // A smaller id declared (it missed this server): correct it.
            self.send(ctx, from, BullyMessage::Coordinator { uid: self.uid });
        } else {
            self.stand(ctx);
        }
    }

    fn on_alive(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, from: NodeId, uid: u64) {
        if self.leader == Some((uid, from)) {
            self.watch_leader(ctx);
            return;
        }
        if !self.outranks_me(uid) {
            // A smaller leader (this server was away, or cut off): bully it,
            // unless already standing or leading, whose messages will.
            self.stand(ctx);
            return;
        }
        // A larger leader than the one followed (or none) is alive: follow
        // it. A smaller one than the one followed is a leader cut off
        // from it, which that one's heartbeats will depose.
        let followed = self.leader.map_or(0, |(followed, _)| followed);
        if self.leader.is_none() || uid > followed || self.is_leader(ctx.id()) {
            self.follow(ctx, uid, from);
        }
    }
}

impl Service for Bully {
    type Message = BullyMessage;
    type Timer = BullyTimer;
    type Event = BullyEvent;
    type Monitor = monitor::BullyMonitor;

    fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.boot(ctx);
        let uids = &self.params.uids;
        let stands = match self.params.first_election {
            FirstElection::All => true,
            FirstElection::Lowest => uids.iter().min() == Some(&self.uid),
            FirstElection::Highest => uids.iter().max() == Some(&self.uid),
        };
        if stands {
            self.start_election(ctx);
        } else {
            // Woken by an election, told by a coordinator, or, if neither
            // comes, it stands itself.
            self.watch_leader(ctx);
        }
    }

    fn on_recover(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.boot(ctx);
        if self.params.accept_lower_leader {
            self.watch_leader(ctx);
        } else {
            // Back from a crash: stand, and take over if this id is larger.
            self.start_election(ctx);
        }
    }

    fn on_message(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        message: BullyMessage,
    ) {
        match message {
            BullyMessage::Election { uid, round } => {
                debug_assert_eq!(uid, self.uid_of(from));
                self.on_election(ctx, from, round);
            }
            BullyMessage::Answer { round, leader } => self.on_answer(ctx, from, round, leader),
            BullyMessage::Coordinator { uid } => self.on_coordinator(ctx, from, uid),
            BullyMessage::Alive { uid } => self.on_alive(ctx, from, uid),
        }
    }

    fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, _id: TimerId, timer: BullyTimer) {
        match timer {
            BullyTimer::Heartbeat => {
                self.heartbeat_timer = None;
                if self.is_leader(ctx.id()) {
                    for peer in ctx.peers() {
                        self.send(ctx, peer, BullyMessage::Alive { uid: self.uid });
                    }
                    self.arm_heartbeat(ctx);
                }
            }
            BullyTimer::LeaderSilent => {
                self.silence_timer = None;
                self.stand(ctx);
            }
            BullyTimer::NoAnswer(round) => {
                self.election_timer = None;
                if self
                    .candidacy
                    .is_some_and(|c| c.round == round && !c.answered)
                {
                    self.become_leader(ctx);
                }
            }
            BullyTimer::NoCoordinator(round) => {
                self.election_timer = None;
                if self.candidacy.is_some_and(|c| c.round == round) {
                    // The larger id that answered never won: stand again.
                    self.candidacy = None;
                    self.start_election(ctx);
                }
            }
        }
    }

    /// The id, as the "term": among servers that believe they lead, the
    /// largest id is the one the others end up following.
    fn leader_term(&self) -> Option<u64> {
        self.leader
            .filter(|(uid, _)| *uid == self.uid)
            .map(|(uid, _)| uid)
    }
}
