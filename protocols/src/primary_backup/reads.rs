//! Reads: at the primary under its lease, or at any server from what it
//! has applied, waiting for the client's session position if it has one.

use super::params::ReadFrom;
use super::{PendingRead, PrimaryBackup, PENDING_READS_MAX};
use crate::client::{ClientReply, ClientRequest, Token};
use crate::cluster::ServerCtx;
use crate::kv::KvResult;
use sim_core::NodeId;

impl PrimaryBackup {
    pub(super) fn on_read(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        if self.params.read_from != ReadFrom::Primary {
            // Any server answers (a client that picked the primary too).
            self.read_when_applied(ctx, client, request);
            return;
        }
        if !self.is_primary() {
            self.redirect(ctx, client, &request);
            return;
        }
        // Under the lease no other primary can have committed anything,
        // and once its no-op committed this primary knows every entry that
        // was committed before it.
        let fenced = !self.params.no_fencing && !self.lease_holds(ctx);
        if fenced || self.commit < self.primary_state().first_own_index {
            ctx.reply(client, request.answer(ClientReply::Unavailable));
            return;
        }
        self.answer_read(ctx, client, &request);
    }

    /// Answers now if this server has applied the client's position, else
    /// waits for it (up to `session_wait`).
    fn read_when_applied(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        if u64::from(request.token.position) <= self.applied {
            self.answer_read(ctx, client, &request);
        } else if self.reads.len() < PENDING_READS_MAX {
            let since = ctx.now();
            self.reads.push_back(PendingRead {
                client,
                request,
                since,
            });
        } else {
            ctx.reply(client, request.answer(ClientReply::Unavailable));
        }
    }

    fn answer_read(
        &self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: &ClientRequest,
    ) {
        let key = request.op.key();
        let value = KvResult::Value(self.store.read(key));
        let token = Token::at(self.epoch, self.applied);
        ctx.reply(
            client,
            request.answer_with(ClientReply::Result(value), token),
        );
    }

    /// Answers the waiting reads whose position is now applied.
    pub(super) fn serve_ready_reads(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        if self.reads.is_empty() {
            return;
        }
        let applied = self.applied;
        let (ready, waiting): (Vec<PendingRead>, Vec<PendingRead>) = self
            .reads
            .drain(..)
            .partition(|r| u64::from(r.request.token.position) <= applied);
        self.reads = waiting.into();
        for read in ready {
            self.answer_read(ctx, read.client, &read.request);
        }
    }

    /// Refuses the reads that waited `session_wait`: the client tries
    /// another server.
    pub(super) fn expire_reads(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let now = ctx.now();
        let wait = self.params.session_wait.0;
        while let Some(read) = self.reads.front() {
            if now.saturating_since(read.since) < wait {
                break;
            }
            let read = self.reads.pop_front().expect("just seen");
            ctx.reply(read.client, read.request.answer(ClientReply::Unavailable));
        }
    }
}
