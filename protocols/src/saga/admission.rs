//! Taking clients' orders, shared by the orchestrator and the choreographed
//! order service: a retry of a known order finds its saga, a retry the
//! client has given up on is dropped, and a new order gets the next saga
//! id, made durable (`Begin` in the order log, synced) before anything of
//! the saga happens.

use super::messages::{Order, OrderRecord, SagaEvent, SagaId};
use super::Saga;
use crate::client::ClientRequest;
use crate::cluster::ServerCtx;
use crate::durable_log::DurableLog;
use crate::request_tags::{RequestTags, Tagged};

/// Which saga each client request started, and the next saga's id.
#[derive(Debug)]
pub struct Admission {
    by_client: RequestTags<SagaId>,
    next_saga: SagaId,
}

/// What became of a client's order request.
pub enum Admitted {
    /// A retry of the order that started this saga.
    Known(SagaId),
    /// A retry of an operation the client has given up on.
    Stale,
    /// A new saga, logged and announced.
    New(SagaId),
}

impl Default for Admission {
    fn default() -> Self {
        Self::new()
    }
}

impl Admission {
    pub fn new() -> Self {
        Admission {
            by_client: RequestTags::new(),
            next_saga: 1,
        }
    }

    /// Heap bytes held (for the run's memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.by_client.heap_bytes()
    }

    /// Replays a `Begin` record at recovery.
    pub fn replay_begin(&mut self, saga: SagaId, client: u64, seq: u64) {
        self.next_saga = self.next_saga.max(saga + 1);
        self.by_client.record(client, seq, saga);
    }

    /// Takes `order`, asked for by `request`: a new saga is logged to `log`
    /// and synced before this returns.
    pub fn admit(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Saga>,
        log: &mut DurableLog<OrderRecord>,
        request: &ClientRequest,
        order: Order,
    ) -> Admitted {
        match self
            .by_client
            .lookup(u64::from(request.client), request.seq)
        {
            Tagged::Known(saga) => return Admitted::Known(saga),
            Tagged::Stale => return Admitted::Stale,
            Tagged::New => {}
        }
        let saga = self.next_saga;
        self.next_saga += 1;
        log.append(
            ctx.storage(),
            OrderRecord::Begin {
                saga,
                client: u64::from(request.client),
                seq: request.seq,
                order,
            },
        );
        ctx.storage().sync();
        ctx.emit_when_durable(SagaEvent::Begun {
            saga,
            item: order.item,
        });
        self.by_client
            .record(u64::from(request.client), request.seq, saga);
        Admitted::New(saga)
    }
}
