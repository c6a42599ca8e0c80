//! Ring election's messages, timers and events.

use sim_core::NodeId;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RingMessage {
    /// A candidate id travelling the ring in election `epoch`; `origin` is
    /// the server it belongs to. `hop` names this hop for its ack.
    Election {
        uid: u64,
        origin: NodeId,
        epoch: u64,
        hop: u64,
    },
    /// Chang–Roberts' announcement: `uid` (on server `leader`) won `epoch`.
    Elected {
        uid: u64,
        leader: NodeId,
        epoch: u64,
        hop: u64,
    },
    /// The successor got ring message `hop`.
    HopAck { hop: u64 },
    /// The leader's heartbeat.
    Alive { uid: u64, epoch: u64 },
    /// A restarted server says it is back, so nobody skips it any more.
    Hello,
    /// The answer to a ring message of an old epoch: the epoch now, and its
    /// leader if it has one. Lets a server that was away catch up.
    Current {
        epoch: u64,
        leader: Option<(u64, NodeId)>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RingTimer {
    Heartbeat,
    /// Nothing heard from the leader for `failure_timeout`.
    LeaderSilent,
    /// Ring message `hop` was not acknowledged in time.
    Hop(u64),
    /// Election `epoch` elected no one in time.
    ElectionStalled(u64),
}

/// What kind of message a node sent, for the message counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentKind {
    Election,
    Announcement,
    Ack,
    Heartbeat,
    Hello,
    Catchup,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RingEvent {
    /// The server (re)started with this id.
    Started {
        uid: u64,
    },
    ElectionStarted {
        epoch: u64,
    },
    BecameLeader {
        epoch: u64,
        uid: u64,
    },
    /// The leader joined a newer epoch and leads no more.
    SteppedDown,
    /// The server now believes `uid` leads.
    LearnedLeader {
        epoch: u64,
        uid: u64,
    },
    Sent {
        kind: SentKind,
        epoch: u64,
    },
}
