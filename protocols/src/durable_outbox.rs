//! Messages held until the writes they depend on are durable.
//!
//! The rule every durable protocol keeps: nothing that depends on
//! durability goes out before the sync that makes it durable has
//! completed (a vote, an acknowledgement, a decision, a reply). A server
//! writes, asks for a sync, and hands the message to `ServerCtx::
//! send_when_durable` or `reply_when_durable`; the cluster holds it here
//! and sends it when that sync completes (`Service::on_synced` comes
//! after). The outbox is volatile: a crash drops it with the server, and
//! the messages were never sent, as on a real machine that died before
//! its fsync returned.

use crate::client::ClientResponse;
use sim_core::{NodeId, SyncId};
use std::collections::VecDeque;

/// A held message: to a peer, a reply to a client, or an event for the
/// monitors that reports a durable effect (a step applied), which must not
/// count if a power loss takes the effect back.
#[derive(Debug)]
pub enum Held<M, E> {
    Peer(NodeId, M),
    Reply(NodeId, ClientResponse),
    Emit(E),
}

/// Messages waiting for syncs, in the order they were handed over.
#[derive(Debug)]
pub struct DurableOutbox<M, E> {
    held: VecDeque<(SyncId, Held<M, E>)>,
}

impl<M, E> Default for DurableOutbox<M, E> {
    fn default() -> Self {
        DurableOutbox {
            held: VecDeque::new(),
        }
    }
}

impl<M, E> DurableOutbox<M, E> {
    /// Holds `message` until sync `sync` completes.
    pub fn hold(&mut self, sync: SyncId, message: Held<M, E>) {
        debug_assert!(
            self.held.back().is_none_or(|(last, _)| *last <= sync),
            "syncs are asked for in order, so messages wait in order"
        );
        self.held.push_back((sync, message));
    }

    /// The messages whose sync is `done` or earlier, in order (syncs
    /// complete in order, so these are all that may go).
    pub fn release(&mut self, done: SyncId) -> impl Iterator<Item = Held<M, E>> + '_ {
        let ready = self
            .held
            .iter()
            .take_while(|(sync, _)| *sync <= done)
            .count();
        self.held.drain(..ready).map(|(_, message)| message)
    }

    /// Everything held, in order (a handler test's instant disk).
    pub fn release_all(&mut self) -> impl Iterator<Item = Held<M, E>> + '_ {
        self.held.drain(..).map(|(_, message)| message)
    }

    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Memory the held messages take beyond their heap (which the caller
    /// counts with its messages), for the run's budget.
    pub fn heap_bytes(&self) -> usize {
        self.held.capacity() * std::mem::size_of::<(SyncId, Held<M, E>)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_go_when_their_sync_completes_in_order() {
        let mut outbox: DurableOutbox<&str, ()> = DurableOutbox::default();
        outbox.hold(SyncId(1), Held::Peer(NodeId(1), "a"));
        outbox.hold(SyncId(1), Held::Peer(NodeId(2), "b"));
        outbox.hold(SyncId(3), Held::Peer(NodeId(1), "c"));
        let peer = |h: Held<&'static str, ()>| match h {
            Held::Peer(_, m) => m,
            Held::Reply(..) | Held::Emit(()) => unreachable!(),
        };
        assert_eq!(outbox.release(SyncId(0)).count(), 0);
        assert_eq!(
            outbox.release(SyncId(2)).map(peer).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(outbox.len(), 1);
        assert_eq!(
            outbox.release(SyncId(3)).map(peer).collect::<Vec<_>>(),
            ["c"]
        );
        assert!(outbox.is_empty());
    }
}
