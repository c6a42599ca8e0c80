//! A node's place in the engine, laid out for the cache: the hot slot that
//! every delivery touches (the node's random stream, then its status,
//! counters, clock and state), the cold part that only some inputs touch,
//! and the two-stage prefetch that loads upcoming events' slots while the
//! current event runs.
//!
//! Why a module of its own: this is a performance budget, measured and
//! asserted (`NodeRng::SIZE_BYTES`, the cursor-offset test), and the event
//! loop in `engine.rs` should read as logic, not as cache layout.
//! Prefetches are hints only: they change no state and no result.

use crate::clock::NodeClock;
use crate::event::{Event, EventQueue};
use crate::node_stream;
use crate::prefetch::{self, prefetch, prefetch_line};
use crate::protocol::{NodeTimers, Protocol};
use crate::rng::SimRng;
use crate::storage::DurableStorage;
use serde::Serialize;

/// Whether a node is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    Up,
    Down,
    Paused,
}

/// How many events ahead the second prefetch stage loads a node's stream
/// lines (the first stage loads its hot line twice as far ahead): far enough
/// for the loads to arrive before the event is handled, near enough that they
/// are not evicted first.
const PREFETCH_DISTANCE: usize = 4;

/// What every delivery touches. Large clusters are bound by cache misses on
/// this slot, so its layout is a performance budget. The node's stream comes
/// first (five lines: four of ChaCha's output buffer, then its cursor and
/// key); the status, counters, clock and (small) protocol state follow in
/// the sixth line. Aligned to 128 bytes so that the cursor's line and the
/// hot line form one aligned pair, which the CPU's adjacent-line prefetcher
/// and the DRAM row fetch together (measured at N=100,000: 5.3-6.2 M msg/s
/// against 4.5-6.1 M with the streams in a vector of their own).
#[repr(C, align(128))]
pub(crate) struct NodeSlot<P: Protocol> {
    pub(crate) rng: NodeRng,
    /// The first field of the hot part (see `prefetch_hot`).
    pub(crate) status: NodeStatus,
    /// Words drawn from the node's stream (see `node_stream`), for prefetching.
    pub(crate) rng_words_drawn: u8,
    pub(crate) sent: u64,
    pub(crate) delivered: u64,
    pub(crate) clock: NodeClock,
    /// `None` while the node is down.
    pub(crate) state: Option<P>,
}

impl<P: Protocol> NodeSlot<P> {
    /// Prefetches the part after the stream, which every input touches.
    #[inline]
    fn prefetch_hot(&self) {
        let start = &self.status as *const NodeStatus as usize;
        let end = self as *const Self as usize + std::mem::size_of::<Self>();
        prefetch::prefetch_range(start, end - start);
    }
}

/// A node's random stream, aligned so that its 320 bytes span exactly
/// five cache lines.
#[repr(align(64))]
pub(crate) struct NodeRng(pub(crate) SimRng);

impl NodeRng {
    /// Where rand_chacha's generator keeps its cursor and key (the lines
    /// every draw touches), and its buffer: measured with
    /// `-Zprint-type-sizes` (buffer at 0, 256 bytes; then key state and
    /// cursor). If a compiler lays the type out differently, these
    /// prefetches hit other lines of the same stream: slower, never wrong.
    const CURSOR_OFFSET_BYTES: usize = 256;
    const BUFFER_OFFSET_BYTES: usize = 0;
    /// The stream's size: five cache lines. A different rand_chacha layout
    /// most likely changes it, and then this fails to compile; the test
    /// `the_stream_cursor_lies_where_the_prefetch_looks` checks the offset.
    const SIZE_BYTES: usize = 320;

    /// Prefetches the lines the next draw reads: the cursor's and the
    /// buffered word's.
    #[inline]
    fn prefetch_next_draw(&self, words_drawn: u8) {
        let base = self as *const NodeRng as *const u8;
        let word_offset = node_stream::buffer_index(words_drawn) as usize * 4;
        prefetch_line(base.wrapping_add(Self::CURSOR_OFFSET_BYTES));
        prefetch_line(base.wrapping_add(Self::BUFFER_OFFSET_BYTES + word_offset));
    }
}

const _: () = assert!(std::mem::size_of::<NodeRng>() == NodeRng::SIZE_BYTES);

/// What only some inputs touch: storage, timers, inputs waiting on a pause.
pub(crate) struct NodeCold<P: Protocol> {
    /// Messages to this node dropped, and timers fired: rarer than sends
    /// and deliveries, so they stay out of the hot slot.
    pub(crate) dropped: u64,
    pub(crate) timers_fired: u64,
    pub(crate) storage: DurableStorage,
    pub(crate) disk: crate::disk::Disk,
    pub(crate) timers: NodeTimers,
    /// Inputs that arrived while paused, in arrival order.
    pub(crate) deferred: Vec<Event<P>>,
    /// How late this node's timers fire, and the stream drawn from
    /// (`SimConfig::timer_lateness`); None: on time.
    pub(crate) lateness: Option<Box<(crate::latency::Latency, crate::rng::SimRng)>>,
}

/// Starts loading what upcoming events will touch, so that the loads
/// overlap the current event's work. Two stages: `2 * PREFETCH_DISTANCE`
/// events ahead, the node's slot; `PREFETCH_DISTANCE` ahead, the two
/// lines of its stream that a draw reads, found from the word count in
/// the slot (in cache by then). A fresh front has had no first stage,
/// so its first events get their whole stream prefetched instead.
#[inline]
pub(crate) fn prefetch_upcoming<P: Protocol>(queue: &mut EventQueue<P>, nodes: &[NodeSlot<P>]) {
    if queue.take_fresh_front() {
        // Stops at the first unknown node: past the front's end (at once
        // past the next event, for the binary heap), or a fault.
        for distance in 0..=2 * PREFETCH_DISTANCE {
            let Some(node) = queue.upcoming_node(distance) else {
                break;
            };
            if distance <= PREFETCH_DISTANCE {
                prefetch(&nodes[node.index()]);
            } else {
                nodes[node.index()].prefetch_hot();
            }
        }
        return;
    }
    if let Some(node) = queue.upcoming_node(2 * PREFETCH_DISTANCE) {
        nodes[node.index()].prefetch_hot();
    }
    if let Some(node) = queue.upcoming_node(PREFETCH_DISTANCE) {
        let words_drawn = nodes[node.index()].rng_words_drawn;
        nodes[node.index()].rng.prefetch_next_draw(words_drawn);
    }
}

#[cfg(test)]
mod node_rng_tests {
    use super::*;
    use rand::RngCore;

    /// The prefetch assumes the generator's cursor lies in the cache line at
    /// `CURSOR_OFFSET_BYTES`: a draw that needs no refill changes only the
    /// cursor, so the bytes one such draw changes must all lie in that line.
    #[test]
    fn the_stream_cursor_lies_where_the_prefetch_looks() {
        let mut rng = NodeRng(crate::rng::stream(7, "layout"));
        rng.0.next_u32(); // fills the buffer
        let bytes = |rng: &NodeRng| -> Vec<u8> {
            // SAFETY: reads the stream's own bytes, for their values only.
            let base = rng as *const NodeRng as *const u8;
            (0..NodeRng::SIZE_BYTES)
                .map(|i| unsafe { std::ptr::read_volatile(base.add(i)) })
                .collect()
        };
        let before = bytes(&rng);
        rng.0.next_u32();
        let after = bytes(&rng);
        let changed: Vec<usize> = (0..before.len())
            .filter(|&i| before[i] != after[i])
            .collect();
        assert!(!changed.is_empty(), "a draw changed nothing");
        let line = NodeRng::CURSOR_OFFSET_BYTES..NodeRng::CURSOR_OFFSET_BYTES + 64;
        assert!(
            changed.iter().all(|i| line.contains(i)),
            "the cursor moved to bytes {changed:?}; update CURSOR_OFFSET_BYTES"
        );
    }
}
