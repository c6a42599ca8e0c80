//! State-based CRDTs (Shapiro, Preguiça, Baquero and Zawirski, "Conflict-
//! free replicated data types", 2011), the values a multi-leader store
//! merges instead of picking a winner.
//!
//! Each type is a join-semilattice: `merge` is commutative, associative
//! and idempotent, so replicas that have seen the same updates hold the
//! same state whatever the order, grouping or repetition of the states
//! they exchanged (`laws_test.rs` checks the three laws over random
//! states). One file per type:
//! - `g_counter.rs`: a grow-only counter, one count per replica;
//! - `pn_counter.rs`: two of them, increments and decrements;
//! - `or_set.rs`: an observed-remove set without tombstones (ORSWOT):
//!   an add wins over a concurrent remove;
//! - `lww_register.rs`: a last-writer-wins register, ordered by
//!   (timestamp, replica);
//! - `mv_register.rs`: a multi-value register, which keeps concurrent
//!   assignments as siblings.
//!
//! Replicas are named by a `u32` (a region), and an update by a `Dot`
//! (replica, that replica's counter), as the `Quorum` store names its
//! writes. `VersionVector` is the causal context the dotted types share.

pub mod g_counter;
#[cfg(test)]
mod laws_test;
pub mod lww_register;
pub mod mv_register;
pub mod or_set;
pub mod pn_counter;
#[cfg(test)]
mod semantics_test;

pub use crate::quorum::versions::Dot;
pub use g_counter::GCounter;
pub use lww_register::LwwRegister;
pub use mv_register::MvRegister;
pub use or_set::OrSet;
pub use pn_counter::PnCounter;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A state-based CRDT: a join-semilattice under `merge`.
pub trait Crdt: Clone + PartialEq + std::fmt::Debug + Default {
    /// Joins `other` into this state (the least upper bound of the two).
    fn merge(&mut self, other: &Self);
}

/// Per replica, the highest counter of that replica's updates seen: the
/// causal context of the dotted types. Absent replicas have seen 0.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VersionVector(BTreeMap<u32, u64>);

impl VersionVector {
    /// The highest counter of `replica` seen.
    pub fn get(&self, replica: u32) -> u64 {
        self.0.get(&replica).copied().unwrap_or(0)
    }

    /// Whether this context has seen the update `dot`.
    pub fn covers(&self, dot: Dot) -> bool {
        self.get(dot.node) >= dot.counter
    }

    /// The next dot of `replica`, now seen.
    pub fn next(&mut self, replica: u32) -> Dot {
        let counter = self.get(replica) + 1;
        self.0.insert(replica, counter);
        debug_assert!(self.covers(Dot {
            node: replica,
            counter
        }));
        Dot {
            node: replica,
            counter,
        }
    }

    /// Raises `replica`'s counter to `counter` if it is below.
    pub fn raise(&mut self, replica: u32, counter: u64) {
        let mine = self.0.entry(replica).or_insert(0);
        *mine = (*mine).max(counter);
    }

    /// The pointwise maximum.
    pub fn join(&mut self, other: &VersionVector) {
        for (replica, counter) in &other.0 {
            let mine = self.0.entry(*replica).or_insert(0);
            *mine = (*mine).max(*counter);
        }
    }

    /// Whether this context has seen everything `other` has.
    pub fn dominates(&self, other: &VersionVector) -> bool {
        other
            .0
            .iter()
            .all(|(replica, counter)| self.get(*replica) >= *counter)
    }

    /// Replicas with a counter, in id order.
    pub fn entries(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.0.iter().map(|(r, c)| (*r, *c))
    }
}

/// The dots of `mine` and `theirs` that survive a merge: those both hold,
/// and those one holds that the other's context has not seen (had it seen
/// one and dropped it, the drop wins). The rule every dotted type shares.
pub(crate) fn surviving_dots(
    mine: &std::collections::BTreeSet<Dot>,
    my_context: &VersionVector,
    theirs: &std::collections::BTreeSet<Dot>,
    their_context: &VersionVector,
) -> std::collections::BTreeSet<Dot> {
    let both = mine.intersection(theirs).copied();
    let mine_only = mine
        .difference(theirs)
        .copied()
        .filter(|d| !their_context.covers(*d));
    let theirs_only = theirs
        .difference(mine)
        .copied()
        .filter(|d| !my_context.covers(*d));
    both.chain(mine_only).chain(theirs_only).collect()
}

/// Serde for a map keyed by dots, as a list of (dot, value) pairs, since
/// JSON keys must be strings (a region stores its key states as JSON).
pub(crate) mod dot_map {
    use super::Dot;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer, V: Serialize>(
        map: &BTreeMap<Dot, V>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(map.iter())
    }

    pub fn deserialize<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<Dot, V>, D::Error> {
        let pairs: Vec<(Dot, V)> = Vec::deserialize(deserializer)?;
        Ok(pairs.into_iter().collect())
    }
}
