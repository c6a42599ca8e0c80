//! What the leaderless store's servers send one another, their timers,
//! and the events its monitor hears.

use super::versions::{Dot, Version};
use crate::client::ClientRequest;
use sim_core::NodeId;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum QMessage {
    /// Store these versions of `key` (a client's write, or a repair) and
    /// ack once they are on disk. `hint`: the sender is a stand-in's
    /// coordinator and the versions belong to home replica `hint`.
    Write {
        op: u64,
        key: String,
        versions: Vec<Version>,
        hint: Option<u32>,
    },
    /// The versions of operation `op` are on the sender's disk.
    WriteAck {
        op: u64,
    },
    Read {
        op: u64,
        key: String,
    },
    /// The sender's versions of the key (its hints for it included).
    ReadReply {
        op: u64,
        versions: Vec<Version>,
    },
    /// A request for the key's first replica to coordinate
    /// (`Coordinator::FirstReplica`). Boxed: a request is the largest
    /// message, and every message of the run is as large as the largest.
    Forward(Box<(NodeId, ClientRequest)>),
    /// A stand-in hands the versions it held for the receiver back.
    Handoff {
        key: String,
        versions: Vec<Version>,
    },
    /// The home replica has these dots of `key` on its disk.
    HandoffAck {
        key: String,
        dots: Vec<Dot>,
    },
    /// Anti-entropy: the sender's hash of each bucket of the keys both
    /// hold (`anti_entropy.rs`).
    Digest {
        buckets: Vec<u64>,
    },
    /// Anti-entropy: the sender's versions of every shared key in the
    /// buckets that differed; `answer`: send yours for them back.
    Exchange {
        keys: Vec<(String, Vec<Version>)>,
        answer: bool,
    },
    Heartbeat,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum QTimer {
    Heartbeat,
    Handoff,
    AntiEntropy,
    /// Operation `op` has waited `request_timeout`.
    Expire {
        op: u64,
    },
}

/// What the monitor hears.
#[derive(Clone, Debug, PartialEq)]
pub enum QEvent {
    /// At start: how many workload keys this server is a home replica of.
    Placement { home_keys: u32 },
    /// A coordinator took a client's write and named it `dot`.
    Accepted { key: String, dot: Dot },
    /// ... and answered it: W replicas have it on disk.
    Acked { key: String, dot: Dot },
    /// What this server now has on disk for `key`: in its store
    /// (`hint_for: None`) or as a stand-in for home replica `hint_for`.
    Holds {
        key: String,
        hint_for: Option<u32>,
        dots: Vec<Dot>,
    },
    /// A read found stale replicas and sent them the newest versions.
    Repaired { replicas: u32 },
    /// A stand-in handed `versions` back to their home replica.
    HandedOff { versions: u32 },
    /// A stand-in took a hint.
    Hinted,
    /// Anti-entropy bytes sent (digests and exchanged versions).
    AntiEntropySent { bytes: u64 },
    /// A coordinator sent read `op` of `key` to its replicas.
    ReadStarted { op: u64, key: String },
    /// Read `op` of `coordinator` reached this replica, which answered it.
    ReadArrived { coordinator: u32, op: u64 },
    /// Read `op` resolved from the replies of `used`, the first R.
    ReadResolved { op: u64, used: Vec<u32> },
    /// This server now serves these dots of `key` to reads (in its store
    /// or as hints), durable or not.
    Serves { key: String, dots: Vec<Dot> },
}
