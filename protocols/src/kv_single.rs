//! A single-copy key-value store: one primary (the first server) holds the
//! data on its durable storage and serves every request; the other servers
//! only redirect clients to it.
//!
//! It is the simplest correct store, and the baseline the replicated
//! protocols are compared against: it is linearizable, and unavailable
//! whenever the primary is down or cut off (CAP's "C", without the "A").
//!
//! Durability uses group commit: writes are applied at once but replies wait
//! for the next sync, which is asked for every `flush_interval` (or after
//! every operation when it is zero), and go when it completes. The bug switch `ack_before_sync` replies
//! before the sync, so a crash that loses unsynced writes loses writes that
//! clients were told had succeeded: a "lost write" the checkers must catch.

use crate::client::{ClientReply, ClientRequest, ClientResponse};
use crate::cluster::{ServerCtx, Service};
use crate::kv::KvStore;
use crate::plugin::{Capabilities, Clients, Invalid, Plugin, Setup};
use serde::{Deserialize, Serialize};
use sim_core::Dur;
use sim_core::{NodeId, SimDuration, TimerId};

/// The storage key under which the primary keeps its store.
const STORE_KEY: &str = "kv/store";
/// Replies waiting for a sync at most; beyond it the primary syncs at once.
const PENDING_REPLIES_MAX: usize = 10_000;

/// KvSingle's params, as a scenario writes them:
/// `protocol: KvSingle(flush_interval: "5ms")`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct KvSingleParams {
    /// How often the primary syncs; "0s" syncs after every operation.
    pub flush_interval: Dur,
    /// BUG SWITCH: reply before the write is synced (lost writes after PowerLoss).
    pub ack_before_sync: bool,
}

impl Default for KvSingleParams {
    fn default() -> Self {
        KvSingleParams {
            flush_interval: Dur::ms(5),
            ack_before_sync: false,
        }
    }
}

impl KvSingleParams {
    pub fn validate(&self) -> Result<(), String> {
        if self.flush_interval.0 > SimDuration::from_secs(60) {
            return Err(format!(
                "flush_interval: at most 60s, got {}",
                self.flush_interval
            ));
        }
        Ok(())
    }
}

/// KvSingle on the plug-in boundary.
pub struct KvSinglePlugin;

impl Plugin for KvSinglePlugin {
    const NAME: &'static str = "KvSingle";
    const SUMMARY: &'static str =
        "single-copy key-value store on the first server, group-committed to durable storage";
    const CAPABILITIES: Capabilities =
        Capabilities::serving(Clients::Registers).with_transactions();
    type Params = KvSingleParams;
    type Service = KvSingle;

    fn validate(params: &KvSingleParams, _: &Setup) -> Result<(), Invalid> {
        params.validate().map_err(|e| Invalid::from_text(&e))
    }

    fn servers(params: &KvSingleParams, _: &Setup) -> Box<dyn FnMut(NodeId) -> KvSingle> {
        let params = params.clone();
        Box::new(move |_| KvSingle::new(params.clone()))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvSingleTimer {
    Flush,
}

/// What the primary reports: nothing yet needs monitoring beyond the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvSingleEvent {
    /// The primary recovered a store of this many keys from storage.
    Recovered { keys: usize },
}

#[derive(Debug)]
pub struct KvSingle {
    params: KvSingleParams,
    store: KvStore,
    /// Replies held until the next sync.
    pending: Vec<(NodeId, ClientResponse)>,
    flush_timer: Option<TimerId>,
    /// Set at start: whether this server is the primary.
    is_primary: bool,
}

const PRIMARY: NodeId = NodeId(0);

impl KvSingle {
    pub fn new(params: KvSingleParams) -> Self {
        KvSingle {
            params,
            store: KvStore::default(),
            pending: Vec::new(),
            flush_timer: None,
            is_primary: false,
        }
    }

    pub fn store(&self) -> &KvStore {
        &self.store
    }

    fn flush(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        ctx.storage().sync();
        // The replies go when the sync completes, not when it is asked for.
        for (client, response) in self.pending.drain(..) {
            ctx.reply_when_durable(client, response);
        }
    }
}

impl Service for KvSingle {
    type Message = ();
    type Timer = KvSingleTimer;
    type Event = KvSingleEvent;
    type Monitor = crate::invariant::NoInvariants;

    fn state_heap_bytes(&self) -> usize {
        self.store.heap_bytes()
            + self.pending.capacity() * std::mem::size_of::<(NodeId, ClientResponse)>()
    }

    fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.is_primary = ctx.id() == PRIMARY;
        if !self.is_primary {
            return;
        }
        if let Some(bytes) = ctx.storage().get(STORE_KEY) {
            self.store = KvStore::from_bytes(bytes);
            ctx.emit(KvSingleEvent::Recovered {
                keys: self.store.data().len(),
            });
        }
    }

    fn on_message(&mut self, _ctx: &mut ServerCtx<'_, '_, Self>, _from: NodeId, _message: ()) {
        unreachable!("kv-single servers never message each other")
    }

    fn on_timer(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        id: TimerId,
        KvSingleTimer::Flush: KvSingleTimer,
    ) {
        if self.flush_timer == Some(id) {
            self.flush_timer = None;
            self.flush(ctx);
        }
    }

    fn replica_data(&self) -> Option<&std::collections::BTreeMap<String, String>> {
        // Only the primary holds data; the others are redirectors.
        self.is_primary.then(|| self.store.data())
    }

    fn on_client_request(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        if ctx.id() != PRIMARY {
            let response = request.answer(ClientReply::NotLeader {
                hint: Some(PRIMARY),
            });
            ctx.reply(client, response);
            return;
        }
        let Some(result) = self
            .store
            .apply(u64::from(request.client), request.seq, &request.op)
        else {
            return; // An older request of a client that has moved on.
        };
        ctx.storage().put(STORE_KEY, self.store.to_bytes());
        let response = request.answer(ClientReply::Result(result));
        if self.params.ack_before_sync {
            ctx.reply(client, response);
            if self.flush_timer.is_none() {
                self.flush_timer =
                    Some(ctx.set_timer(self.params.flush_interval.0, KvSingleTimer::Flush));
            }
            return;
        }
        self.pending.push((client, response));
        if self.params.flush_interval.0 == SimDuration::ZERO
            || self.pending.len() >= PENDING_REPLIES_MAX
        {
            self.flush(ctx);
        } else if self.flush_timer.is_none() {
            self.flush_timer =
                Some(ctx.set_timer(self.params.flush_interval.0, KvSingleTimer::Flush));
        }
    }
}

#[cfg(test)]
#[path = "kv_single_test.rs"]
mod tests;
