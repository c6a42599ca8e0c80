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
use crate::ids::{MessageId, NodeId, TimerId};
use crate::protocol::Protocol;
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

#[inline]
fn key(time: SimTime, seq: u64) -> u128 {
    ((time.as_nanos() as u128) << 64) | seq as u128
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

/// Buckets by time: bucket b (1..=64) holds events whose highest time bit
/// differing from the floor's is bit b-1; bucket 0 holds events at the
/// floor's time. Sequence numbers never decide a bucket (see `Entry`).
const BUCKETS: usize = 65;

/// A bucket with at most this many keys is sorted and becomes the front
/// whole, instead of being split further. Why: splitting moves every key
/// once per level it falls, and the last levels, where keys are nearly
/// alone in their buckets, cost as many moves as the first ones (measured:
/// 9.3 moves per event at N=100,000 without batching). Sorting a few dozen
/// keys is cheaper than four more rounds of moves.
const FRONT_BATCH_MAX: usize = 256;

/// One queued event as the radix heap moves it: its time, where the rest
/// lies in the slab, and a hint (the event's node) readable without
/// touching the slab. 16 bytes: the radix heap's cost is moving these.
///
/// The sequence number stays in the slab: it only decides between equal
/// times, which share a bucket and are ordered when the bucket becomes the
/// front.
#[derive(Clone, Copy, Debug)]
struct Entry {
    time: u64,
    slot: u32,
    hint: u32,
}

/// Values held at most: slab slots are `u32`.
const RADIX_LEN_MAX: usize = u32::MAX as usize;

/// A monotone min-queue of `(time, seq, V)`, each with a `u32` hint.
/// Pushes must come in increasing `seq` order (the event queue's sequence
/// numbers do): an event pushed into the front goes after those of its time.
struct RadixHeap<V> {
    buckets: Vec<Vec<Entry>>,
    /// The earliest events, in descending (time, seq) order (the next is
    /// the last). Every event here precedes every event in a bucket.
    front: Vec<Entry>,
    /// Each event's sequence number and value, written once on push and
    /// taken once on pop.
    values: Vec<Option<(u64, V)>>,
    /// Free slots of `values`, the most recently freed (likeliest cached) last.
    free: Vec<u32>,
    /// Bit b set iff bucket b is non-empty.
    occupied: [u64; 2],
    /// Every time in a bucket is >= `floor`: the earliest time when the
    /// front was last filled.
    floor: u64,
    len: usize,
    /// `FRONT_BATCH_MAX`, or smaller in tests (to split more).
    front_batch_max: usize,
    /// Set when the front is refilled, cleared by `take_fresh_front`: the
    /// engine has prefetched nothing of a fresh front yet.
    fresh_front: bool,
}

impl<V> RadixHeap<V> {
    fn new(front_batch_max: usize) -> Self {
        assert!(front_batch_max >= 1);
        RadixHeap {
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            front: Vec::new(),
            values: Vec::new(),
            free: Vec::new(),
            occupied: [0; 2],
            floor: 0,
            len: 0,
            front_batch_max,
            fresh_front: false,
        }
    }

    #[inline]
    fn bucket_of(&self, time: u64) -> usize {
        64 - (time ^ self.floor).leading_zeros() as usize
    }

    #[inline]
    fn push(&mut self, time: u64, seq: u64, value: V, hint: u32) {
        debug_assert!(time >= self.floor, "radix heap times are monotone");
        assert!(
            self.len < RADIX_LEN_MAX,
            "more than {RADIX_LEN_MAX} queued events"
        );
        self.len += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                debug_assert!(self.values[slot as usize].is_none());
                self.values[slot as usize] = Some((seq, value));
                slot
            }
            None => {
                self.values.push(Some((seq, value)));
                (self.values.len() - 1) as u32
            }
        };
        let entry = Entry { time, slot, hint };
        // An event earlier than the front's latest belongs in the front
        // (rare: the front spans a short stretch of time just ahead). It
        // goes after every front event of its time: those were pushed first.
        if let Some(latest) = self.front.first() {
            if time < latest.time {
                let at = self.front.partition_point(|e| e.time > time);
                self.front.insert(at, entry);
                return;
            }
        }
        let bucket = self.bucket_of(time);
        self.buckets[bucket].push(entry);
        self.occupied[bucket / 64] |= 1 << (bucket % 64);
    }

    /// Refills an empty front from the lowest non-empty bucket: whole if
    /// it is small or holds one time, else by splitting it into lower
    /// buckets first.
    #[inline]
    fn settle(&mut self) {
        while self.front.is_empty() {
            let Some(bucket) = self.first_occupied() else {
                return;
            };
            let mut items = std::mem::take(&mut self.buckets[bucket]);
            self.occupied[bucket / 64] &= !(1 << (bucket % 64));
            // Bucket 0 holds one time only, so it cannot be split: it
            // becomes the front whole, however large.
            if items.len() <= self.front_batch_max || bucket == 0 {
                // The next buckets join while the batch stays small: every
                // time in them is later, and a longer front lets the engine
                // prefetch further ahead (measured at N=100,000: a third of
                // fronts held under four events before).
                while let Some(next) = self.first_occupied() {
                    if items.len() + self.buckets[next].len() > self.front_batch_max {
                        break;
                    }
                    items.append(&mut self.buckets[next]);
                    self.occupied[next / 64] &= !(1 << (next % 64));
                }
                items.sort_unstable_by_key(|e| std::cmp::Reverse(e.time));
                self.order_equal_times(&mut items);
                self.floor = items.last().expect("occupied buckets are non-empty").time;
                // Swap, so that each vector keeps its capacity for its role.
                std::mem::swap(&mut self.front, &mut items);
                self.buckets[bucket] = items;
                self.fresh_front = true;
                return;
            }
            self.floor = items
                .iter()
                .map(|e| e.time)
                .min()
                .expect("occupied buckets are non-empty");
            for entry in items.drain(..) {
                let target = self.bucket_of(entry.time);
                debug_assert!(target < bucket, "redistribution only moves keys down");
                self.buckets[target].push(entry);
                self.occupied[target / 64] |= 1 << (target % 64);
            }
            // Give the emptied vector back so its capacity is reused.
            self.buckets[bucket] = items;
        }
    }

    /// Orders each run of equal times in `items` (sorted by descending
    /// time) by descending sequence number, read from the slab. Runs are
    /// rare where latencies are drawn from a continuous distribution.
    fn order_equal_times(&self, items: &mut [Entry]) {
        let mut start = 0;
        while start < items.len() {
            let time = items[start].time;
            let run = items[start..].iter().take_while(|e| e.time == time).count();
            if run > 1 {
                items[start..start + run].sort_unstable_by_key(|e| {
                    let (seq, _) = self.values[e.slot as usize]
                        .as_ref()
                        .expect("a queued entry's slot holds its value");
                    std::cmp::Reverse(*seq)
                });
            }
            start += run;
        }
    }

    #[inline]
    fn first_occupied(&self) -> Option<usize> {
        self.occupied
            .iter()
            .enumerate()
            .find(|(_, word)| **word != 0)
            .map(|(index, word)| index * 64 + word.trailing_zeros() as usize)
    }

    /// The next event's time.
    #[inline]
    fn peek_time(&mut self) -> Option<u64> {
        self.settle();
        self.front.last().map(|e| e.time)
    }

    /// The next event's (time, seq) key; touches its slab slot.
    #[inline]
    fn peek_key(&mut self) -> Option<u128> {
        self.settle();
        let entry = self.front.last()?;
        let (seq, _) = self.values[entry.slot as usize]
            .as_ref()
            .expect("a queued entry's slot holds its value");
        Some(key(SimTime::from_nanos(entry.time), *seq))
    }

    /// The hint of the entry `distance` places after the next one, and
    /// its slab slot's address, if the front holds it.
    #[inline]
    fn upcoming(&self, distance: usize) -> Option<(u32, &Option<(u64, V)>)> {
        let index = self.front.len().checked_sub(distance + 1)?;
        let entry = self.front[index];
        Some((entry.hint, &self.values[entry.slot as usize]))
    }

    /// The next event as (time, seq, value).
    #[inline]
    fn pop(&mut self) -> Option<(u64, u64, V)> {
        self.settle();
        let entry = self.front.pop()?;
        self.len -= 1;
        let (seq, value) = self.values[entry.slot as usize]
            .take()
            .expect("a queued entry's slot holds its value");
        self.free.push(entry.slot);
        Some((entry.time, seq, value))
    }

    /// Every item as (time, seq, value), in no particular order.
    fn into_items(mut self) -> impl Iterator<Item = (u64, u64, V)> {
        let entries: Vec<Entry> = self
            .front
            .drain(..)
            .chain(self.buckets.iter_mut().flat_map(|b| b.drain(..)))
            .collect();
        entries.into_iter().map(move |entry| {
            let (seq, value) = self.values[entry.slot as usize]
                .take()
                .expect("a queued entry's slot holds its value");
            (entry.time, seq, value)
        })
    }
}

/// The node an event is for, if it is a node input.
#[inline]
fn node_of<P: Protocol>(kind: &EventKind<P>) -> Option<NodeId> {
    match kind {
        EventKind::Deliver { to, .. } => Some(*to),
        EventKind::Timer { node, .. }
        | EventKind::Request { node, .. }
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

    /// Regression (found while moving sequence numbers out of the radix
    /// heap's entries, caught by the property test below): more than
    /// `FRONT_BATCH_MAX` events at one time all land in bucket 0, which
    /// cannot be split; the split re-pushed them into the bucket it was
    /// emptying and then overwrote it, losing them. Bucket 0 now becomes
    /// the front whole.
    #[test]
    fn more_events_at_one_time_than_a_front_batch_pop_in_push_order() {
        let mut heap = RadixHeap::new(4);
        let count = 1_000u64;
        for seq in 0..count {
            heap.push(42, seq, seq, 0);
        }
        heap.push(43, count, count, 0);
        let popped: Vec<(u64, u64)> =
            std::iter::from_fn(|| heap.pop().map(|(t, s, _)| (t, s))).collect();
        let expected: Vec<(u64, u64)> = (0..count).map(|s| (42, s)).chain([(43, count)]).collect();
        assert_eq!(popped, expected);
    }

    proptest! {
        /// The radix heap pops exactly what a sorted list would, under
        /// monotone pushes interleaved with pops, with many equal times
        /// (ordered by sequence number, which the heap never compares).
        #[test]
        fn radix_heap_matches_a_sorted_reference(
            ops in prop::collection::vec((prop_oneof![0u64..8, 0u64..1_000_000], 0u8..3), 1..400),
            front_batch_max in prop::sample::select(vec![1usize, 2, 5, FRONT_BATCH_MAX]),
        ) {
            let mut heap = RadixHeap::new(front_batch_max);
            let mut reference: Vec<(u64, u64)> = Vec::new();
            let mut seq = 0u64;
            let mut now = 0u64;
            for (delay, op) in ops {
                if op == 0 {
                    let popped = heap.pop().map(|(time, seq, ()): (u64, u64, ())| (time, seq));
                    reference.sort_unstable();
                    let expected = if reference.is_empty() { None } else { Some(reference.remove(0)) };
                    prop_assert_eq!(popped, expected);
                    if let Some((time, _)) = popped { now = time; }
                } else {
                    let time = now + delay * (op as u64 - 1);
                    heap.push(time, seq, (), 0);
                    reference.push((time, seq));
                    seq += 1;
                }
            }
            prop_assert_eq!(heap.len, reference.len());
        }

        /// The hybrid queue, switching between its two stores at tiny
        /// thresholds, pops in (time, seq) order, including events pushed
        /// below the floor between pops.
        #[test]
        fn hybrid_queue_pops_in_time_then_sequence_order(
            ops in prop::collection::vec((0u64..50, 0u8..4), 1..600),
            front_batch_max in prop::sample::select(vec![1usize, 3, FRONT_BATCH_MAX]),
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
