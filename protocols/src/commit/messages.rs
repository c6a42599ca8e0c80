//! What atomic-commit servers say to each other, their timers, their
//! durable records, and the events they report to the monitor.

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

/// A transaction, numbered by the coordinator from 1.
pub type TxnId = u64;

/// One account change at one shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Delta {
    pub account: u32,
    pub amount: i64,
}

/// A participant's knowledge of a transaction, as it reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TxnState {
    /// Never prepared here (no vote yet).
    Unknown,
    /// Voted yes; the outcome is not known (2PC's "uncertain" window).
    Uncertain,
    /// 3PC: told that everyone voted yes; will commit unless it fails.
    PreCommitted,
    Committed,
    Aborted,
}

impl TxnState {
    pub fn decision(self) -> Option<bool> {
        match self {
            TxnState::Committed => Some(true),
            TxnState::Aborted => Some(false),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CommitMessage {
    /// Coordinator -> participant: vote on these changes to your accounts.
    Prepare {
        txn: TxnId,
        participants: Vec<NodeId>,
        deltas: Vec<Delta>,
    },
    Vote {
        txn: TxnId,
        yes: bool,
    },
    /// 3PC: everyone voted yes (from the coordinator, or a backup).
    PreCommit {
        txn: TxnId,
    },
    PreCommitAck {
        txn: TxnId,
    },
    Decision {
        txn: TxnId,
        commit: bool,
    },
    DecisionAck {
        txn: TxnId,
    },
    /// What do you know of `txn`? (a participant that waited too long, or a
    /// recovering coordinator)
    StateRequest {
        txn: TxnId,
    },
    StateReply {
        txn: TxnId,
        state: TxnState,
        /// False from a server that only knows `txn` from its log after a
        /// restart: it missed part of the protocol, so it may not act as
        /// backup coordinator, and nobody waits for it to.
        operational: bool,
    },
    /// Participant -> coordinator: yes to an audit (a transaction that
    /// changes nothing and locks every account of the shard), with the
    /// balances it read, held locked until the decision. Last, so that
    /// the other messages keep their place (and the runs their trace
    /// hashes).
    AuditVote {
        txn: TxnId,
        balances: Vec<(u32, i64)>,
    },
}

impl CommitMessage {
    pub fn txn(&self) -> TxnId {
        match self {
            CommitMessage::Prepare { txn, .. }
            | CommitMessage::Vote { txn, .. }
            | CommitMessage::AuditVote { txn, .. }
            | CommitMessage::PreCommit { txn }
            | CommitMessage::PreCommitAck { txn }
            | CommitMessage::Decision { txn, .. }
            | CommitMessage::DecisionAck { txn }
            | CommitMessage::StateRequest { txn }
            | CommitMessage::StateReply { txn, .. } => *txn,
        }
    }

    pub fn kind(&self) -> SentKind {
        match self {
            CommitMessage::Prepare { .. } => SentKind::Prepare,
            CommitMessage::Vote { .. } | CommitMessage::AuditVote { .. } => SentKind::Vote,
            CommitMessage::PreCommit { .. } => SentKind::PreCommit,
            CommitMessage::PreCommitAck { .. } => SentKind::PreCommitAck,
            CommitMessage::Decision { .. } => SentKind::Decision,
            CommitMessage::DecisionAck { .. } => SentKind::DecisionAck,
            CommitMessage::StateRequest { .. } | CommitMessage::StateReply { .. } => {
                SentKind::Termination
            }
        }
    }
}

/// Message kinds, for the per-transaction message counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentKind {
    Prepare,
    Vote,
    PreCommit,
    PreCommitAck,
    Decision,
    DecisionAck,
    /// State requests and replies: asking about an outcome, cooperative
    /// termination, 3PC's termination protocol.
    Termination,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CommitTimer {
    /// Coordinator: the votes of `txn` are overdue.
    Votes(TxnId),
    /// Coordinator (3PC): the pre-commit acks of `txn` are overdue.
    PreCommitAcks(TxnId),
    /// Coordinator: resend the decision of `txn` (or poll, recovering).
    Resend(TxnId),
    /// Participant: still uncertain about `txn`.
    Uncertain(TxnId),
    /// Participant (3PC): one termination round of `txn` is over.
    Round(TxnId),
}

/// The coordinator's durable decision log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CoordinatorRecord {
    /// Written before any Prepare goes out.
    Begin {
        txn: TxnId,
        client: u64,
        seq: u64,
        participants: Vec<NodeId>,
    },
    /// 3PC: written before any PreCommit goes out.
    PreCommit {
        txn: TxnId,
    },
    Decide {
        txn: TxnId,
        commit: bool,
    },
    /// Every participant acknowledged the decision.
    End {
        txn: TxnId,
    },
}

/// A participant's durable write-ahead log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParticipantRecord {
    /// Written (and synced) before voting yes.
    Prepared {
        txn: TxnId,
        participants: Vec<NodeId>,
        deltas: Vec<Delta>,
    },
    PreCommitted {
        txn: TxnId,
    },
    /// Written before the deltas are applied.
    Committed {
        txn: TxnId,
    },
    Aborted {
        txn: TxnId,
    },
}

/// What servers report to the monitor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitEvent {
    /// The coordinator started `txn` across these participants.
    Begin {
        txn: TxnId,
        participants: Vec<NodeId>,
    },
    /// A participant voted.
    Voted { txn: TxnId, yes: bool },
    /// The coordinator, or a 3PC backup coordinator, decided.
    Decided { txn: TxnId, commit: bool },
    /// A participant made the outcome durable and applied it; `delta_sum`
    /// is the money its accounts gained (negative: lost).
    Applied {
        txn: TxnId,
        commit: bool,
        delta_sum: i64,
    },
    /// The coordinator restarted (the end of an outage).
    CoordinatorRecovered,
    /// A server sent a message about `txn`.
    Sent { txn: TxnId, kind: SentKind },
}
