//! What region servers send each other, their timers, and the events the
//! monitor judges.

use super::resolution::{KeyState, Resolution, Write};
use super::topology::Regions;
use crate::crdt::{Dot, VersionVector};
use serde::{Deserialize, Serialize};

/// A write as replication carries it: the key's state at its origin just
/// after the write (merged wherever it lands, so a shipment repeated or
/// overtaken merges to the same result), and what the write depends on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shipped {
    /// The origin region and its write counter.
    pub dot: Dot,
    /// Per region, how many of its writes the origin had applied (the
    /// prefix of each region's order): what causal delivery waits for.
    pub deps: VersionVector,
    /// Per region, the last of its writes to this key that the key's
    /// state at the origin included: what this write saw of the key
    /// (without causal delivery a merged state carries writes of the key
    /// beyond the prefix applied; with it, the two agree).
    pub key_deps: VersionVector,
    pub key: String,
    pub state: KeyState,
    /// The regions it has been at (the origin first), so that ring and
    /// star forwarding ends.
    pub visited: Regions,
    /// Times it was passed from one region to the next.
    pub hops: u32,
}

impl Shipped {
    /// Heap bytes it holds beyond its inline size: an estimate from its
    /// key and dependencies, with a state's per-region entries at 64 bytes
    /// (read without walking the state, as the memory audit wants).
    pub fn heap_bytes(&self) -> usize {
        let regions = self.deps.entries().count() + self.key_deps.entries().count() + 1;
        self.key.capacity() + 16 * regions + 64 * regions
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MultiLeaderMessage {
    /// Writes for the receiver to apply (and, on a ring or star, forward).
    Ship { writes: Vec<Shipped> },
    /// The writes the receiver has applied, per origin (the prefix of each
    /// origin's order): the sender resends nothing these cover.
    Ack { applied: VersionVector },
}

impl MultiLeaderMessage {
    pub const KINDS: &'static [&'static str] = &["Ship", "Ack"];

    pub fn kind(&self) -> usize {
        match self {
            MultiLeaderMessage::Ship { .. } => 0,
            MultiLeaderMessage::Ack { .. } => 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MultiLeaderTimer {
    /// Resend what the regions replicated to have not acknowledged.
    Resend,
}

/// What a region leader reports. Every event is emitted once durable.
#[derive(Clone, Debug, PartialEq)]
pub enum MultiLeaderEvent {
    /// The leader of `region` is taking a client's write: it is applied
    /// and being synced, and commits once the sync completes (`Took`). A
    /// crash before then leaves it in doubt: the sync may survive.
    Taking {
        region: u32,
        dot: Dot,
        /// The writes of the key its state included (`Shipped::key_deps`).
        deps: VersionVector,
        key: String,
        write: Write,
    },
    /// The leader of `region` took a client's write, committed locally.
    Took {
        region: u32,
        dot: Dot,
        /// As `Taking`'s.
        deps: VersionVector,
        key: String,
        write: Write,
        resolution: Resolution,
        /// What a read of the key returns now, here.
        value: Vec<String>,
    },
    /// The leader of `region` applied another region's write `dot`.
    Applied {
        region: u32,
        dot: Dot,
        key: String,
        /// Whether every write it depends on was applied here before it.
        deps_met: bool,
        /// Whether the store claims causal delivery.
        causal: bool,
        /// Whether it was concurrent with the last write of the key applied
        /// here (neither saw the other): a conflict the resolution settled.
        conflict: bool,
        value: Vec<String>,
    },
    /// The leader of `region` passed write `dot` on, its `hops`-th hop.
    Forwarded { region: u32, dot: Dot, hops: u32 },
    /// The leader of `region` started (or restarted), of `regions`.
    Began { region: u32, regions: u32 },
    /// A write applied before arrived again and its merge changed the key
    /// (only a broken merge does that).
    Merged {
        region: u32,
        key: String,
        value: Vec<String>,
    },
}
