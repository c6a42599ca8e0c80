//! Bully election's messages, timers and events.

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BullyMessage {
    /// "I am standing; are you alive?", sent to every larger id. `round`
    /// numbers the sender's elections so that a late answer to an old one
    /// is not taken for an answer to this one.
    Election { uid: u64, round: u64 },
    /// "Alive, and larger: stand down." `leader` says the sender already
    /// leads, which ends the asker's wait at once (saving a `Coordinator`).
    Answer { round: u64, leader: bool },
    /// "I lead": sent by the winner to every smaller id.
    Coordinator { uid: u64 },
    /// The leader's heartbeat, to everyone.
    Alive { uid: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BullyTimer {
    Heartbeat,
    /// Nothing heard from the leader for `failure_timeout`.
    LeaderSilent,
    /// No larger id answered election `round` in time: this server wins.
    NoAnswer(u64),
    /// A larger id answered election `round` but has not won in time.
    NoCoordinator(u64),
}

/// What kind of message a server sent, for the message counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentKind {
    Election,
    Answer,
    Coordinator,
    Heartbeat,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BullyEvent {
    /// The server (re)started with this id.
    Started {
        uid: u64,
    },
    ElectionStarted,
    BecameLeader {
        uid: u64,
    },
    /// The leader heard a larger one and leads no more.
    SteppedDown,
    /// The server now follows `uid`.
    LearnedLeader {
        uid: u64,
    },
    Sent {
        kind: SentKind,
    },
}
