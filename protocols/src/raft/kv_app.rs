//! The key-value store as a Raft application, served to the shared
//! clients: a command is a client's request, a waiter the client and its
//! attempt, and the environment is the cluster's `ServerCtx`.

use super::app::{RaftApp, RaftEnv};
use super::messages::{RaftEvent, RaftMessage, RaftTimer};
use super::Raft;
use crate::client::{ClientReply, ClientRequest, ClientResponse};
use crate::cluster::ServerCtx;
use crate::kv::{KvOp, KvResult, KvStore};
use rand::Rng;
use sim_core::storage::DurableStorage;
use sim_core::{LocalTime, NodeId, SimDuration, TimerId};

/// The replicated key-value store.
#[derive(Debug)]
pub struct KvApp;

impl RaftApp for KvApp {
    type Command = ClientRequest;
    type State = KvStore;
    type Output = KvResult;
    /// The client, its request's sequence number and attempt.
    type Waiter = (NodeId, u64, u32);
    type Read = (NodeId, ClientRequest);

    fn apply(state: &mut KvStore, _index: u64, request: &ClientRequest) -> Option<KvResult> {
        state.apply(u64::from(request.client), request.seq, &request.op)
    }

    fn state_heap_bytes(state: &KvStore) -> usize {
        state.heap_bytes()
    }

    fn command_heap_bytes(request: &ClientRequest) -> usize {
        request.op.heap_bytes()
    }
}

/// Answers a read (a get, or a read-only transaction) from `store`.
pub(super) fn answer_read(
    ctx: &mut ServerCtx<'_, '_, Raft>,
    store: &KvStore,
    client: NodeId,
    request: &ClientRequest,
) {
    let result = match &request.op {
        KvOp::Get { key } => KvResult::Value(store.read(key)),
        KvOp::Txn { mops, lists } => store.read_txn(mops, *lists),
        _ => unreachable!("only gets and read-only transactions take the read path"),
    };
    ctx.reply(client, request.answer(ClientReply::Result(result)));
}

impl RaftEnv<KvApp> for ServerCtx<'_, '_, Raft> {
    fn id(&self) -> NodeId {
        ServerCtx::id(self)
    }
    fn server_count(&self) -> u32 {
        ServerCtx::server_count(self)
    }
    fn now(&self) -> LocalTime {
        ServerCtx::now(self)
    }
    fn random_in(&mut self, min: u64, max: u64) -> u64 {
        self.rng().random_range(min..=max)
    }
    fn storage(&mut self) -> &mut DurableStorage {
        ServerCtx::storage(self)
    }
    fn send(&mut self, to: NodeId, message: RaftMessage) {
        ServerCtx::send(self, to, message)
    }
    fn send_when_durable(&mut self, to: NodeId, message: RaftMessage) {
        ServerCtx::send_when_durable(self, to, message)
    }
    fn set_timer(&mut self, after: SimDuration, timer: RaftTimer) -> TimerId {
        ServerCtx::set_timer(self, after, timer)
    }
    fn cancel_timer(&mut self, id: TimerId) {
        ServerCtx::cancel_timer(self, id)
    }
    fn emit(&mut self, event: RaftEvent) {
        ServerCtx::emit(self, event)
    }
    fn applied(
        &mut self,
        _index: u64,
        output: Option<KvResult>,
        waiter: Option<(NodeId, u64, u32)>,
    ) {
        if let (Some((client, seq, attempt)), Some(result)) = (waiter, output) {
            let response = ClientResponse {
                seq,
                attempt,
                reply: ClientReply::Result(result),
                token: Default::default(),
                context: Default::default(),
            };
            self.reply(client, response);
        }
    }
    fn serve_read(&mut self, store: &KvStore, (client, request): (NodeId, ClientRequest)) {
        answer_read(self, store, client, &request);
    }
}
