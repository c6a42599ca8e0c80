//! A node's random stream as its handlers see it: the node's own ChaCha
//! stream, plus a count of the 32-bit words drawn from it.
//!
//! Why the count: in a large cluster, a handler's first draw waits on two
//! cache misses in the stream (its cursor and the buffered block the cursor
//! points at). The count, kept in the node's hot slot, tells the engine which
//! of the stream's buffer lines the next draw reads, so that it can prefetch
//! exactly those lines before the handler runs. The count changes nothing
//! that is drawn: every call goes straight to the stream.

use crate::rng::SimRng;
use rand::RngCore;

/// 32-bit words in the stream's buffer (four ChaCha blocks of sixteen words).
pub(crate) const BUFFER_WORDS: u32 = 64;

/// The node's stream and its word count. Implements `RngCore`, so every
/// `rand::Rng` method works on it.
#[derive(Debug)]
pub struct NodeStream<'a> {
    rng: &'a mut SimRng,
    /// Words drawn, modulo 256 (a multiple of `BUFFER_WORDS`, so the
    /// position inside the buffer survives the wrap).
    words_drawn: &'a mut u8,
}

impl<'a> NodeStream<'a> {
    pub(crate) fn new(rng: &'a mut SimRng, words_drawn: &'a mut u8) -> Self {
        NodeStream { rng, words_drawn }
    }

    #[inline]
    fn count(&mut self, words: usize) {
        // Truncation is the point: only the position modulo 256 is kept.
        *self.words_drawn = self.words_drawn.wrapping_add(words as u8);
    }
}

/// The index in the stream's buffer that the next draw reads, given the
/// words drawn so far. Postcondition (checked in debug builds after every
/// handler): it matches the stream's own word position.
#[inline]
pub(crate) fn buffer_index(words_drawn: u8) -> u32 {
    u32::from(words_drawn) % BUFFER_WORDS
}

/// Whether `words_drawn` agrees with the stream's own position.
pub(crate) fn agrees(rng: &SimRng, words_drawn: u8) -> bool {
    (rng.get_word_pos() % u128::from(BUFFER_WORDS)) as u32 == buffer_index(words_drawn)
}

impl RngCore for NodeStream<'_> {
    #[inline]
    fn next_u32(&mut self) -> u32 {
        self.count(1);
        self.rng.next_u32()
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        // Two words, also when the pair straddles a buffer refill.
        self.count(2);
        self.rng.next_u64()
    }

    #[inline]
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // Whole words: a partial last word is consumed, not kept.
        self.count(dest.len().div_ceil(4));
        self.rng.fill_bytes(dest)
    }
}

#[cfg(test)]
mod tests {
    use super::{agrees, NodeStream, RngCore};
    use crate::rng::stream;
    use proptest::prelude::{prop, prop_assert, proptest};

    proptest! {
        /// Any mix of draws keeps the count in step with the stream's
        /// position, including draws that straddle a buffer refill.
        #[test]
        fn the_count_follows_the_stream(draws in prop::collection::vec((0u8..3, 0usize..40), 0..200)) {
            let mut rng = stream(3, "node/n1");
            let mut words = 0u8;
            for (kind, len) in draws {
                let mut node = NodeStream::new(&mut rng, &mut words);
                match kind {
                    0 => { node.next_u32(); }
                    1 => { node.next_u64(); }
                    _ => node.fill_bytes(&mut vec![0u8; len]),
                }
                prop_assert!(agrees(&rng, words));
            }
        }
    }

    /// In the engine, over crashes, restarts and pauses: every node's count
    /// still agrees after a run (draws of u32, u64 and bools).
    #[test]
    fn the_engine_keeps_counts_in_step() {
        use crate::testkit::chatter::Chatter;
        use crate::{Fault, LinkConfig, NodeId, SimConfig, SimTime, Simulation, Stop, Topology};
        let topology = Topology::uniform(7, LinkConfig::default()).unwrap();
        let mut sim = Simulation::new(SimConfig::new(11, topology), |_| Chatter::new(20)).unwrap();
        let at = |ms: u64| SimTime::from_nanos(ms * 1_000_000);
        sim.schedule_fault(
            at(300),
            Fault::Crash {
                node: NodeId(2),
                lose_unsynced: false,
            },
        )
        .unwrap();
        sim.schedule_fault(at(700), Fault::Restart(NodeId(2)))
            .unwrap();
        sim.schedule_fault(
            at(400),
            Fault::Pause {
                node: NodeId(4),
                duration: None,
            },
        )
        .unwrap();
        sim.schedule_fault(at(900), Fault::Resume(NodeId(4)))
            .unwrap();
        sim.run(Stop::at(at(2_000)));
        assert!(sim.delivered() > 100, "the run did something");
        assert!(sim.stream_counts_agree());
    }

    #[test]
    fn draws_are_the_streams_own() {
        let mut plain = stream(3, "node/n1");
        let mut counted = stream(3, "node/n1");
        let mut words = 0u8;
        let mut node = NodeStream::new(&mut counted, &mut words);
        for _ in 0..100 {
            assert_eq!(plain.next_u64(), node.next_u64());
            assert_eq!(plain.next_u32(), node.next_u32());
        }
    }
}
