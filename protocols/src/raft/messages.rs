//! What Raft servers say to each other, their timers, the log entry format,
//! and the events they report to the invariant monitor.

use crate::client::ClientRequest;
use serde::{Deserialize, Serialize};
use sim_core::NodeId;

/// What an entry asks the state machine to do. `C` is the command a
/// client proposes: the key-value store's request by default, or a
/// hosting protocol's own (`super::RaftApp::Command`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Command<C = ClientRequest> {
    /// A new leader's empty entry (dissertation §6.4), or preloaded setup.
    Noop,
    Client(C),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogEntry<C = ClientRequest> {
    pub term: u64,
    pub command: Command<C>,
}

impl<C: std::hash::Hash> LogEntry<C> {
    /// A digest of the entry, so the monitor compares entries cheaply.
    pub fn digest(&self) -> u64 {
        sim_core::hash::stable_hash(self)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RaftMessage<C = ClientRequest> {
    /// RequestVote, or with `pre_vote` a PreVote that changes no state: the
    /// candidate asks whether it *would* get a vote in `term`.
    RequestVote {
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
        pre_vote: bool,
    },
    Vote {
        term: u64,
        granted: bool,
        pre_vote: bool,
    },
    AppendEntries(AppendEntries<C>),
    AppendReply(AppendReply),
}

impl<C> RaftMessage<C> {
    /// The names of the message kinds, indexed by `kind`.
    pub const KINDS: &'static [&'static str] =
        &["RequestVote", "Vote", "AppendEntries", "AppendReply"];

    /// This message's kind: an index into `KINDS`.
    pub fn kind(&self) -> usize {
        match self {
            RaftMessage::RequestVote { .. } => 0,
            RaftMessage::Vote { .. } => 1,
            RaftMessage::AppendEntries(_) => 2,
            RaftMessage::AppendReply(_) => 3,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AppendEntries<C = ClientRequest> {
    pub term: u64,
    pub prev_log_index: u64,
    pub prev_log_term: u64,
    pub entries: Vec<LogEntry<C>>,
    pub leader_commit: u64,
    /// The leader's heartbeat round, echoed in the reply: it confirms
    /// leadership for ReadIndex and renews the lease.
    pub round: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AppendReply {
    pub term: u64,
    pub success: bool,
    /// On success: the index up to which the follower's log matches.
    pub match_index: u64,
    /// On failure: where the leader should retry (fast backtracking).
    pub conflict: Option<Conflict>,
    pub round: u64,
}

/// Why an AppendEntries failed its consistency check, so the leader skips a
/// whole term per round trip instead of one entry (the paper, §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conflict {
    /// The term of the follower's entry at `prev_log_index`; `None` if its
    /// log is shorter than that.
    pub term: Option<u64>,
    /// The first index of `term` in the follower's log, or its length + 1.
    pub index: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RaftTimer {
    Election,
    Heartbeat,
    /// CheckQuorum: has a majority answered since the last check?
    QuorumCheck,
}

/// What a server reports. The monitor checks the invariants from these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaftEvent {
    /// This server won the election for `term`.
    BecameLeader { term: u64 },
    /// This server became a candidate for `term` with this log.
    ElectionStarted {
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    },
    /// This server stopped leading `term` (a higher term, or lost quorum).
    SteppedDown { term: u64 },
    /// The entry stored at `index` in this server's log (leader append or
    /// follower accept). Entries after it are gone.
    Stored { index: u64, term: u64, digest: u64 },
    /// This server's log was cut back to `last_index` entries.
    Truncated { last_index: u64 },
    /// This leader advanced the commit index to `commit_index` in `term`.
    LeaderCommitted { commit_index: u64, term: u64 },
    /// This server applied the entry at `index` to its state machine.
    Applied {
        index: u64,
        term: u64,
        digest: u64,
        client_command: bool,
    },
    /// This server heard the leader of `term` for the first time.
    HeardLeader { term: u64, leader: NodeId },
    /// This server restarted with this much log from storage.
    Recovered { last_index: u64, term: u64 },
}
