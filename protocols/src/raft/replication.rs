//! Log replication: proposing, AppendEntries with the consistency check and
//! fast backtracking, the commit rule (Figure 8), and applying in order.

use super::app::{RaftApp, RaftEnv};
use super::kv_app::KvApp;
use super::messages::{
    AppendEntries, AppendReply, Command, Conflict, LogEntry, RaftEvent, RaftMessage, RaftTimer,
};
use super::{Raft, Role, PENDING_WRITES_MAX, UNCOMMITTED_ENTRIES_MAX};
use crate::client::{ClientReply, ClientRequest};
use crate::cluster::ServerCtx;
use sim_core::NodeId;

/// Heartbeat rounds whose send time a leader remembers at most.
const ROUNDS_KEPT_MAX: usize = 4_096;

impl<A: RaftApp> Raft<A> {
    /// A leader takes a proposal for `waiter`: appended, replicated, and
    /// `RaftEnv::applied` with its waiter once committed. `None` when it is
    /// refused before anything was appended (too many proposals waiting or
    /// uncommitted), so the proposer may treat it as definitely not applied.
    pub fn propose_command<E: RaftEnv<A>>(
        &mut self,
        ctx: &mut E,
        command: A::Command,
        waiter: A::Waiter,
    ) -> Option<u64> {
        // Saturating: with a bug switch on, a leader may be elected without
        // entries it had learned were committed.
        let uncommitted = self.log.last_index().saturating_sub(self.commit_index);
        let state = self.leader_state.as_ref().expect("only leaders propose");
        if state.pending_writes.len() >= PENDING_WRITES_MAX
            || uncommitted >= UNCOMMITTED_ENTRIES_MAX
        {
            return None;
        }
        let term = self.term;
        let index = self.append_own(
            ctx,
            LogEntry {
                term,
                command: Command::Client(command),
            },
        );
        let state = self.leader_state.as_mut().expect("still leading");
        state.pending_writes.insert(index, waiter);
        Some(index)
    }

    /// Appends to the leader's own log, asks for a sync, and sends it on
    /// at once: the followers write while the leader does. The leader's
    /// own copy counts toward a majority only when its sync completes
    /// (`own_copy_durable`).
    pub(super) fn append_own<E: RaftEnv<A>>(
        &mut self,
        ctx: &mut E,
        entry: LogEntry<A::Command>,
    ) -> u64 {
        let index = self.store_entry(ctx, entry);
        self.sync(ctx);
        for peer in ctx.peers() {
            self.send_new_entries(ctx, peer);
        }
        index
    }

    /// A sync completed on a leader: its own copy counts up to what is
    /// durable.
    pub(super) fn own_copy_durable<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        let me = ctx.id().index();
        let durable = self.durable_index;
        let state = self.leader_state.as_mut().expect("leading");
        if durable > state.match_index[me] {
            state.match_index[me] = durable;
            self.advance_commit(ctx);
        }
    }

    /// Sends a peer the entries it has not been sent yet (pipelined).
    fn send_new_entries<E: RaftEnv<A>>(&mut self, ctx: &mut E, peer: NodeId) {
        let state = self.leader_state.as_ref().expect("leading");
        let from = state.sent_until[peer.index()] + 1;
        if from <= self.log.last_index() {
            self.send_append(ctx, peer, from);
        }
    }

    /// Sends AppendEntries to `peer` starting at `from` (empty: a heartbeat).
    fn send_append<E: RaftEnv<A>>(&mut self, ctx: &mut E, peer: NodeId, from: u64) {
        debug_assert!(from >= 1);
        let batch = self.params.batch_entries_max as u64;
        let to = self.log.last_index().min(from + batch - 1);
        let entries = self.log.slice(from, to).to_vec();
        let prev = from - 1;
        let state = self.leader_state.as_mut().expect("leading");
        let round = state.round;
        if to >= from {
            state.sent_until[peer.index()] = state.sent_until[peer.index()].max(to);
        }
        let message = RaftMessage::AppendEntries(AppendEntries {
            term: self.term,
            prev_log_index: prev,
            prev_log_term: self.term_at(prev),
            entries,
            leader_commit: self.commit_index,
            round,
        });
        ctx.send(peer, message);
    }

    /// A new heartbeat round to every peer; it also resends what is unacknowledged.
    pub(super) fn broadcast_heartbeat<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        let now = ctx.now();
        let me = ctx.id().index();
        let interval = self.params.heartbeat();
        let state = self
            .leader_state
            .as_mut()
            .expect("only leaders send heartbeats");
        state.round += 1;
        state.acked_round[me] = state.round;
        state.round_sent_at.insert(state.round, now);
        while state.round_sent_at.len() > ROUNDS_KEPT_MAX {
            state.round_sent_at.pop_first();
        }
        if let Some(timer) = state.heartbeat_timer.take() {
            ctx.cancel_timer(timer);
        }
        state.heartbeat_timer = Some(ctx.set_timer(interval, RaftTimer::Heartbeat));
        let next: Vec<u64> = state.next_index.clone();
        for peer in ctx.peers() {
            self.send_append(ctx, peer, next[peer.index()]);
        }
        if ctx.server_count() == 1 {
            self.serve_ready_reads(ctx);
        }
    }

    pub(super) fn on_append_entries<E: RaftEnv<A>>(
        &mut self,
        ctx: &mut E,
        from: NodeId,
        request: AppendEntries<A::Command>,
    ) {
        let AppendEntries {
            term,
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
            round,
        } = request;
        let reply = |ctx: &mut E, term, success, match_index, conflict| {
            let reply = AppendReply {
                term,
                success,
                match_index,
                conflict,
                round,
            };
            // Every reply waits for what this server wrote to be durable:
            // a success counts this copy toward commit, and even a refusal
            // carries a term that was just persisted.
            ctx.send_when_durable(from, RaftMessage::AppendReply(reply));
        };
        if term < self.term {
            reply(ctx, self.term, false, 0, None);
            return;
        }
        // A new term is synced with the entries below, in one write.
        let raised = self.observe_term_unsynced(ctx, term);
        if self.role == Role::Leader {
            // Two leaders of one term: only a broken election does this, and
            // the monitor reports it (election safety). Refuse to follow.
            reply(ctx, self.term, false, 0, None);
            return;
        }
        if self.role != Role::Follower {
            self.become_follower(ctx);
        }
        self.reset_election_timer(ctx);
        if self.leader != Some(from) {
            self.leader = Some(from);
            ctx.emit(RaftEvent::HeardLeader { term, leader: from });
        }
        self.heard_leader_at = Some(ctx.now());
        // The consistency check.
        if prev_log_index > self.log.last_index() {
            let conflict = Conflict {
                term: None,
                index: self.log.last_index() + 1,
            };
            if raised {
                self.sync(ctx);
            }
            reply(ctx, self.term, false, 0, Some(conflict));
            return;
        }
        let local_prev_term = self.term_at(prev_log_index);
        if local_prev_term != prev_log_term {
            let mut first = prev_log_index;
            while first > 1 && self.term_at(first - 1) == local_prev_term {
                first -= 1;
            }
            let conflict = Conflict {
                term: Some(local_prev_term),
                index: first,
            };
            if raised {
                self.sync(ctx);
            }
            reply(ctx, self.term, false, 0, Some(conflict));
            return;
        }
        // Append what is new; cut the log at the first conflicting entry.
        let mut index = prev_log_index;
        let mut changed = false;
        for entry in entries {
            index += 1;
            match self.log.get(index) {
                Some(existing) if existing.term == entry.term => continue,
                Some(_) => {
                    // Cutting a committed entry means a leader lacked it: the
                    // monitor reports that as a leader-completeness violation
                    // (under a bug switch), so this is not asserted here.
                    self.truncate_log(ctx, index);
                    ctx.emit(RaftEvent::Truncated {
                        last_index: index - 1,
                    });
                }
                None => {}
            }
            self.store_entry(ctx, entry);
            changed = true;
        }
        if changed || raised {
            // Durable before the reply that lets the leader count this copy
            // (and a new term before any reply that carries it).
            self.sync(ctx);
        }
        let new_commit = leader_commit.min(index);
        if new_commit > self.commit_index {
            self.commit_index = new_commit;
            self.apply_committed(ctx);
        }
        reply(ctx, self.term, true, index, None);
    }

    pub(super) fn on_append_reply<E: RaftEnv<A>>(
        &mut self,
        ctx: &mut E,
        from: NodeId,
        reply: AppendReply,
    ) {
        let AppendReply {
            term,
            success,
            match_index,
            conflict,
            round,
        } = reply;
        if term > self.term {
            self.observe_term(ctx, term);
            return;
        }
        if self.role != Role::Leader || term < self.term {
            return; // A reply to an earlier term's request.
        }
        let last = self.log.last_index();
        let peer = from.index();
        let state = self.leader_state.as_mut().expect("leading");
        state.heard_since_check[peer] = true;
        let round_advanced = round > state.acked_round[peer];
        state.acked_round[peer] = state.acked_round[peer].max(round);
        if success {
            state.match_index[peer] = state.match_index[peer].max(match_index);
            state.next_index[peer] = state.next_index[peer].max(match_index + 1);
            self.advance_commit(ctx);
        } else if let Some(conflict) = conflict {
            // Fast backtracking: skip the follower's whole conflicting term,
            // or to the leader's last entry of that term if it has one.
            let mut next = conflict.index;
            if let Some(conflict_term) = conflict.term {
                let mut i = last;
                while i > 0 && self.term_at(i) > conflict_term {
                    i -= 1;
                }
                if i > 0 && self.term_at(i) == conflict_term {
                    next = i + 1;
                }
            }
            let state = self.leader_state.as_mut().expect("leading");
            let next = next.clamp(state.match_index[peer] + 1, last + 1);
            state.next_index[peer] = next;
            state.sent_until[peer] = next - 1;
            self.send_append(ctx, from, next);
        }
        self.send_new_entries(ctx, from);
        if round_advanced {
            self.serve_ready_reads(ctx);
        }
    }

    /// Figure 2: commit the highest index a majority holds, if its entry is
    /// of the current term. Earlier terms' entries commit with it (Figure 8
    /// shows why counting their replicas alone is unsafe).
    fn advance_commit<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        let state = self.leader_state.as_ref().expect("leading");
        let mut matched = state.match_index.clone();
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let majority_index = matched[Self::majority(ctx) - 1];
        if majority_index <= self.commit_index {
            return;
        }
        let own_term = self.term_at(majority_index) == self.term;
        if own_term || self.params.commit_previous_terms {
            self.commit_index = majority_index;
            ctx.emit(RaftEvent::LeaderCommitted {
                commit_index: majority_index,
                term: self.term,
            });
            self.apply_committed(ctx);
        }
    }

    /// Applies entries up to the commit index, in order, and answers the
    /// clients a leader holds for them.
    pub(super) fn apply_committed<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        debug_assert!(self.commit_index <= self.log.last_index());
        while self.last_applied < self.commit_index {
            self.last_applied += 1;
            let index = self.last_applied;
            let entry = self
                .log
                .get(index)
                .expect("committed entries exist")
                .clone();
            let result = match &entry.command {
                Command::Noop => None,
                Command::Client(command) => A::apply(&mut self.store, index, command),
            };
            ctx.emit(RaftEvent::Applied {
                index,
                term: entry.term,
                digest: entry.digest(),
                client_command: matches!(entry.command, Command::Client(_)),
            });
            let waiting = self
                .leader_state
                .as_mut()
                .and_then(|s| s.pending_writes.remove(&index));
            ctx.applied(index, result, waiting);
        }
        if self.role == Role::Leader {
            self.serve_ready_reads(ctx);
        }
    }
}

impl Raft<KvApp> {
    /// A leader takes a client's write (or a get in `Log` read mode).
    pub(super) fn propose(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        let waiter = (client, request.seq, request.attempt);
        let refusal = request.answer(ClientReply::Unavailable);
        if self.propose_command(ctx, request, waiter).is_none() {
            // Refused before anything was appended, so the client may treat
            // it as definitely not applied.
            ctx.reply(client, refusal);
        }
    }
}
