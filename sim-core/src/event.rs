//! The event queue, ordered by (time, insertion sequence).
//!
//! Architecture Invariant: two events never compare equal, because every push
//! takes a fresh sequence number. The order of simultaneous events is therefore
//! the order in which they were scheduled, which is itself deterministic.
//!
//! Why a radix heap: in a discrete-event simulation nothing is scheduled before
//! the last event taken off the queue, so keys are monotone. A radix heap
//! exploits that: push is O(1) and pop is amortised O(log Δ), where Δ is how far
//! ahead the event was scheduled, independent of how many events are pending.
//! It also touches memory sequentially. A bucket small enough is sorted and
//! becomes the front whole (`FRONT_BATCH_MAX`), which also tells the engine
//! exactly which events come next, so that it can prefetch their nodes. A binary heap of 100,000 pending events
//! spent most of its time waiting on cache misses in its sift (measured: 20×
//! slower per message than at 5 events; see BENCHMARKS.md).
//!
//! The one non-monotone case is an event scheduled from outside between two
//! `run` calls, earlier than an event the queue has already looked at; those
//! few go to a small binary heap beside the radix heap. While few events are
//! pending, a plain binary heap is faster still, so the queue switches between
//! the two by size.

use crate::fault::Fault;
use crate::ids::{MessageId, NodeId, SyncId, TimerId};
use crate::protocol::Protocol;
use crate::radix_heap::{key, Entry, RadixHeap, FRONT_BATCH_MAX};
use crate::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

pub(crate) enum EventKind<P: Protocol> {
    Start(NodeId),
    Deliver {
        from: NodeId,
        to: NodeId,
        id: MessageId,
        message: P::Message,
    },
    Timer {
        node: NodeId,
        id: TimerId,
        timer: P::Timer,
    },
    Request {
        node: NodeId,
        request: P::Request,
    },
    /// A sync the node asked for completes (see `disk.rs`).
    Synced {
        node: NodeId,
        id: SyncId,
    },
    /// Boxed: faults are rare and large, messages are frequent and small.
    Fault(Box<Fault>),
}

pub(crate) struct Event<P: Protocol> {
    pub time: SimTime,
    pub seq: u64,
    pub kind: EventKind<P>,
}

impl<P: Protocol> Event<P> {
    fn key(&self) -> u128 {
        key(self.time, self.seq)
    }
}

impl<P: Protocol> PartialEq for Event<P> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<P: Protocol> Eq for Event<P> {}
impl<P: Protocol> PartialOrd for Event<P> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<P: Protocol> Ord for Event<P> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

/// The node an event is for, if it is a node input.
#[inline]
fn node_of<P: Protocol>(kind: &EventKind<P>) -> Option<NodeId> {
    match kind {
        EventKind::Deliver { to, .. } => Some(*to),
        EventKind::Timer { node, .. }
        | EventKind::Request { node, .. }
        | EventKind::Synced { node, .. }
        | EventKind::Start(node) => Some(*node),
        EventKind::Fault(_) => None,
    }
}

/// The radix heap's hint for an event without a node.
const NO_NODE: u32 = u32::MAX;

#[inline]
fn hint_of<P: Protocol>(kind: &EventKind<P>) -> u32 {
    node_of(kind).map_or(NO_NODE, |node| node.0)
}

/// Below this many pending events the queue is a binary heap (it fits in
/// cache, and its constant factor is lower); above `RADIX_ABOVE` it switches
/// to the radix heap, and back below `BINARY_BELOW`. The gap between the two
/// thresholds keeps a queue hovering near one of them from switching often.
/// Both structures pop in exactly (time, seq) order, so switching never
/// changes a run.
const RADIX_ABOVE: usize = 4_096;
const BINARY_BELOW: usize = 1_024;

enum Store<P: Protocol> {
    Binary(BinaryHeap<Event<P>>),
    Radix {
        radix: RadixHeap<EventKind<P>>,
        /// Events scheduled below the radix floor (only from outside, between runs).
        below_floor: BinaryHeap<Event<P>>,
    },
}

pub(crate) struct EventQueue<P: Protocol> {
    store: Store<P>,
    next_seq: u64,
    radix_above: usize,
    binary_below: usize,
    front_batch_max: usize,
}

impl<P: Protocol> EventQueue<P> {
    /// The bytes one pending event takes, in whichever structure holds it:
    /// a binary heap slot, or a radix slab slot with its entry and a free
    /// list word. For the memory budget.
    pub const EVENT_BYTES: u64 = {
        let binary = std::mem::size_of::<Event<P>>();
        let radix = std::mem::size_of::<Option<(u64, EventKind<P>)>>()
            + std::mem::size_of::<Entry>()
            + std::mem::size_of::<u32>();
        (if binary > radix { binary } else { radix }) as u64
    };

    pub fn new() -> Self {
        Self::with_thresholds(RADIX_ABOVE, BINARY_BELOW, FRONT_BATCH_MAX)
    }

    fn with_thresholds(radix_above: usize, binary_below: usize, front_batch_max: usize) -> Self {
        assert!(binary_below < radix_above);
        EventQueue {
            store: Store::Binary(BinaryHeap::new()),
            next_seq: 0,
            radix_above,
            binary_below,
            front_batch_max,
        }
    }

    #[inline]
    pub fn push(&mut self, time: SimTime, kind: EventKind<P>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        match &mut self.store {
            Store::Binary(heap) => {
                heap.push(Event { time, seq, kind });
                if heap.len() > self.radix_above {
                    self.switch_to_radix();
                }
            }
            Store::Radix { radix, below_floor } => {
                // An equal time is fine: this event's sequence number is
                // larger than any queued.
                if time.as_nanos() >= radix.floor {
                    let hint = hint_of(&kind);
                    radix.push(time.as_nanos(), seq, kind, hint);
                } else {
                    below_floor.push(Event { time, seq, kind });
                }
            }
        }
    }

    #[inline]
    pub fn peek_time(&mut self) -> Option<SimTime> {
        match &mut self.store {
            Store::Binary(heap) => heap.peek().map(|e| e.time),
            Store::Radix { radix, below_floor } => {
                let below = below_floor.peek().map(|e| e.time);
                match (radix.peek_time().map(SimTime::from_nanos), below) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
        }
    }

    #[inline]
    pub fn pop(&mut self) -> Option<Event<P>> {
        match &mut self.store {
            Store::Binary(heap) => heap.pop(),
            Store::Radix { radix, below_floor } => {
                if let Some(below) = below_floor.peek() {
                    if radix.peek_key().is_none_or(|k| below.key() < k) {
                        return below_floor.pop();
                    }
                }
                let (time, seq, kind) = radix.pop()?;
                let event = Event {
                    time: SimTime::from_nanos(time),
                    seq,
                    kind,
                };
                if radix.len < self.binary_below && below_floor.is_empty() {
                    self.switch_to_binary();
                }
                Some(event)
            }
        }
    }

    /// The node of the event `distance` places after the next one (0: the
    /// next one), if it is known without touching the event: any in the
    /// radix heap's sorted front, only the next in the binary heap. Also
    /// prefetches the event itself. Used for prefetching only.
    #[inline]
    pub fn upcoming_node(&self, distance: usize) -> Option<NodeId> {
        match &self.store {
            Store::Binary(heap) if distance == 0 => node_of(&heap.peek()?.kind),
            Store::Binary(_) => None,
            Store::Radix { radix, .. } => {
                let (hint, value) = radix.upcoming(distance)?;
                crate::prefetch::prefetch(value);
                (hint != NO_NODE).then_some(NodeId(hint))
            }
        }
    }

    /// Whether nothing of the upcoming events has been prefetched: the
    /// radix heap's front was refilled since the last call, or the queue is
    /// a binary heap (which knows only its next event).
    #[inline]
    pub fn take_fresh_front(&mut self) -> bool {
        match &mut self.store {
            Store::Binary(_) => true,
            Store::Radix { radix, .. } => std::mem::take(&mut radix.fresh_front),
        }
    }

    /// Every pending event as (time, kind), in no particular order.
    pub fn pending(&self) -> Box<dyn Iterator<Item = (SimTime, &EventKind<P>)> + '_> {
        match &self.store {
            Store::Binary(heap) => Box::new(heap.iter().map(|e| (e.time, &e.kind))),
            Store::Radix { radix, below_floor } => Box::new(
                radix
                    .items()
                    .map(|(time, kind)| (SimTime::from_nanos(time), kind))
                    .chain(below_floor.iter().map(|e| (e.time, &e.kind))),
            ),
        }
    }

    pub fn len(&self) -> usize {
        match &self.store {
            Store::Binary(heap) => heap.len(),
            Store::Radix { radix, below_floor } => radix.len + below_floor.len(),
        }
    }

    #[cold]
    fn switch_to_radix(&mut self) {
        let Store::Binary(heap) =
            std::mem::replace(&mut self.store, Store::Binary(BinaryHeap::new()))
        else {
            unreachable!()
        };
        let mut radix = RadixHeap::new(self.front_batch_max);
        radix.floor = heap.peek().map_or(0, |e| e.time.as_nanos());
        for event in heap.into_vec() {
            let hint = hint_of(&event.kind);
            radix.push(event.time.as_nanos(), event.seq, event.kind, hint);
        }
        self.store = Store::Radix {
            radix,
            below_floor: BinaryHeap::new(),
        };
    }

    #[cold]
    fn switch_to_binary(&mut self) {
        let Store::Radix { radix, .. } =
            std::mem::replace(&mut self.store, Store::Binary(BinaryHeap::new()))
        else {
            unreachable!()
        };
        let mut heap = BinaryHeap::with_capacity(radix.len);
        for (time, seq, kind) in radix.into_items() {
            heap.push(Event {
                time: SimTime::from_nanos(time),
                seq,
                kind,
            });
        }
        self.store = Store::Binary(heap);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The hybrid queue, switching between its two stores at tiny
        /// thresholds, pops in (time, seq) order, including events pushed
        /// below the floor between pops.
        #[test]
        fn hybrid_queue_pops_in_time_then_sequence_order(
            ops in prop::collection::vec((0u64..50, 0u8..4), 1..600),
            front_batch_max in prop::sample::select(vec![1usize, 3, crate::radix_heap::FRONT_BATCH_MAX]),
        ) {
            struct Nothing;
            impl Protocol for Nothing {
                type Message = ();
                type Timer = ();
                type Request = ();
                type Output = ();
                fn on_start(&mut self, _: &mut crate::protocol::Context<'_, Self>) {}
                fn on_message(&mut self, _: &mut crate::protocol::Context<'_, Self>, _: NodeId, _: ()) {}
                fn on_timer(&mut self, _: &mut crate::protocol::Context<'_, Self>, _: TimerId, _: ()) {}
            }
            let mut queue: EventQueue<Nothing> = EventQueue::with_thresholds(8, 3, front_batch_max);
            let mut reference: Vec<(u64, u64)> = Vec::new();
            let mut seq = 0u64;
            let mut now = 0u64;
            for (delay, op) in ops {
                match op {
                    0 => {
                        let peeked = queue.peek_time();
                        let popped = queue.pop().map(|e| (e.time.as_nanos(), e.seq));
                        reference.sort_unstable();
                        let expected = if reference.is_empty() { None } else { Some(reference.remove(0)) };
                        prop_assert_eq!(popped, expected);
                        prop_assert_eq!(peeked.map(|t| t.as_nanos()), expected.map(|e| e.0));
                        if let Some((t, _)) = popped { now = t; }
                    }
                    1 => {
                        // Peeking may raise the radix floor; a later push at `now` must still work.
                        let _ = queue.peek_time();
                        queue.push(SimTime::from_nanos(now), EventKind::Start(NodeId(0)));
                        reference.push((now, seq));
                        seq += 1;
                    }
                    _ => {
                        queue.push(SimTime::from_nanos(now + delay), EventKind::Start(NodeId(0)));
                        reference.push((now + delay, seq));
                        seq += 1;
                    }
                }
                prop_assert_eq!(queue.len(), reference.len());
            }
        }
    }
}
