//! What TxnStore's servers say to each other, their timers, and the
//! events they report to the monitor. (Their durable records are
//! `records.rs`'s.)
//!
//! Every server holds a shard (server i holds shard i, or with groups of
//! `replicas` it is a replica of shard i / replicas), is a coordinator of
//! the transactions its clients send it, and, under snapshot isolation
//! with the oracle, server n1 also hands out timestamps.

use super::locks::TxnId;
use super::replicated::ShardCommand;
use super::shard::{AbortReason, Mop};
use crate::raft::messages::{RaftEvent, RaftMessage, RaftTimer};
use sim_core::NodeId;

/// What a timestamp from the oracle is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TsPurpose {
    Start,
    Commit,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TxnMessage {
    /// Coordinator -> shard: run these micro-ops (snapshot at `start_ts`).
    Execute {
        txn: TxnId,
        start_ts: u64,
        mops: Vec<Mop>,
    },
    /// Shard -> coordinator: ran them; each read's value in order.
    Executed {
        txn: TxnId,
        results: Vec<Option<String>>,
    },
    /// Shard -> coordinator: the transaction must abort.
    Aborted {
        txn: TxnId,
        reason: AbortReason,
    },
    /// Shard -> coordinator: another attempt of this operation owns it
    /// here (`dedup.rs`); this attempt may not run.
    Refused {
        txn: TxnId,
    },
    /// Coordinator -> shard: vote.
    Prepare {
        txn: TxnId,
    },
    /// Shard -> coordinator: the vote, once a yes is on disk; with the
    /// least commit timestamp it allows (`Shard::min_commit_ts`).
    Vote {
        txn: TxnId,
        yes: bool,
        min_commit_ts: u64,
    },
    /// Coordinator -> shard: the decision.
    Commit {
        txn: TxnId,
        commit_ts: u64,
    },
    Abort {
        txn: TxnId,
    },
    /// Shard -> coordinator: the commit is on disk here.
    CommitAck {
        txn: TxnId,
    },
    /// Shard -> coordinator: prepared here and undecided for too long:
    /// what became of it?
    Query {
        txn: TxnId,
    },
    /// Coordinator -> oracle (n1), and back.
    TsRequest {
        txn: TxnId,
        purpose: TsPurpose,
    },
    Ts {
        txn: TxnId,
        purpose: TsPurpose,
        ts: u64,
    },
    /// A shard's replica that does not lead -> its leader: a coordinator's
    /// message (`Execute`, `Prepare`, `Commit`, `Abort`), passed on
    /// `hops` times so far (at most the group's size).
    Forwarded {
        coordinator: NodeId,
        hops: u8,
        message: Box<TxnMessage>,
    },
    /// Between the replicas of a shard's Raft group.
    Raft(RaftMessage<ShardCommand>),
    /// A shard's new leader -> every server: it leads its shard in `term`.
    Leads {
        term: u64,
    },
    /// With groups: coordinator -> its own group's leader: log this
    /// commit decision.
    Decide {
        txn: TxnId,
        commit_ts: u64,
    },
    /// With groups: the coordinator's group's leader -> the coordinator:
    /// the decision that stands (`None`: a shard in doubt had it aborted).
    DecisionIs {
        txn: TxnId,
        commit_ts: Option<u64>,
    },
    /// With groups: coordinator -> its group's leader: every shard has
    /// the decision.
    Forget {
        txn: TxnId,
    },
}

impl TxnMessage {
    /// The kinds, for per-kind latency (`network.default.kinds`).
    pub const KINDS: &'static [&'static str] = &[
        "Execute",
        "Executed",
        "Aborted",
        "Refused",
        "Prepare",
        "Vote",
        "Commit",
        "Abort",
        "CommitAck",
        "Query",
        "TsRequest",
        "Ts",
        "Forwarded",
        // A shard group's Raft messages, in Raft's order ("RaftVote", as
        // "Vote" is two-phase commit's).
        "RequestVote",
        "RaftVote",
        "AppendEntries",
        "AppendReply",
        "Leads",
        "Decide",
        "DecisionIs",
        "Forget",
    ];

    pub fn kind(&self) -> usize {
        match self {
            TxnMessage::Execute { .. } => 0,
            TxnMessage::Executed { .. } => 1,
            TxnMessage::Aborted { .. } => 2,
            TxnMessage::Refused { .. } => 3,
            TxnMessage::Prepare { .. } => 4,
            TxnMessage::Vote { .. } => 5,
            TxnMessage::Commit { .. } => 6,
            TxnMessage::Abort { .. } => 7,
            TxnMessage::CommitAck { .. } => 8,
            TxnMessage::Query { .. } => 9,
            TxnMessage::TsRequest { .. } => 10,
            TxnMessage::Ts { .. } => 11,
            TxnMessage::Forwarded { .. } => 12,
            TxnMessage::Raft(raft) => 13 + raft.kind(),
            TxnMessage::Leads { .. } => 17,
            TxnMessage::Decide { .. } => 18,
            TxnMessage::DecisionIs { .. } => 19,
            TxnMessage::Forget { .. } => 20,
        }
    }

    /// Whether only a shard's serving replica may act on it (one that
    /// does not serve passes it on): what a coordinator asks of a shard,
    /// and with groups (`replicated`) what is asked of a coordinator's
    /// group (its decisions, and a shard's query about one).
    pub fn for_serving_leader(&self, replicated: bool) -> bool {
        match self {
            TxnMessage::Execute { .. }
            | TxnMessage::Prepare { .. }
            | TxnMessage::Commit { .. }
            | TxnMessage::Abort { .. }
            | TxnMessage::Decide { .. }
            | TxnMessage::Forget { .. } => true,
            TxnMessage::Query { .. } => replicated,
            _ => false,
        }
    }

    /// Whether only a shard's serving replica sends it: hearing one tells
    /// a coordinator who leads that shard.
    pub fn from_serving_leader(&self) -> bool {
        matches!(
            self,
            TxnMessage::Executed { .. }
                | TxnMessage::Aborted { .. }
                | TxnMessage::Refused { .. }
                | TxnMessage::Vote { .. }
                | TxnMessage::CommitAck { .. }
                | TxnMessage::Query { .. }
        )
    }

    /// Heap bytes beyond its inline size (for the memory budget).
    pub fn heap_bytes(&self) -> usize {
        let mop = |m: &Mop| match m {
            Mop::Read(k) => k.capacity(),
            Mop::Write(k, v) | Mop::Append(k, v) => k.capacity() + v.capacity(),
        };
        match self {
            TxnMessage::Execute { mops, .. } => {
                mops.capacity() * std::mem::size_of::<Mop>() + mops.iter().map(mop).sum::<usize>()
            }
            TxnMessage::Executed { results, .. } => {
                results.capacity() * std::mem::size_of::<Option<String>>()
                    + results
                        .iter()
                        .flatten()
                        .map(String::capacity)
                        .sum::<usize>()
            }
            TxnMessage::Forwarded { message, .. } => {
                std::mem::size_of::<TxnMessage>() + message.heap_bytes()
            }
            TxnMessage::Raft(raft) => {
                crate::raft::Raft::<super::replicated::ShardApp>::message_heap_bytes(raft)
            }
            _ => 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TxnTimer {
    /// Coordinator: the transaction's time is up (abort unless decided).
    Deadline(TxnId),
    /// Coordinator: commit-wait is over; answer the client.
    CommitWaited(TxnId),
    /// Shard: a transaction that has not prepared by now is dropped here
    /// (its coordinator has given up on it, or its abort was lost).
    Unprepared(TxnId),
    /// Shard: a prepared transaction still undecided; ask its coordinator.
    InDoubt(TxnId),
    /// A shard group's Raft timer.
    Raft(RaftTimer),
    /// Coordinator, with groups: its decision is not yet logged; ask again.
    DecideAgain(TxnId),
}

/// Why a coordinator aborted, as the monitor counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AbortKind {
    /// A lock conflict under the wait-die or wound-wait rule.
    Deadlock,
    /// A write-write conflict (first committer wins) or an old snapshot.
    Conflict,
    /// OCC validation failed.
    Validation,
    /// No decision within `request_timeout` (a lost message, a crash).
    Timeout,
    /// A shard refused: its tables were full, or it lost the transaction
    /// in a restart.
    Refused,
}

impl AbortKind {
    pub fn name(self) -> &'static str {
        match self {
            AbortKind::Deadlock => "deadlock",
            AbortKind::Conflict => "conflict",
            AbortKind::Validation => "validation",
            AbortKind::Timeout => "timeout",
            AbortKind::Refused => "refused",
        }
    }
}

/// What servers report to the monitor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnEvent {
    /// A coordinator decided (a commit once it is on disk).
    Decided {
        txn: TxnId,
        commit: bool,
        why: Option<AbortKind>,
        shards: u32,
        /// From the client's request reaching the coordinator to its
        /// answer, commit-wait included, on the coordinator's clock.
        latency_ns: u64,
    },
    /// A shard installed a commit (`versions_kept`: its versions after).
    ShardCommitted { txn: TxnId, versions_kept: usize },
    /// A shard dropped a transaction it had voted yes to.
    ShardAbortedPrepared { txn: TxnId },
    /// A shard's part of a transaction waited this long for locks (or,
    /// under snapshot isolation, for a prepared writer) before it ran.
    Waited { txn: TxnId, waited_ns: u64 },
    /// A prepared transaction held its keys this long until its decision
    /// reached the shard.
    HeldPrepared { txn: TxnId, held_ns: u64 },
    /// What a replica of `shard`'s Raft group reports (groups of
    /// `replicas`), for Raft's invariants per group.
    Raft {
        shard: u32,
        replicas: u32,
        event: RaftEvent,
    },
    /// A replica took over as its shard's leader, its shard rebuilt from
    /// the log with `prepared` transactions still undecided.
    TookOver { shard: u32, prepared: u32 },
}
