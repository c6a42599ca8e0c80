//! A grow-only counter: each replica counts its own increments, the
//! value is the sum, and a merge keeps each replica's larger count.
//!
//! Why per-replica counts and a maximum: a state carries every replica's
//! total so far, so seeing a state twice, or an older one late, changes
//! nothing. Adding the counts instead (the `crdt_merge_not_idempotent`
//! bug switch, `merge_adding`) counts a duplicated state twice.

use super::Crdt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GCounter(BTreeMap<u32, u64>);

impl GCounter {
    /// `replica` counts `by` more. Saturating: the adding merge of the
    /// bug switch doubles counts at every duplicate and reaches the bound
    /// within a run, which must end in a verdict, not a panic.
    pub fn increment(&mut self, replica: u32, by: u64) {
        let count = self.0.entry(replica).or_insert(0);
        *count = count.saturating_add(by);
    }

    pub fn value(&self) -> u64 {
        self.0.values().fold(0u64, |sum, c| sum.saturating_add(*c))
    }

    /// `replica`'s own count.
    pub fn of(&self, replica: u32) -> u64 {
        self.0.get(&replica).copied().unwrap_or(0)
    }

    /// BUG (`crdt_merge_not_idempotent`): adds the other's counts, as if
    /// each state carried only new increments, so a duplicated or
    /// re-sent state is counted again.
    pub fn merge_adding(&mut self, other: &GCounter) {
        for (replica, count) in &other.0 {
            self.increment(*replica, *count);
        }
    }
}

impl Crdt for GCounter {
    fn merge(&mut self, other: &GCounter) {
        for (replica, count) in &other.0 {
            let mine = self.0.entry(*replica).or_insert(0);
            *mine = (*mine).max(*count);
        }
        debug_assert!(other.0.iter().all(|(r, c)| self.of(*r) >= *c));
    }
}
