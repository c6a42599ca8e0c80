//! What primary-backup servers say to each other, their timers, the log
//! entry format, and the events they report to the monitor.

use crate::client::ClientRequest;
use serde::{Deserialize, Serialize};

/// One log entry: a client's write, or the no-op a new primary appends so
/// that it learns what is committed (entries of its own epoch commit
/// everything before them).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    /// The epoch of the primary that appended it.
    pub epoch: u64,
    pub request: Option<ClientRequest>,
}

impl Entry {
    /// A digest of the entry, so the monitor compares entries cheaply.
    pub fn digest(&self) -> u64 {
        sim_core::hash::stable_hash(self)
    }

    /// Heap bytes the entry holds (for the run's memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.request.as_ref().map_or(0, |r| r.op.heap_bytes())
    }
}

/// The primary's log from `prev_index + 1` (empty: a heartbeat), with what
/// it has committed. `round` is its heartbeat round, echoed in the ack: a
/// majority's acks of a round renew the primary's lease.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Append {
    pub epoch: u64,
    pub prev_index: u64,
    pub prev_epoch: u64,
    pub entries: Vec<Entry>,
    pub commit: u64,
    pub round: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PbMessage {
    Append(Append),
    /// A backup's answer, sent once what it took is on its disk: `ok` with
    /// its durable log end `index`, or not `ok` with the index the primary
    /// should ship from (its log ends earlier, or differs there).
    AppendAck {
        epoch: u64,
        ok: bool,
        index: u64,
        round: u64,
    },
    /// A backup stands for primary of `epoch`, with the end of its log.
    RequestVote {
        epoch: u64,
        last_epoch: u64,
        last_index: u64,
    },
    Vote {
        epoch: u64,
        granted: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PbTimer {
    /// Every `heartbeat_interval`: the primary ships and renews its lease;
    /// a backup checks its failure detector; every server expires session
    /// reads and (a semi-sync primary) checks for a fallback.
    Tick,
    /// Every `ship_interval` in Async mode: the primary ships its log.
    Ship,
}

/// What servers report to the monitor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PbEvent {
    /// This server became the primary of `epoch` (server 0 at the start).
    Promoted { epoch: u64 },
    /// The primary appended an entry at `index` (not yet on its disk).
    Appended { epoch: u64, index: u64, digest: u64 },
    /// A backup took entries from the primary of `epoch`: its log now
    /// holds `digests` from index `from` on.
    Accepted {
        epoch: u64,
        from: u64,
        digests: Vec<u64>,
    },
    /// A server removed its entries from `from` on: they were not in its
    /// primary's log (a returning old primary's unreplicated writes).
    Truncated { from: u64 },
    /// A server restarted holding these entries (its durable log).
    Recovered { digests: Vec<u64> },
    /// The primary of `epoch` committed the entry at `index` and answered
    /// its client, if any. `safe` when the mode had it on the backups it
    /// promises (every one in Sync; `acks` in SemiSync, not fallen back).
    Committed {
        epoch: u64,
        index: u64,
        digest: u64,
        write: bool,
        safe: bool,
    },
    /// The primary heard backup `backup` has its log up to `index` on disk,
    /// while its own log ends at `last`.
    Acked { backup: u32, index: u64, last: u64 },
    /// A semi-sync primary fell back to asynchronous replication (`true`),
    /// or switched back once enough backups caught up (`false`).
    Degraded(bool),
    /// The primary's lease began to hold (`true`) or lapsed (`false`).
    Serving(bool),
    /// A primary learned of a later epoch and became a backup.
    SteppedDown { epoch: u64 },
}
