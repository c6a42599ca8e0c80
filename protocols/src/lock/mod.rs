//! A distributed lock with a TTL, the clients that use it to guard a
//! storage resource, and that resource, with or without fencing tokens.
//!
//! The course material's order: one Redis node's `SET key value NX PX
//! ttl`, released by compare-and-delete (`Design::SingleNode`, with an
//! optional standby and Sentinel-style failover), then Redlock over a
//! majority of independent nodes (`Design::Redlock`), then fencing tokens,
//! which stop the client that still believes it holds an expired lock:
//! the zombie of Kleppmann's "How to do distributed locking" (2016).
//!
//! Nodes, by id: the lock servers (`server.rs`: 0, or 0 and 1 with a
//! standby, or `0..instances`), then the protected resource
//! (`resource.rs`), then the clients (`client.rs`). The lock's grant and
//! release rules are `table.rs`; the invariants and metrics,
//! `monitor.rs`. A scenario's faults reach every role: pause a client
//! inside its critical section (the garbage-collection pause), make a
//! lock server's clock jump, crash the primary before it replicated.
//!
//! Faults may name "@leader": for the lock it is the client in its
//! critical section (the holder, by its token), so that `Pause("@leader",
//! ..)` pauses whoever holds the lock at that moment.
//!
//! The third design, `Consensus`, holds the lock in a Raft-replicated
//! state machine (`replicated.rs`) served by a Raft group of lock servers
//! (`consensus.rs`, hosting the Raft library), with leases in the style
//! of etcd and Chubby and the log index of the acquire as the token.

mod client;
#[cfg(test)]
mod client_test;
mod consensus;
#[cfg(test)]
mod consensus_test;
pub mod messages;
pub mod monitor;
#[cfg(test)]
mod monitor_test;
pub mod params;
pub mod plugin;
pub mod replicated;
#[cfg(test)]
mod replicated_test;
mod resource;
#[cfg(test)]
mod resource_test;
mod server;
#[cfg(test)]
mod server_test;
mod table;
#[cfg(test)]
mod table_test;

use crate::cluster::{ServerCtx, Service};
pub use client::LockClient;
pub use consensus::ConsensusServer;
use messages::{LockEvent, LockMessage, LockTimer};
pub use monitor::LockMonitor;
use params::{Design, LockParams};
pub use resource::{Resource, ResourceState};
pub use server::LockServer;
use sim_core::{NodeId, SyncId, TimerId};
use std::sync::Arc;

/// One node of the lock's cluster, by its role.
#[derive(Debug)]
pub enum Lock {
    Server(LockServer),
    Resource(Resource),
    Client(LockClient),
    /// A lock server of the `Consensus` design (a Raft group member).
    Consensus(Box<ConsensusServer>),
}

impl Lock {
    /// The node `node` of a run with these (valid) params.
    pub fn new(params: Arc<LockParams>, node: NodeId) -> Lock {
        let resource = params.resource();
        match node.0 {
            n if n < resource && params.design == Design::Consensus => {
                Lock::Consensus(Box::new(ConsensusServer::new(params)))
            }
            n if n < resource => Lock::Server(LockServer::new(params)),
            n if n == resource => {
                Lock::Resource(Resource::new(params.fencing, params.monotonic_tokens()))
            }
            _ => Lock::Client(LockClient::new(params)),
        }
    }
}

impl Service for Lock {
    type Message = LockMessage;
    type Timer = LockTimer;
    type Event = LockEvent;
    type Monitor = LockMonitor;

    fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        match self {
            Lock::Server(server) => server.on_start(ctx),
            Lock::Resource(_) => {}
            Lock::Client(client) => client.on_start(ctx),
            Lock::Consensus(server) => server.on_start(ctx),
        }
    }

    fn on_recover(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        match self {
            Lock::Server(server) => server.on_recover(ctx),
            Lock::Resource(resource) => resource.on_recover(ctx),
            Lock::Client(client) => client.on_start(ctx),
            Lock::Consensus(server) => server.on_recover(ctx),
        }
    }

    fn on_message(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        message: LockMessage,
    ) {
        match self {
            Lock::Server(server) => server.on_message(ctx, from, message),
            Lock::Resource(resource) => resource.on_message(ctx, from, message),
            Lock::Client(client) => client.on_message(ctx, from, message),
            Lock::Consensus(server) => server.on_message(ctx, from, message),
        }
    }

    fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, id: TimerId, timer: LockTimer) {
        match self {
            Lock::Server(server) => server.on_timer(ctx, timer),
            Lock::Resource(resource) => resource.on_timer(ctx, timer),
            Lock::Client(client) => client.on_timer(ctx, timer),
            Lock::Consensus(server) => server.on_timer(ctx, id, timer),
        }
    }

    fn on_synced(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, id: SyncId) {
        if let Lock::Consensus(server) = self {
            server.on_synced(ctx, id);
        }
    }

    fn state_heap_bytes(&self) -> usize {
        match self {
            Lock::Consensus(server) => server.raft().heap_bytes(),
            _ => 0,
        }
    }

    fn message_heap_bytes(message: &LockMessage) -> usize {
        match message {
            LockMessage::Raft(raft) => {
                crate::raft::Raft::<replicated::LockApp>::message_heap_bytes(raft)
            }
            _ => 0,
        }
    }

    /// The holder's token: "@leader" names the client in its critical section.
    fn leader_term(&self) -> Option<u64> {
        match self {
            Lock::Client(client) => client.holding(),
            _ => None,
        }
    }

    const MESSAGE_KINDS: &'static [&'static str] = LockMessage::KINDS;

    fn message_kind(message: &LockMessage) -> usize {
        message.kind()
    }
}
