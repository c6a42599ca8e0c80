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
    /// (awaited sync, message, the heap bytes the message owns).
    held: VecDeque<(SyncId, Held<M, E>, usize)>,
    /// The sum of the held messages' heap bytes.
    held_heap_bytes: usize,
}

impl<M, E> Default for DurableOutbox<M, E> {
    fn default() -> Self {
        DurableOutbox {
            held: VecDeque::new(),
            held_heap_bytes: 0,
        }
    }
}

impl<M, E> DurableOutbox<M, E> {
    /// Holds `message`, which owns `heap_bytes` on the heap (counted
    /// against the run's memory budget while it waits), until sync `sync`
    /// completes.
    pub fn hold(&mut self, sync: SyncId, message: Held<M, E>, heap_bytes: usize) {
        debug_assert!(
            self.held.back().is_none_or(|(last, _, _)| *last <= sync),
            "syncs are asked for in order, so messages wait in order"
        );
        self.held_heap_bytes += heap_bytes;
        self.held.push_back((sync, message, heap_bytes));
    }

    /// The messages whose sync is `done` or earlier, in order (syncs
    /// complete in order, so these are all that may go).
    pub fn release(&mut self, done: SyncId) -> impl Iterator<Item = Held<M, E>> + '_ {
        let ready = self
            .held
            .iter()
            .take_while(|(sync, _, _)| *sync <= done)
            .count();
        self.release_first(ready)
    }

    /// Everything held, in order (a handler test's instant disk).
    pub fn release_all(&mut self) -> impl Iterator<Item = Held<M, E>> + '_ {
        self.release_first(self.held.len())
    }

    fn release_first(&mut self, count: usize) -> impl Iterator<Item = Held<M, E>> + '_ {
        let freed: usize = self.held.iter().take(count).map(|(_, _, heap)| heap).sum();
        self.held_heap_bytes -= freed;
        self.held.drain(..count).map(|(_, message, _)| message)
    }

    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Memory the held messages take, their own heap included, for the
    /// run's budget. Why it matters: under a slow disk and a flood of
    /// messages, thousands can wait for one sync.
    pub fn heap_bytes(&self) -> usize {
        self.held.capacity() * std::mem::size_of::<(SyncId, Held<M, E>, usize)>()
            + self.held_heap_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_go_when_their_sync_completes_in_order() {
        let mut outbox: DurableOutbox<&str, ()> = DurableOutbox::default();
        outbox.hold(SyncId(1), Held::Peer(NodeId(1), "a"), 10);
        outbox.hold(SyncId(1), Held::Peer(NodeId(2), "b"), 20);
        outbox.hold(SyncId(3), Held::Peer(NodeId(1), "c"), 40);
        let base = outbox.heap_bytes() - 70;
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
            outbox.heap_bytes(),
            base + 40,
            "what went out is no longer counted"
        );
        assert_eq!(
            outbox.release(SyncId(3)).map(peer).collect::<Vec<_>>(),
            ["c"]
        );
        assert!(outbox.is_empty());
    }
}
