//! Failure detection and failover: the tick, elections among the backups,
//! and becoming the primary.

use super::messages::{Entry, PbEvent, PbMessage};
use super::{PrimaryBackup, PrimaryState, Role};
use crate::cluster::ServerCtx;
use sim_core::NodeId;

impl PrimaryBackup {
    /// Every `heartbeat_interval`: the primary re-ships what went
    /// unanswered, sends its heartbeat round and checks its lease and the
    /// semi-sync fallback; a backup stands if its primary fell silent.
    pub(super) fn on_tick(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        if let Role::Primary(state) = &mut self.role {
            for b in 0..state.next.len() {
                // Unanswered since the last tick: the append (or its ack)
                // may be lost; ship again from what it acked.
                if !state.heard[b] && state.next[b] > state.acked[b] + 1 {
                    state.next[b] = state.acked[b] + 1;
                }
                state.heard[b] = false;
            }
            self.ship_all(ctx);
            self.note_serving(ctx);
            self.maybe_fall_back(ctx);
            self.advance_commit(ctx);
        } else if ctx.now() >= self.stand_at {
            self.stand(ctx);
        }
        self.expire_reads(ctx);
    }

    /// Stands for primary of the next epoch: votes for itself (durably,
    /// before asking anyone) and asks every other server.
    fn stand(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.epoch += 1;
        self.voted_for = Some(self.me);
        self.persist_epoch(ctx);
        self.sync(ctx);
        let mut votes = vec![false; self.servers as usize];
        votes[self.me.index()] = true;
        self.role = Role::Candidate { votes };
        self.primary_hint = None;
        self.reset_stand_at(ctx);
        let request = PbMessage::RequestVote {
            epoch: self.epoch,
            last_epoch: self.last_epoch(),
            last_index: self.log.last_index(),
        };
        for peer in ctx.peers() {
            ctx.send_when_durable(peer, request.clone());
        }
    }

    pub(super) fn on_request_vote(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        epoch: u64,
        candidate_end: (u64, u64),
    ) {
        // Stickiness: a server that heard a live primary within the
        // failover timeout (or leads under a lease) neither adopts the
        // epoch nor votes. This is what lets the lease fence.
        let heard_recently = matches!(self.role, Role::Backup)
            && self.primary_hint.is_some()
            && ctx.now().saturating_since(self.last_heard) < self.params.failover_timeout.0;
        let leading = self.is_primary() && self.lease_holds(ctx);
        if epoch < self.epoch || heard_recently || leading {
            ctx.send(
                from,
                PbMessage::Vote {
                    epoch: self.epoch,
                    granted: false,
                },
            );
            return;
        }
        if epoch > self.epoch {
            self.adopt_epoch(ctx, epoch);
        }
        let own_end = (self.last_epoch(), self.log.last_index());
        let free = self.voted_for.is_none_or(|v| v == from);
        let granted = free && (self.params.promote_any || candidate_end >= own_end);
        if granted {
            self.voted_for = Some(from);
            self.persist_epoch(ctx);
            self.reset_stand_at(ctx);
        }
        self.sync(ctx);
        ctx.send_when_durable(
            from,
            PbMessage::Vote {
                epoch: self.epoch,
                granted,
            },
        );
    }

    pub(super) fn on_vote(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        epoch: u64,
        granted: bool,
    ) {
        if epoch > self.epoch {
            self.adopt_epoch(ctx, epoch);
            self.sync(ctx);
            return;
        }
        let quorum = self.election_quorum();
        let Role::Candidate { votes } = &mut self.role else {
            return;
        };
        if epoch < self.epoch || !granted {
            return;
        }
        votes[from.index()] = true;
        if votes.iter().filter(|v| **v).count() >= quorum {
            self.become_primary(ctx);
        }
    }

    /// Leads the current epoch: appends its no-op and sends a first round.
    pub(super) fn become_primary(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let next = self.log.last_index() + 1;
        self.role = Role::Primary(Box::new(PrimaryState::new(
            self.servers as usize,
            next,
            ctx.now(),
        )));
        self.primary_hint = Some(self.me);
        ctx.emit(PbEvent::Promoted { epoch: self.epoch });
        let entry = Entry {
            epoch: self.epoch,
            request: None,
        };
        let digest = entry.digest();
        let index = self.log.append(ctx.storage(), entry);
        ctx.emit(PbEvent::Appended {
            epoch: self.epoch,
            index,
            digest,
        });
        let now = ctx.now();
        let Role::Primary(state) = &mut self.role else {
            unreachable!("just promoted")
        };
        state.first_own_index = index;
        state.ship_limit = index;
        state.uncommitted.push_back((index, now));
        self.sync(ctx);
        self.ship_all(ctx);
        self.arm_ship_timer(ctx);
    }
}
