//! Identifiers: nodes, timers and messages.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A node's index in the cluster, `0..node_count`. Dense so that per-node state
/// lives in vectors, never in hash maps.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl NodeId {
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}
impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A timer handle, unique per node for the whole run (ids are never reused,
/// not even across restarts, so a stale timer can never be mistaken for a new one).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct TimerId(pub u64);

/// A message's identity: one per `send`; duplicates share their original's id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct MessageId(pub u64);

/// A sync a node asked its storage for, unique per node for the whole run
/// (never reused across restarts, so a sync lost in a crash can never be
/// mistaken for a new one).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct SyncId(pub u64);
