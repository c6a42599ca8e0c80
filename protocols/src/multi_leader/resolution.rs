//! How a region resolves concurrent writes to one key: the key's value is
//! a state-based CRDT (`crate::crdt`), written locally and merged with the
//! states other regions ship.
//!
//! - `LastWriterWins`: a register ordered by (origin's clock, origin):
//!   one value survives, so of two concurrent writes one is lost, and
//!   with skewed clocks the loser may be the later one.
//! - `VersionVectors`: a multi-value register: concurrent writes are kept
//!   as siblings, and a write that saw them replaces them all (the
//!   `Quorum` store's dotted version vectors, as a region keeps them).
//! - `Crdt(kind)`: a data type whose merge loses nothing: a grow-only or
//!   PN counter (writes add), an observed-remove set (writes insert and
//!   remove), or the two registers under their CRDT names.
//!
//! Why state-based: a state carries everything its region has seen of
//! the key, so a duplicated, delayed or reordered shipment merges to the
//! same result (the merge is idempotent, commutative and associative).

use crate::crdt::{Crdt, GCounter, LwwRegister, MvRegister, OrSet, PnCounter};
use serde::{Deserialize, Serialize};

/// A CRDT a key's value may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum CrdtKind {
    /// Grow-only counter: writes add a non-negative amount.
    GCounter,
    /// Counter: writes add any amount.
    PnCounter,
    /// Observed-remove set: writes insert or remove an element; an insert
    /// wins over a concurrent remove.
    OrSet,
    /// Last-writer-wins register.
    LwwRegister,
    /// Multi-value register (siblings).
    MvRegister,
}

/// How concurrent writes to a key are resolved.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum Resolution {
    /// The write with the greater (origin clock, origin) wins.
    #[default]
    LastWriterWins,
    /// Concurrent writes are kept as siblings for the reader.
    VersionVectors,
    /// The value is the given CRDT.
    Crdt(CrdtKind),
}

/// A client's write to a key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Write {
    /// Assign a register.
    Put(String),
    /// Add to a counter (a grow-only one takes no negative amount).
    Add(i64),
    /// Insert into a set.
    Insert(String),
    /// Remove from a set, as far as this region has seen it.
    Remove(String),
}

/// A key's state, as a region holds and ships it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyState {
    Register(LwwRegister),
    Siblings(MvRegister),
    Counter(GCounter),
    PnCounter(PnCounter),
    Set(OrSet),
}

impl Resolution {
    /// The data type this resolution keeps a key in.
    pub fn kind(self) -> CrdtKind {
        match self {
            Resolution::LastWriterWins => CrdtKind::LwwRegister,
            Resolution::VersionVectors => CrdtKind::MvRegister,
            Resolution::Crdt(kind) => kind,
        }
    }

    /// Whether a key kept this way takes `write` (a counter takes adds,
    /// a set inserts and removes, a register puts), so that a workload
    /// is refused before a run rather than inside it.
    pub fn takes(self, write: &Write) -> bool {
        match (self.kind(), write) {
            (CrdtKind::GCounter, Write::Add(by)) => *by >= 0,
            (CrdtKind::PnCounter, Write::Add(_)) => true,
            (CrdtKind::OrSet, Write::Insert(_) | Write::Remove(_)) => true,
            (CrdtKind::LwwRegister | CrdtKind::MvRegister, Write::Put(_)) => true,
            _ => false,
        }
    }

    /// A key never written.
    pub fn empty(self) -> KeyState {
        match self.kind() {
            CrdtKind::GCounter => KeyState::Counter(GCounter::default()),
            CrdtKind::PnCounter => KeyState::PnCounter(PnCounter::default()),
            CrdtKind::OrSet => KeyState::Set(OrSet::default()),
            CrdtKind::LwwRegister => KeyState::Register(LwwRegister::default()),
            CrdtKind::MvRegister => KeyState::Siblings(MvRegister::default()),
        }
    }
}

impl KeyState {
    /// The stamp a last-writer-wins write by a region whose clock reads
    /// `clock_ns` takes: above the stamp the key holds, so that a write
    /// made after reading a value always wins over it, even from a region
    /// whose clock is behind (a Lamport-style stamp, as hybrid logical
    /// clocks give). `ignore_skew` (the `lww_ignore_clock_skew` bug
    /// switch) takes the raw clock. Other types ignore the stamp.
    pub fn stamp_for(&self, clock_ns: u64, ignore_skew: bool) -> u64 {
        match self {
            KeyState::Register(r) if !ignore_skew => r
                .stamp()
                .map_or(clock_ns, |(held, _)| clock_ns.max(held.saturating_add(1))),
            _ => clock_ns,
        }
    }

    /// `region` writes, its clock reading `clock_ns` (the register's
    /// timestamp). The write must be one the key takes
    /// (`Resolution::takes`): another is a bug in the caller.
    pub fn write(&mut self, region: u32, clock_ns: u64, write: &Write) {
        match (self, write) {
            (KeyState::Register(r), Write::Put(v)) => {
                r.assign(clock_ns, region, v.clone());
            }
            (KeyState::Siblings(r), Write::Put(v)) => {
                r.assign(region, v.clone());
            }
            (KeyState::Counter(c), Write::Add(by)) => {
                let by = u64::try_from(*by).expect("a grow-only counter only grows");
                c.increment(region, by);
            }
            (KeyState::PnCounter(c), Write::Add(by)) => c.add(region, *by),
            (KeyState::Set(s), Write::Insert(e)) => {
                s.add(region, e.clone());
            }
            (KeyState::Set(s), Write::Remove(e)) => {
                s.remove(e);
            }
            (state, write) => {
                panic!("{write:?} does not fit {state:?}: validation lets it through")
            }
        }
    }

    /// Merges another region's state of the same key.
    pub fn merge(&mut self, other: &KeyState) {
        match (self, other) {
            (KeyState::Register(a), KeyState::Register(b)) => a.merge(b),
            (KeyState::Siblings(a), KeyState::Siblings(b)) => a.merge(b),
            (KeyState::Counter(a), KeyState::Counter(b)) => a.merge(b),
            (KeyState::PnCounter(a), KeyState::PnCounter(b)) => a.merge(b),
            (KeyState::Set(a), KeyState::Set(b)) => a.merge(b),
            (a, b) => panic!("one key kept as two types: {a:?} and {b:?}"),
        }
    }

    /// BUG (`crdt_merge_not_idempotent`): counters add the shipped counts
    /// instead of keeping the larger; other types merge as they should.
    pub fn merge_adding_counts(&mut self, other: &KeyState) {
        match (&mut *self, other) {
            (KeyState::Counter(a), KeyState::Counter(b)) => a.merge_adding(b),
            (KeyState::PnCounter(a), KeyState::PnCounter(b)) => a.merge_adding(b),
            _ => self.merge(other),
        }
    }

    /// What a read returns: a register's value (none before a write), the
    /// siblings, a counter's value, or a set's elements, as text.
    pub fn read(&self) -> Vec<String> {
        match self {
            KeyState::Register(r) => r.value().map(str::to_string).into_iter().collect(),
            KeyState::Siblings(r) => r.values().into_iter().map(str::to_string).collect(),
            KeyState::Counter(c) => vec![c.value().to_string()],
            KeyState::PnCounter(c) => vec![c.value().to_string()],
            KeyState::Set(s) => s.elements().into_iter().map(str::to_string).collect(),
        }
    }
}
