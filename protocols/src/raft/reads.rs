//! The read modes: ReadIndex and leases (dissertation §6.4) and follower
//! reads. `Log` reads go through `propose` like writes.

use super::app::{RaftApp, RaftEnv};
use super::kv_app::{answer_read, KvApp};
use super::params::ReadMode;
use super::{PendingRead, Raft, Role, PENDING_READS_MAX};
use crate::client::{ClientReply, ClientRequest};
use crate::cluster::ServerCtx;
use sim_core::NodeId;

impl Raft<KvApp> {
    pub(super) fn on_read(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        if self.params.read_mode == ReadMode::Follower {
            // Stale by design: whatever this server has applied.
            answer_read(ctx, &self.store, client, &request);
            return;
        }
        if self.role != Role::Leader {
            self.redirect(ctx, client, &request);
            return;
        }
        // Until an entry of its own term commits, a new leader does not know
        // the commit index (its no-op settles it).
        let own_term_committed = self.term_at(self.commit_index) == self.term;
        if self.params.read_mode == ReadMode::Lease && own_term_committed && self.lease_holds(ctx) {
            answer_read(ctx, &self.store, client, &request);
            return;
        }
        let state = self.leader_state.as_ref().expect("leading");
        if state.pending_reads.len() >= PENDING_READS_MAX {
            ctx.reply(client, request.answer(ClientReply::Unavailable));
            return;
        }
        // ReadIndex: the next heartbeat round must reach a majority.
        let round = state.round + 1;
        let read_index = self.commit_index;
        let state = self.leader_state.as_mut().expect("leading");
        state.pending_reads.push_back(PendingRead {
            read: (client, request),
            read_index,
            round,
        });
        self.broadcast_heartbeat(ctx);
    }
}

impl<A: RaftApp> Raft<A> {
    /// Whether the lease from the latest majority-acknowledged round holds
    /// on this leader's clock.
    fn lease_holds<E: RaftEnv<A>>(&self, ctx: &E) -> bool {
        let Some(round) = self.majority_round(ctx) else {
            return false;
        };
        let state = self.leader_state.as_ref().expect("leading");
        let Some(sent_at) = state.round_sent_at.get(&round) else {
            return false;
        };
        ctx.now() < sent_at.saturating_add(self.params.lease_duration())
    }

    /// The latest heartbeat round a majority (the leader included) acknowledged.
    fn majority_round<E: RaftEnv<A>>(&self, ctx: &E) -> Option<u64> {
        let state = self.leader_state.as_ref()?;
        let mut acked = state.acked_round.clone();
        acked.sort_unstable_by(|a, b| b.cmp(a));
        let round = acked[Self::majority(ctx) - 1];
        (round > 0).then_some(round)
    }

    /// Answers the waiting reads whose round a majority acknowledged and
    /// whose read index is applied (FIFO: later reads wait for earlier ones).
    pub(super) fn serve_ready_reads<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        let confirmed = self.majority_round(ctx).unwrap_or(0);
        let own_term_committed = self.term_at(self.commit_index) == self.term;
        loop {
            let state = self.leader_state.as_mut().expect("leading");
            let ready = state.pending_reads.front().is_some_and(|r| {
                r.round <= confirmed && own_term_committed && r.read_index <= self.last_applied
            });
            if !ready {
                return;
            }
            let read = state.pending_reads.pop_front().expect("checked");
            ctx.serve_read(&self.store, read.read);
        }
    }
}
