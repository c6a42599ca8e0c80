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
//! Not built yet: a lock held in a consensus-replicated state machine
//! (etcd, Chubby, ZooKeeper), which waits on Raft becoming a library
//! other protocols can host.

mod client;
#[cfg(test)]
mod client_test;
pub mod messages;
pub mod monitor;
#[cfg(test)]
mod monitor_test;
pub mod params;
pub mod plugin;
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
use messages::{LockEvent, LockMessage, LockTimer};
pub use monitor::LockMonitor;
use params::LockParams;
pub use resource::{Resource, ResourceState};
pub use server::LockServer;
use sim_core::{NodeId, TimerId};
use std::sync::Arc;

/// One node of the lock's cluster, by its role.
#[derive(Debug)]
pub enum Lock {
    Server(LockServer),
    Resource(Resource),
    Client(LockClient),
}

impl Lock {
    /// The node `node` of a run with these (valid) params.
    pub fn new(params: Arc<LockParams>, node: NodeId) -> Lock {
        let resource = params.resource();
        match node.0 {
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
        }
    }

    fn on_recover(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        match self {
            Lock::Server(server) => server.on_recover(ctx),
            Lock::Resource(resource) => resource.on_recover(ctx),
            Lock::Client(client) => client.on_start(ctx),
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
        }
    }

    fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, _id: TimerId, timer: LockTimer) {
        match self {
            Lock::Server(server) => server.on_timer(ctx, timer),
            Lock::Resource(resource) => resource.on_timer(ctx, timer),
            Lock::Client(client) => client.on_timer(ctx, timer),
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
