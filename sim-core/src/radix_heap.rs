//! The radix heap under the event queue: a monotone min-queue of
//! `(time, seq, value)` with a `u32` hint per entry.
//!
//! Why a radix heap: in a discrete-event simulation nothing is scheduled
//! before the last event taken off the queue, so keys are monotone. Push is
//! O(1) and pop amortised O(log Δ), where Δ is how far ahead the event was
//! scheduled, independent of how many are pending, and memory is touched
//! sequentially. `event.rs` decides when to use it (and when a plain binary
//! heap is faster); this file is the data structure alone, with its tests.

use crate::time::SimTime;

/// The total order of events: time, then insertion sequence.
#[inline]
pub(crate) fn key(time: SimTime, seq: u64) -> u128 {
    ((time.as_nanos() as u128) << 64) | seq as u128
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
pub(crate) const FRONT_BATCH_MAX: usize = 256;

/// One queued event as the radix heap moves it: its time, where the rest
/// lies in the slab, and a hint (the event's node) readable without
/// touching the slab. 16 bytes: the radix heap's cost is moving these.
///
/// The sequence number stays in the slab: it only decides between equal
/// times, which share a bucket and are ordered when the bucket becomes the
/// front.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    time: u64,
    slot: u32,
    hint: u32,
}

/// Values held at most: slab slots are `u32`.
pub(crate) const RADIX_LEN_MAX: usize = u32::MAX as usize;

/// A monotone min-queue of `(time, seq, V)`, each with a `u32` hint.
/// Pushes must come in increasing `seq` order (the event queue's sequence
/// numbers do): an event pushed into the front goes after those of its time.
pub(crate) struct RadixHeap<V> {
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
    pub(crate) floor: u64,
    pub(crate) len: usize,
    /// `FRONT_BATCH_MAX`, or smaller in tests (to split more).
    front_batch_max: usize,
    /// Set when the front is refilled, cleared by `take_fresh_front`: the
    /// engine has prefetched nothing of a fresh front yet.
    pub(crate) fresh_front: bool,
}

impl<V> RadixHeap<V> {
    pub(crate) fn new(front_batch_max: usize) -> Self {
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
    pub(crate) fn bucket_of(&self, time: u64) -> usize {
        64 - (time ^ self.floor).leading_zeros() as usize
    }

    #[inline]
    pub(crate) fn push(&mut self, time: u64, seq: u64, value: V, hint: u32) {
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
    pub(crate) fn settle(&mut self) {
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
    pub(crate) fn order_equal_times(&self, items: &mut [Entry]) {
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
    pub(crate) fn first_occupied(&self) -> Option<usize> {
        self.occupied
            .iter()
            .enumerate()
            .find(|(_, word)| **word != 0)
            .map(|(index, word)| index * 64 + word.trailing_zeros() as usize)
    }

    /// The next event's time.
    #[inline]
    pub(crate) fn peek_time(&mut self) -> Option<u64> {
        self.settle();
        self.front.last().map(|e| e.time)
    }

    /// The next event's (time, seq) key; touches its slab slot.
    #[inline]
    pub(crate) fn peek_key(&mut self) -> Option<u128> {
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
    pub(crate) fn upcoming(&self, distance: usize) -> Option<(u32, &Option<(u64, V)>)> {
        let index = self.front.len().checked_sub(distance + 1)?;
        let entry = self.front[index];
        Some((entry.hint, &self.values[entry.slot as usize]))
    }

    /// The next event as (time, seq, value).
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(u64, u64, V)> {
        self.settle();
        let entry = self.front.pop()?;
        self.len -= 1;
        let (seq, value) = self.values[entry.slot as usize]
            .take()
            .expect("a queued entry's slot holds its value");
        self.free.push(entry.slot);
        Some((entry.time, seq, value))
    }

    /// Every item as (time, value), in no particular order, borrowed.
    pub(crate) fn items(&self) -> impl Iterator<Item = (u64, &V)> + '_ {
        self.front
            .iter()
            .chain(self.buckets.iter().flatten())
            .map(|entry| {
                let (_, value) = self.values[entry.slot as usize]
                    .as_ref()
                    .expect("a queued entry's slot holds its value");
                (entry.time, value)
            })
    }

    /// Every item as (time, seq, value), in no particular order.
    pub(crate) fn into_items(mut self) -> impl Iterator<Item = (u64, u64, V)> {
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

    }
}
