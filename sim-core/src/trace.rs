//! The event trace: a rolling hash over every event, always on, and an
//! optional bounded record of the events themselves.
//!
//! The hash folds, per event: the true time, the kind (and drop reason), the
//! node and peer ids, the message id and, for sends, a stable hash of the
//! message's content. Two runs with equal hashes made the same decisions at the
//! same times in the same order.

use crate::hash::{finalize, mix};
use crate::ids::{MessageId, NodeId};
use crate::time::SimTime;
use serde::{Deserialize, Serialize};

/// Why a message was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The link lost it (loss probability).
    Loss,
    /// A partition cut it at delivery time.
    Partition,
    /// The destination was crashed at delivery time (or crashed while it waited).
    NodeDown,
    /// A clogged link held more messages than its bound.
    ClogOverflow,
    /// A paused node had more waiting inputs than its bound.
    PauseOverflow,
}

impl DropReason {
    pub const ALL: [DropReason; 5] = [
        DropReason::Loss,
        DropReason::Partition,
        DropReason::NodeDown,
        DropReason::ClogOverflow,
        DropReason::PauseOverflow,
    ];
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Partition => "partition",
            DropReason::NodeDown => "node_down",
            DropReason::ClogOverflow => "clog_overflow",
            DropReason::PauseOverflow => "pause_overflow",
        }
    }
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceKind {
    Start,
    Send,
    Deliver,
    Drop(DropReason),
    /// A message held by a clog (it passed the partition check; it is checked
    /// again when released).
    Hold,
    /// An input queued for a paused node (a message here already passed the
    /// partition check; it is handed over at resume without another check).
    Defer,
    Timer,
    Request,
    Crash,
    Restart,
    Pause,
    Resume,
    Partition,
    Heal,
    Clog,
    Release,
    ClockJump,
    SetLoss,
    /// A fault that found nothing to act on (restarting a live node, say).
    NoOp,
    /// A node asked its storage for a sync.
    Sync,
    /// A sync completed: the writes before it are durable.
    Synced,
    DiskSlow,
    DiskStall,
}

impl TraceKind {
    /// The kind's name in `trace.jsonl` (a drop's reason is apart).
    pub fn name(self) -> &'static str {
        match self {
            TraceKind::Start => "start",
            TraceKind::Send => "send",
            TraceKind::Deliver => "deliver",
            TraceKind::Drop(_) => "drop",
            TraceKind::Hold => "hold",
            TraceKind::Defer => "defer",
            TraceKind::Timer => "timer",
            TraceKind::Request => "request",
            TraceKind::Crash => "crash",
            TraceKind::Restart => "restart",
            TraceKind::Pause => "pause",
            TraceKind::Resume => "resume",
            TraceKind::Partition => "partition",
            TraceKind::Heal => "heal",
            TraceKind::Clog => "clog",
            TraceKind::Release => "release",
            TraceKind::ClockJump => "clock_jump",
            TraceKind::SetLoss => "set_loss",
            TraceKind::NoOp => "no_op",
            TraceKind::Sync => "sync",
            TraceKind::Synced => "synced",
            TraceKind::DiskSlow => "disk_slow",
            TraceKind::DiskStall => "disk_stall",
        }
    }

    fn code(self) -> u64 {
        match self {
            TraceKind::Start => 1,
            TraceKind::Send => 2,
            TraceKind::Deliver => 3,
            TraceKind::Drop(reason) => 4 | ((reason as u64 + 1) << 8),
            TraceKind::Hold => 5,
            TraceKind::Timer => 6,
            TraceKind::Request => 7,
            TraceKind::Crash => 8,
            TraceKind::Restart => 9,
            TraceKind::Pause => 10,
            TraceKind::Resume => 11,
            TraceKind::Partition => 12,
            TraceKind::Heal => 13,
            TraceKind::Clog => 14,
            TraceKind::Release => 15,
            TraceKind::ClockJump => 16,
            TraceKind::SetLoss => 17,
            TraceKind::NoOp => 18,
            TraceKind::Defer => 19,
            TraceKind::Sync => 20,
            TraceKind::Synced => 21,
            TraceKind::DiskSlow => 22,
            TraceKind::DiskStall => 23,
        }
    }
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRecord {
    pub time: SimTime,
    pub kind: TraceKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<NodeId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageId>,
    /// The message, timer or fault in `Debug` form, when detail is on.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub detail: String,
}

/// How much of the trace to keep beyond the hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceConfig {
    pub record: bool,
    /// Also keep each event's content in `Debug` form (slower; for diagnosis).
    pub detail: bool,
    /// Recording stops after this many records; the hash goes on.
    pub records_max: usize,
    /// Only events at or after this time are recorded (ns).
    pub record_from_ns: u64,
    /// Only events at or before this time are recorded (ns): with
    /// `record_from_ns`, a window, so that a space-time diagram of one
    /// second of a long run holds that second alone.
    pub record_to_ns: u64,
}

impl Default for TraceConfig {
    fn default() -> Self {
        TraceConfig {
            record: false,
            detail: false,
            records_max: 1_000_000,
            record_from_ns: 0,
            record_to_ns: u64::MAX,
        }
    }
}

const NONE_ID: u64 = u32::MAX as u64;

/// The trace of one run.
#[derive(Clone, Debug)]
pub struct Trace {
    state: u64,
    config: TraceConfig,
    records: Vec<TraceRecord>,
    truncated: bool,
    /// Bytes of the recorded events' detail strings.
    detail_bytes: u64,
}

impl Trace {
    pub fn new(config: TraceConfig) -> Self {
        Trace {
            state: 0,
            config,
            records: Vec::new(),
            truncated: false,
            detail_bytes: 0,
        }
    }

    /// Folds one event into the hash and records it if recording is on.
    /// `detail` is only called when detail recording is on.
    #[inline]
    #[allow(clippy::too_many_arguments)] // one argument per hashed field; a struct would cost a copy per event
    pub fn event(
        &mut self,
        time: SimTime,
        kind: TraceKind,
        node: Option<NodeId>,
        peer: Option<NodeId>,
        message: Option<MessageId>,
        content_hash: u64,
        detail: impl FnOnce() -> String,
    ) {
        let ids =
            (node.map_or(NONE_ID, |n| n.0 as u64) << 32) | peer.map_or(NONE_ID, |n| n.0 as u64);
        let mut h = mix(self.state, time.as_nanos());
        h = mix(h, kind.code());
        h = mix(h, ids);
        h = mix(h, message.map_or(u64::MAX, |m| m.0));
        self.state = mix(h, content_hash);
        if self.config.record
            && (self.config.record_from_ns..=self.config.record_to_ns).contains(&time.as_nanos())
        {
            self.record(TraceRecord {
                time,
                kind,
                node,
                peer,
                message,
                detail: if self.config.detail {
                    detail()
                } else {
                    String::new()
                },
            });
        }
    }

    #[cold]
    fn record(&mut self, record: TraceRecord) {
        if self.records.len() < self.config.records_max {
            self.detail_bytes += record.detail.capacity() as u64;
            self.records.push(record);
        } else {
            self.truncated = true;
        }
    }

    /// The hash of every event so far.
    pub fn hash(&self) -> u64 {
        finalize(self.state)
    }
    pub fn records(&self) -> &[TraceRecord] {
        &self.records
    }
    /// Whether recording stopped at `records_max` before the run ended.
    pub fn truncated(&self) -> bool {
        self.truncated
    }
    pub fn config(&self) -> TraceConfig {
        self.config
    }
    /// Memory the recorded events hold (for the run's memory budget).
    pub fn memory_bytes(&self) -> u64 {
        (self.records.capacity() * std::mem::size_of::<TraceRecord>()) as u64 + self.detail_bytes
    }
}

/// Formats a trace hash the way every faultline output shows it.
pub fn format_hash(hash: u64) -> String {
    format!("{hash:016x}")
}
