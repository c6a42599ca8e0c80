//! The lock's messages, timers and events.
//!
//! A grant is owned by (client node, attempt): the sender of an `Acquire`
//! and the attempt number it carries. Only that pair releases it, which
//! is Redis's random value in `SET key value NX`, made unique without
//! chance.

use crate::raft::messages::{RaftEvent, RaftMessage, RaftTimer};
use serde::{Deserialize, Serialize};
use sim_core::{LocalTime, NodeId, SimDuration};

/// A lock server's state: what the primary replicates and every server
/// keeps on disk.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LockState {
    /// Who holds the lock, if anyone (possibly expired: expiry is judged
    /// when asked, on the server's own clock, as Redis does).
    pub holder: Option<Holder>,
    /// The last fencing token granted (a counter, never reused).
    pub last_token: u64,
    /// Failover epoch: raised by each promotion.
    pub epoch: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Holder {
    pub client: u32,
    pub attempt: u64,
    pub token: u64,
    /// On the clock of the server that granted it: absolute, as Redis's
    /// `PEXPIREAT` replicates, so a standby compares it with its own clock.
    pub expires_at: LocalTime,
}

/// Why a lock server did not grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// Another client holds it.
    Held,
    /// This server is a standby: ask the other.
    NotPrimary,
    /// Consensus: this server does not lead; `hint` is the leader it
    /// knows of, if any.
    NotLeader { hint: Option<u32> },
}

/// What a lock server proposes to the Raft group.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LockCommand {
    /// `client`'s `attempt` asks for the lock. `expires_at` is the
    /// proposing leader's clock plus the TTL: kept with the grant, read
    /// only under the `lease_expiry_on_follower_clock` bug switch.
    Acquire {
        client: u32,
        attempt: u64,
        expires_at: LocalTime,
    },
    /// Compare-and-delete: frees the lock if (client, attempt) holds it.
    Release { client: u32, attempt: u64 },
    /// The leader's timer ran out on the grant with `token`.
    Expire { token: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LockMessage {
    /// Client to lock server: `SET lock (client, attempt) NX PX ttl`.
    Acquire {
        attempt: u64,
        ttl: SimDuration,
    },
    /// Client to lock server: delete the lock if (client, attempt) holds it.
    Release {
        attempt: u64,
    },
    /// Lock server to client.
    Granted {
        attempt: u64,
        token: u64,
    },
    Refused {
        attempt: u64,
        why: Refusal,
    },
    /// Primary to standby, every `replication_interval`: its whole state
    /// (one lock), which is also its heartbeat.
    Replicate {
        state: LockState,
    },
    /// Client to the protected resource, inside the critical section.
    Access {
        attempt: u64,
        token: u64,
        write: Option<u64>,
    },
    /// The resource's answer: `value` after the access; `accepted` is
    /// false when fencing refused the token.
    AccessDone {
        attempt: u64,
        write: bool,
        accepted: bool,
        value: u64,
    },
    /// Consensus: between the lock servers of the Raft group.
    Raft(RaftMessage<LockCommand>),
}

impl LockMessage {
    /// Kind names, for per-kind latency and message counts.
    pub const KINDS: &'static [&'static str] = &[
        "Acquire",
        "Release",
        "Granted",
        "Refused",
        "Replicate",
        "Access",
        "AccessDone",
        // Consensus: Raft's own kinds, in Raft's order.
        "RequestVote",
        "Vote",
        "AppendEntries",
        "AppendReply",
    ];

    pub fn kind(&self) -> usize {
        match self {
            LockMessage::Acquire { .. } => 0,
            LockMessage::Release { .. } => 1,
            LockMessage::Granted { .. } => 2,
            LockMessage::Refused { .. } => 3,
            LockMessage::Replicate { .. } => 4,
            LockMessage::Access { .. } => 5,
            LockMessage::AccessDone { .. } => 6,
            LockMessage::Raft(raft) => 7 + raft.kind(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LockTimer {
    /// Primary: send the state to the standby.
    Replicate,
    /// Standby: has the primary been silent for `failover_after`?
    FailoverCheck,
    /// Client: start the next acquisition.
    Think,
    /// Client: try acquiring again, if still waiting in this generation.
    Retry(u64),
    /// Client: no answer to the request of this generation in time.
    RequestTimeout(u64),
    /// Client: the critical section's work of this generation is done.
    WorkDone(u64),
    /// Consensus: a Raft timer of a lock server.
    Raft(RaftTimer),
    /// Consensus leader: the lease of the grant with this token is over.
    LeaseExpiry(u64),
    /// Client: renew the grant held in this generation's work.
    Renew(u64),
}

/// What lock nodes report to the monitor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockEvent {
    /// A client started to acquire.
    AcquireStarted,
    /// A client holds the lock under `token` and enters its critical
    /// section (the validity left covered its work).
    Acquired { attempt: u64, token: u64 },
    /// A client gave up acquiring (`acquire_timeout`).
    GaveUp,
    /// A client did not enter: the validity left was shorter than its
    /// work and two requests.
    TooLittleValidity,
    /// A client released the grant of `attempt`.
    Released { attempt: u64 },
    /// A lock server granted the lock anew under `token` (not a repeat
    /// to the same owner).
    Granted {
        client: NodeId,
        token: u64,
        /// Whether the design promises tokens that increase with every
        /// grant of the service (one server, or a pair, does; Redlock's
        /// independent instances do not).
        monotonic: bool,
    },
    /// A standby took over as primary.
    Promoted { epoch: u64 },
    /// The resource saw an access of `client`'s grant `attempt`.
    Access {
        client: NodeId,
        attempt: u64,
        token: u64,
        write: bool,
        accepted: bool,
        fencing: bool,
        /// Whether the design's tokens are meant to be ordered (not
        /// Redlock's), so that a write under a lower token after a higher
        /// one is news.
        ordered: bool,
    },
    /// Consensus: what a lock server's Raft module reports, for Raft's
    /// own invariants.
    Raft(RaftEvent),
    /// Consensus: this replica applied a new grant to `client` under
    /// `token`. Every replica reports each grant as it applies the log,
    /// some late (a deposed leader back from a pause, a follower catching
    /// up, a restart re-applying), so the order tokens promise is the
    /// log's: each replica's grants increase.
    ReplicaGranted { client: NodeId, token: u64 },
}
