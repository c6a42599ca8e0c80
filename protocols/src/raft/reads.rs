//! The read modes: ReadIndex and leases (dissertation §6.4) and follower
//! reads. `Log` reads go through `propose` like writes.

use super::params::ReadMode;
use super::{PendingRead, Raft, Role, PENDING_READS_MAX};
use crate::client::{ClientReply, ClientRequest};
use crate::cluster::ServerCtx;
use crate::kv::{KvOp, KvResult};
use sim_core::NodeId;

impl Raft {
    pub(super) fn on_read(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        if self.params.read_mode == ReadMode::Follower {
            // Stale by design: whatever this server has applied.
            self.answer_read(ctx, client, &request);
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
            self.answer_read(ctx, client, &request);
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
            client,
            request,
            read_index,
            round,
        });
        self.broadcast_heartbeat(ctx);
    }

    /// Whether the lease from the latest majority-acknowledged round holds
    /// on this leader's clock.
    fn lease_holds(&self, ctx: &ServerCtx<'_, '_, Self>) -> bool {
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
    fn majority_round(&self, ctx: &ServerCtx<'_, '_, Self>) -> Option<u64> {
        let state = self.leader_state.as_ref()?;
        let mut acked = state.acked_round.clone();
        acked.sort_unstable_by(|a, b| b.cmp(a));
        let round = acked[Self::majority(ctx) - 1];
        (round > 0).then_some(round)
    }

    /// Answers the waiting reads whose round a majority acknowledged and
    /// whose read index is applied (FIFO: later reads wait for earlier ones).
    pub(super) fn serve_ready_reads(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
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
            self.answer_read(ctx, read.client, &read.request);
        }
    }

    fn answer_read(
        &self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: &ClientRequest,
    ) {
        let result = match &request.op {
            KvOp::Get { key } => KvResult::Value(self.store.read(key)),
            KvOp::Txn { mops, lists } => self.store.read_txn(mops, *lists),
            _ => unreachable!("only gets and read-only transactions take the read path"),
        };
        ctx.reply(client, request.answer(ClientReply::Result(result)));
    }
}
