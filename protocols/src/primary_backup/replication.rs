//! Shipping the log: the primary's writes, appends, acks and commit rule
//! per mode (with the semi-sync fallback), and a backup taking appends.

use super::messages::{Append, Entry, PbEvent, PbMessage};
use super::params::Mode;
use super::{PrimaryBackup, Role, ROUNDS_KEPT};
use crate::client::{ClientReply, ClientRequest, Token};
use crate::cluster::ServerCtx;
use sim_core::NodeId;

impl PrimaryBackup {
    /// A client's write at this server: the primary appends it and ships
    /// it (Sync, SemiSync); others redirect the client.
    pub(super) fn on_write(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        let epoch = self.epoch;
        let Role::Primary(state) = &mut self.role else {
            self.redirect(ctx, client, &request);
            return;
        };
        // A retry of a write still waiting: answer this attempt instead.
        let retried = state
            .waiting
            .values_mut()
            .find(|(_, r)| r.client == request.client && r.seq == request.seq);
        if let Some(waiting) = retried {
            *waiting = (client, request);
            return;
        }
        if state.waiting.len() >= super::PENDING_WRITES_MAX {
            ctx.reply(client, request.answer(ClientReply::Unavailable));
            return;
        }
        let entry = Entry {
            epoch,
            request: Some(request.clone()),
        };
        let digest = entry.digest();
        let index = self.log.append(ctx.storage(), entry);
        ctx.emit(PbEvent::Appended {
            epoch,
            index,
            digest,
        });
        let now = ctx.now();
        let Role::Primary(state) = &mut self.role else {
            unreachable!("still the primary")
        };
        state.waiting.insert(index, (client, request));
        state.uncommitted.push_back((index, now));
        self.sync(ctx);
        if !matches!(self.params.mode, Mode::Async { .. }) {
            self.ship_all(ctx);
        }
        self.advance_commit(ctx);
    }

    /// Async: ships what the log holds now, and arms the next ship.
    pub(super) fn on_ship_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let last = self.log.last_index();
        let Role::Primary(state) = &mut self.role else {
            return;
        };
        let fresh = state.ship_limit < last;
        state.ship_limit = last;
        if fresh {
            // Only backups that lack something: an idle ship sends nothing.
            for peer in ctx.peers() {
                if self.primary_state().next[peer.index()] <= last {
                    self.ship_to(ctx, peer);
                }
            }
        }
        self.arm_ship_timer(ctx);
    }

    pub(super) fn arm_ship_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        if let Mode::Async { ship_interval } = self.params.mode {
            if self.ship_timer.is_none() {
                self.ship_timer = Some(ctx.set_timer(ship_interval.0, super::PbTimer::Ship));
            }
        }
    }

    pub(super) fn primary_state(&self) -> &super::PrimaryState {
        match &self.role {
            Role::Primary(state) => state,
            _ => panic!("{} is not the primary", self.me),
        }
    }

    fn primary_state_mut(&mut self) -> &mut super::PrimaryState {
        match &mut self.role {
            Role::Primary(state) => state,
            _ => panic!("not the primary"),
        }
    }

    /// A new heartbeat round to every backup, each with what it lacks.
    pub(super) fn ship_all(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let now = ctx.now();
        let state = self.primary_state_mut();
        state.round += 1;
        let round = state.round;
        state.rounds.push_back((round, now));
        if state.rounds.len() > ROUNDS_KEPT {
            state.rounds.pop_front();
        }
        for peer in ctx.peers() {
            self.ship_to(ctx, peer);
        }
    }

    /// One append to `peer`: the entries it lacks up to the ship limit (a
    /// batch at most), or none as a heartbeat.
    pub(super) fn ship_to(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, peer: NodeId) {
        let batch = u64::from(self.params.batch_entries_max);
        let (epoch, commit) = (self.epoch, self.commit);
        let state = self.primary_state();
        let next = state.next[peer.index()];
        let last = match self.params.mode {
            Mode::Async { .. } => state.ship_limit.min(self.log.last_index()),
            Mode::Sync | Mode::SemiSync { .. } => self.log.last_index(),
        };
        let to = last.min(next + batch - 1);
        let entries = self.log.slice(next, to).to_vec();
        let prev_index = next - 1;
        let prev_epoch = self.log.get(prev_index).map_or(0, |e| e.epoch);
        let round = state.round;
        let sent = entries.len() as u64;
        self.primary_state_mut().next[peer.index()] = next + sent;
        ctx.send(
            peer,
            PbMessage::Append(Append {
                epoch,
                prev_index,
                prev_epoch,
                entries,
                commit,
                round,
            }),
        );
    }

    /// Whether the latest round a majority answered is recent enough.
    pub(super) fn lease_holds(&self, ctx: &ServerCtx<'_, '_, Self>) -> bool {
        let state = self.primary_state();
        let mut rounds: Vec<u64> = ctx
            .peers()
            .map(|peer| state.acked_round[peer.index()])
            .collect();
        rounds.sort_unstable_by(|a, b| b.cmp(a));
        // The primary answers its own rounds: a majority needs this many more.
        let others = self.majority() - 1;
        let round = if others == 0 {
            state.round
        } else {
            rounds[others - 1]
        };
        if round == 0 {
            return false;
        }
        state
            .rounds
            .iter()
            .find(|(r, _)| *r == round)
            .is_some_and(|(_, sent)| {
                ctx.now() < sent.saturating_add(self.params.lease_on_own_clock())
            })
    }

    /// Reports the lease beginning to hold or lapsing.
    pub(super) fn note_serving(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let holds = self.lease_holds(ctx);
        let state = self.primary_state_mut();
        if state.serving != holds {
            state.serving = holds;
            ctx.emit(PbEvent::Serving(holds));
        }
    }

    /// A backup's answer to an append.
    pub(super) fn on_append_ack(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        epoch: u64,
        ok: bool,
        index: u64,
        round: u64,
    ) {
        if epoch > self.epoch {
            self.adopt_epoch(ctx, epoch);
            self.sync(ctx);
            return;
        }
        if epoch < self.epoch || !self.is_primary() {
            return; // An answer to an earlier primary.
        }
        let last = self.log.last_index();
        let state = self.primary_state_mut();
        let b = from.index();
        state.heard[b] = true;
        state.acked_round[b] = state.acked_round[b].max(round);
        if ok {
            state.acked[b] = state.acked[b].max(index);
            state.next[b] = state.next[b].max(index + 1);
            let acked = state.acked[b];
            ctx.emit(PbEvent::Acked {
                backup: from.0,
                index: acked,
                last,
            });
        } else {
            // Its log ends earlier or differs from `index` on: ship from there.
            state.next[b] = index.max(1);
            state.acked[b] = state.acked[b].min(index.saturating_sub(1));
            self.ship_to(ctx, from);
        }
        self.note_serving(ctx);
        self.maybe_switch_back(ctx);
        self.advance_commit(ctx);
    }

    /// SemiSync: back from the fallback once `acks` backups hold every
    /// committed entry.
    fn maybe_switch_back(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let Mode::SemiSync { acks, .. } = self.params.mode else {
            return;
        };
        let commit = self.commit;
        let me = self.me.index();
        let state = self.primary_state_mut();
        if !state.degraded {
            return;
        }
        let caught_up = (0..state.acked.len())
            .filter(|b| *b != me && state.acked[*b] >= commit)
            .count();
        if caught_up >= acks as usize {
            state.degraded = false;
            ctx.emit(PbEvent::Degraded(false));
        }
    }

    /// SemiSync: falls back when the oldest uncommitted entry has waited
    /// `fallback_timeout` for its acks.
    pub(super) fn maybe_fall_back(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let Mode::SemiSync {
            fallback_timeout, ..
        } = self.params.mode
        else {
            return;
        };
        let now = ctx.now();
        let state = self.primary_state_mut();
        let late = state
            .uncommitted
            .front()
            .is_some_and(|(_, at)| now.saturating_since(*at) >= fallback_timeout.0);
        if !state.degraded && late {
            state.degraded = true;
            ctx.emit(PbEvent::Degraded(true));
            self.advance_commit(ctx);
        }
    }

    /// Commits what the mode allows, applies it and answers its clients.
    pub(super) fn advance_commit(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        if !self.params.no_fencing && !self.lease_holds(ctx) {
            return; // Fenced: a new primary may exist by now.
        }
        let own = if self.params.ack_before_local_sync {
            self.log.last_index()
        } else {
            self.durable
        };
        let me = self.me.index();
        let state = self.primary_state();
        let mut backups: Vec<u64> = (0..state.acked.len())
            .filter(|b| *b != me)
            .map(|b| state.acked[b])
            .collect();
        backups.sort_unstable_by(|a, b| b.cmp(a));
        let (target, safe) = match self.params.mode {
            Mode::Sync => (own.min(*backups.last().expect("a backup")), true),
            Mode::SemiSync { acks, .. } if !state.degraded => {
                (own.min(backups[acks as usize - 1]), true)
            }
            Mode::SemiSync { .. } | Mode::Async { .. } => (own, false),
        };
        // Only an entry of this primary's epoch commits by counting copies;
        // earlier ones commit with it (Raft's Figure 8 rule).
        let target = target.min(self.log.last_index());
        if target <= self.commit || self.log.get(target).map(|e| e.epoch) != Some(self.epoch) {
            return;
        }
        self.commit = target;
        let epoch = self.epoch;
        for (index, result) in self.apply_through(target) {
            let entry = self.log.get(index).expect("applied entries exist");
            ctx.emit(PbEvent::Committed {
                epoch,
                index,
                digest: entry.digest(),
                write: entry.request.is_some(),
                safe,
            });
            let state = self.primary_state_mut();
            while state.uncommitted.front().is_some_and(|(i, _)| *i <= index) {
                state.uncommitted.pop_front();
            }
            if let (Some((client, request)), Some(result)) = (state.waiting.remove(&index), result)
            {
                let token = Token::at(epoch, index);
                let response = request.answer_with(ClientReply::Result(result), token);
                ctx.reply(client, response);
            }
        }
        self.serve_ready_reads(ctx);
    }

    /// The primary's append at a backup (or at a server that thought it led).
    pub(super) fn on_append(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        append: Append,
    ) {
        if append.epoch < self.epoch {
            // A deposed primary: tell it the epoch (the fence).
            let refusal = PbMessage::AppendAck {
                epoch: self.epoch,
                ok: false,
                index: 0,
                round: append.round,
            };
            ctx.send_when_durable(from, refusal);
            return;
        }
        if append.epoch > self.epoch {
            self.adopt_epoch(ctx, append.epoch);
        }
        assert!(
            !self.is_primary(),
            "two primaries in epoch {}: {} and {from}",
            self.epoch,
            self.me
        );
        self.role = Role::Backup;
        self.primary_hint = Some(from);
        self.last_heard = ctx.now();
        self.reset_stand_at(ctx);
        let Append {
            epoch,
            prev_index,
            prev_epoch,
            entries,
            commit,
            round,
        } = append;
        // Sent once its disk has what it took (and the epoch it adopted).
        let answer = |ctx: &mut ServerCtx<'_, '_, Self>, ok: bool, index: u64| {
            let ack = PbMessage::AppendAck {
                epoch,
                ok,
                index,
                round,
            };
            ctx.send_when_durable(from, ack);
        };
        if prev_index > self.log.last_index() {
            answer(ctx, false, self.log.last_index() + 1);
            self.sync(ctx);
            return;
        }
        if prev_index > 0 {
            let mine = self.log.get(prev_index).expect("within the log").epoch;
            if mine != prev_epoch {
                // Skip every entry of that epoch at once.
                let mut first = prev_index;
                while first > 1 && self.log.get(first - 1).map(|e| e.epoch) == Some(mine) {
                    first -= 1;
                }
                answer(ctx, false, first);
                self.sync(ctx);
                return;
            }
        }
        // Every entry of the message is in the log after this loop.
        let matched = prev_index + entries.len() as u64;
        let mut appended_from = None;
        let mut digests = Vec::new();
        for (k, entry) in entries.into_iter().enumerate() {
            let index = prev_index + 1 + k as u64;
            match self.log.get(index) {
                Some(existing) if existing.epoch == entry.epoch => continue,
                Some(_) => self.truncate_from(ctx, index),
                None => {}
            }
            appended_from.get_or_insert(index);
            digests.push(entry.digest());
            self.log.append(ctx.storage(), entry);
        }
        if let Some(from_index) = appended_from {
            ctx.emit(PbEvent::Accepted {
                epoch,
                from: from_index,
                digests,
            });
        }
        self.sync(ctx);
        answer(ctx, true, matched);
        let upto = commit.min(matched);
        if upto > self.commit {
            self.commit = upto;
            self.apply_through(upto);
            self.serve_ready_reads(ctx);
        }
    }
}
