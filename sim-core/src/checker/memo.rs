//! The search memo: a set of (linearized-operations bitset, model state)
//! pairs, as an open-addressing hash table that is only ever probed, never
//! iterated, so its order cannot leak into results.
//!
//! Dominance: operations with unknown outcome (info) may be linearized at
//! any time or never. A configuration that reached a state with a subset of
//! the info operations that another used is at least as capable, so if the
//! smaller one was seen, the larger one is pruned. The table keys on (the
//! other operations, state) and keeps, per key, the info sets seen as bit
//! masks (so this applies to keys with at most 64 info operations).
//!
//! Why not `std`'s `HashSet`: simulation code bans the hash containers
//! outright (ARCHITECTURE.md, invariant 2); this table uses our stable hash
//! and stores each bitset once in a flat arena, which also makes its memory
//! easy to bound.

use crate::hash::{finalize, mix, stable_hash};
use std::hash::Hash;

/// An empty slot.
const EMPTY: u32 = u32::MAX;

pub struct Memo<S> {
    words: usize,
    /// Entry index per slot, or EMPTY. Length is a power of two.
    slots: Vec<u32>,
    hashes: Vec<u64>,
    /// `words` u64s per entry.
    bits: Vec<u64>,
    states: Vec<S>,
    /// The first info-operation mask seen per entry, and any further ones
    /// (rare, so kept apart to spare an allocation per entry).
    masks: Vec<u64>,
    more_masks: std::collections::BTreeMap<u32, Vec<u64>>,
    mask_count: usize,
    entries_max: usize,
}

/// What `insert` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Insert {
    New,
    Seen,
    /// The memo is full: the caller must answer Unknown.
    Full,
}

impl<S: Hash + Eq + Clone> Memo<S> {
    /// Bytes one entry costs at most: its bits, hash, mask and state, and
    /// its share of the slots. The arrays never grow past `entries_max`
    /// (see `reserve`), so a full memo holds no spare capacity; the slots
    /// are a power of two at most four per entry (load at most 1/2), and
    /// while they double the old ones are still held: 6 × 4 bytes.
    pub fn entry_bytes(words: usize) -> usize {
        words * 8 + 8 + 8 + std::mem::size_of::<S>() + 24
    }

    /// A memo bounded by entries and by bytes, whichever binds first.
    pub fn bounded(words: usize, entries_max: usize, bytes_max: usize) -> Self {
        Self::new(
            words,
            entries_max.min(bytes_max / Self::entry_bytes(words)).max(1),
        )
    }

    pub fn new(words: usize, entries_max: usize) -> Self {
        Memo {
            words,
            slots: vec![EMPTY; 1024],
            hashes: Vec::new(),
            bits: Vec::new(),
            states: Vec::new(),
            masks: Vec::new(),
            more_masks: std::collections::BTreeMap::new(),
            mask_count: 0,
            entries_max,
        }
    }

    /// Why an insert found the memo full, for an Unknown verdict: the
    /// entries it may hold and the bytes they take.
    pub fn full_reason(&self) -> String {
        format!(
            "the memo reached its bound of {} entries ({} bytes)",
            self.entries_max,
            self.entries_max
                .saturating_mul(Self::entry_bytes(self.words))
        )
    }

    /// Configurations remembered.
    pub fn len(&self) -> usize {
        self.mask_count
    }

    pub fn is_empty(&self) -> bool {
        self.mask_count == 0
    }

    /// Bytes held, roughly (for reports).
    pub fn bytes(&self) -> usize {
        self.slots.len() * 4
            + self.hashes.len() * 8
            + self.bits.len() * 8
            + self.states.len() * std::mem::size_of::<S>()
    }

    /// Adds the pair unless present.
    pub fn insert(&mut self, bits: &[u64], state: &S) -> Insert {
        self.insert_dominated(bits, state, 0)
    }

    /// Adds (bits, state, info mask) unless a configuration with the same
    /// bits and state and a subset of `info` was seen.
    pub fn insert_dominated(&mut self, bits: &[u64], state: &S, info: u64) -> Insert {
        debug_assert_eq!(bits.len(), self.words);
        let mut hash = stable_hash(state);
        for word in bits {
            hash = mix(hash, *word);
        }
        let hash = finalize(hash);
        let mask = self.slots.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            let index = self.slots[slot];
            if index == EMPTY {
                break;
            }
            let i = index as usize;
            if self.hashes[i] == hash
                && self.states[i] == *state
                && self.bits[i * self.words..(i + 1) * self.words] == *bits
            {
                let covered = |seen: &u64| seen & info == *seen;
                if covered(&self.masks[i])
                    || self
                        .more_masks
                        .get(&(i as u32))
                        .is_some_and(|m| m.iter().any(covered))
                {
                    return Insert::Seen;
                }
                if self.mask_count >= self.entries_max {
                    return Insert::Full;
                }
                self.more_masks.entry(i as u32).or_default().push(info);
                self.mask_count += 1;
                return Insert::New;
            }
            slot = (slot + 1) & mask;
        }
        if self.mask_count >= self.entries_max || self.states.len() >= EMPTY as usize - 1 {
            return Insert::Full;
        }
        self.slots[slot] = self.states.len() as u32;
        self.reserve();
        self.hashes.push(hash);
        self.bits.extend_from_slice(bits);
        self.states.push(state.clone());
        self.masks.push(info);
        self.mask_count += 1;
        if self.states.len() * 2 > self.slots.len() {
            self.grow();
        }
        Insert::New
    }

    /// Makes room for one more entry, doubling the arrays as `Vec` would but
    /// never past `entries_max`: a full memo then holds exactly what
    /// `entry_bytes` counts, where plain doubling could hold twice that.
    fn reserve(&mut self) {
        let len = self.states.len();
        if len < self.states.capacity() {
            return;
        }
        let more = len
            .max(1024)
            .min(self.entries_max.saturating_sub(len))
            .max(1);
        self.hashes.reserve_exact(more);
        self.bits.reserve_exact(more * self.words);
        self.states.reserve_exact(more);
        self.masks.reserve_exact(more);
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        let mask = size - 1;
        let mut slots = vec![EMPTY; size];
        for (index, hash) in self.hashes.iter().enumerate() {
            let mut slot = *hash as usize & mask;
            while slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            slots[slot] = index as u32;
        }
        self.slots = slots;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_distinguished_by_bits_and_state() {
        let mut memo = Memo::new(2, 100_000);
        assert_eq!(memo.insert(&[1, 0], &"a".to_string()), Insert::New);
        assert_eq!(memo.insert(&[1, 0], &"a".to_string()), Insert::Seen);
        assert_eq!(memo.insert(&[1, 0], &"b".to_string()), Insert::New);
        assert_eq!(memo.insert(&[0, 1], &"a".to_string()), Insert::New);
        for i in 0..10_000u64 {
            assert_eq!(memo.insert(&[i, 7], &"s".to_string()), Insert::New);
        }
        for i in 0..10_000u64 {
            assert_eq!(memo.insert(&[i, 7], &"s".to_string()), Insert::Seen);
        }
        assert_eq!(memo.len(), 10_003);
        let mut small = Memo::new(1, 2);
        small.insert(&[1], &0u8);
        small.insert(&[2], &0u8);
        assert_eq!(small.insert(&[3], &0u8), Insert::Full);
    }

    #[test]
    fn a_superset_of_info_operations_is_dominated() {
        let mut memo = Memo::new(1, 100);
        assert_eq!(memo.insert_dominated(&[1], &0u8, 0b0100), Insert::New);
        assert_eq!(memo.insert_dominated(&[1], &0u8, 0b0110), Insert::Seen);
        assert_eq!(memo.insert_dominated(&[1], &0u8, 0b0010), Insert::New);
        assert_eq!(memo.insert_dominated(&[1], &0u8, 0b0110), Insert::Seen);
        assert_eq!(memo.insert_dominated(&[1], &1u8, 0b0110), Insert::New);
    }
}
