//! A leaderless, Dynamo-style replicated key-value store: N replicas per
//! key on a consistent-hashing ring, writes that succeed after W durable
//! acks, reads that answer after R replies.
//!
//! # The protocol
//!
//! Any server coordinates a client's operation (or, with
//! `Coordinator::FirstReplica`, forwards it to the key's first live home
//! replica). A write is named by a `Dot` and ordered by last-writer-wins
//! stamps or dotted version vectors (`versions.rs`); the coordinator sends
//! it to the key's N home replicas (`ring.rs`), itself included over the
//! network like any other, and answers once W of them have it on disk. A
//! read asks N replicas (or R) and answers with the newest versions among
//! the first R replies: one value, or siblings (`coordinator.rs`).
//!
//! A coordinator that believes fewer than W (or R) home replicas alive
//! refuses at once: nothing was sent, so the client may try elsewhere. A
//! write that got too few acks in `request_timeout` is left unanswered,
//! since some replicas may hold it; the client's attempt times out.
//!
//! A coordinator takes each (client, seq, attempt) once: a copy the
//! network duplicated, delayed past the operation's end, would otherwise
//! be coordinated anew, with a newer stamp, and overwrite writes that
//! began after the operation ended (a phantom write). A client's retry
//! is a new attempt, and is coordinated again while the client waits.
//!
//! # Failure detection, sloppy quorums, hinted handoff (`replica.rs`)
//!
//! Servers send one another heartbeats; one unheard for `down_after`
//! counts as down. With `sloppy_quorum`, a write skips down home replicas
//! and goes to the next live servers on the ring, each told which home
//! replica it stands in for; a stand-in keeps such a write as a hint,
//! readable but apart from its own data, and every `handoff_interval`
//! hands its hints to their home replicas once those are back.
//!
//! # Repair (`coordinator.rs`, `anti_entropy.rs`)
//!
//! Read repair sends the newest versions to the replicas whose replies
//! were stale, after answering (`Async`) or before (`Blocking`).
//! Anti-entropy has each server compare bucket digests with the next
//! server in turn and exchange the keys of the buckets that differ.
//! Without either, a replica that missed a write keeps missing it.
//!
//! # Why linearizability fails here
//!
//! Even with R + W > N: a read may see a write that a later read (meeting
//! other replicas before they have it) does not; a failed write may land
//! on some replicas and surface later; a retried write is a second write
//! with a newer stamp; last-writer-wins drops concurrent writes by clock,
//! and version vectors return siblings, which no register returns. What
//! a strict quorum does give is fresh reads: a read never misses a write
//! that completed before it began (the `fresh-reads` check).

mod anti_entropy;
mod coordinator;
pub mod messages;
pub mod monitor;
pub mod params;
pub mod plugin;
mod replica;
pub mod ring;
pub mod versions;
pub mod visibility;

#[cfg(test)]
mod coordinator_test;
#[cfg(test)]
mod replica_test;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod visibility_test;

use self::coordinator::Pending;
use self::messages::{QEvent, QMessage, QTimer};
use self::params::{AntiEntropy, Coordinator, QuorumParams};
use self::ring::Ring;
use self::versions::{read_value, Rules, Version};
use crate::client::ClientRequest;
use crate::cluster::{ServerCtx, Service};
use rand::Rng;
use sim_core::{LocalTime, NodeId, SimDuration, SyncId, TimerId};
use std::collections::BTreeMap;
use std::sync::Arc;

const DATA_PREFIX: &str = "q/data/";
const HINT_PREFIX: &str = "q/hint/";
const COUNTER_KEY: &str = "q/counter";
/// Write counters reserved on disk at a time: a restart resumes past the
/// reservation, so no counter (and so no dot) is ever used twice.
pub const COUNTER_BLOCK: u64 = 1_024;
/// Operations a coordinator has in flight at most; past it, it refuses.
pub const PENDING_MAX: usize = 10_000;

/// What every server knows from the scenario: params, ring, the keys.
#[derive(Debug)]
pub struct QuorumSetup {
    pub params: QuorumParams,
    pub ring: Ring,
    /// The workload's keys, which anti-entropy walks and placement counts.
    pub keys: Vec<String>,
}

#[derive(Debug)]
pub struct Quorum {
    setup: Arc<QuorumSetup>,
    rules: Rules,
    me: u32,
    servers: u32,
    // Durable (each key's versions and each hint is one storage record).
    store: BTreeMap<String, Vec<Version>>,
    /// (home replica, key) -> versions held for it as a stand-in.
    hints: BTreeMap<(u32, String), Vec<Version>>,
    /// The last write counter used, and the highest reserved on disk.
    counter: u64,
    reserved: u64,
    // Volatile.
    /// The latest reservation's sync, until it completes: writes named
    /// from it go out only once it has.
    reserve_sync: Option<SyncId>,
    /// What a read of each key in `store` returns, for the convergence check.
    data: BTreeMap<String, String>,
    /// Heap bytes of `store` and `hints`, kept as they change.
    stored_bytes: usize,
    last_heard: Vec<LocalTime>,
    pending: BTreeMap<u64, Pending>,
    /// Per client, the latest (seq, attempt) this server coordinated: a
    /// copy of a request the network duplicated, or one older than what
    /// the client has moved on to, is dropped rather than coordinated
    /// again (which would write anew, after the client's operation ended).
    coordinated: BTreeMap<u32, (u64, u32)>,
    /// Anti-entropy rounds so far: which peer is next.
    ae_round: u32,
}

impl Quorum {
    pub fn new(setup: Arc<QuorumSetup>) -> Self {
        let rules = Rules {
            versioning: setup.params.versioning,
            ignore_ties: setup.params.lww_ignore_ties,
        };
        Quorum {
            setup,
            rules,
            me: 0,
            servers: 0,
            store: BTreeMap::new(),
            hints: BTreeMap::new(),
            counter: 0,
            reserved: 0,
            reserve_sync: None,
            data: BTreeMap::new(),
            stored_bytes: 0,
            last_heard: Vec::new(),
            pending: BTreeMap::new(),
            coordinated: BTreeMap::new(),
            ae_round: 0,
        }
    }

    fn params(&self) -> &QuorumParams {
        &self.setup.params
    }

    /// The versions this server holds of `key` in its store.
    pub fn versions(&self, key: &str) -> &[Version] {
        self.store.get(key).map_or(&[], Vec::as_slice)
    }

    /// The hints this server holds as a stand-in for `home`.
    pub fn hints_for(&self, home: u32, key: &str) -> &[Version] {
        self.hints
            .get(&(home, key.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// Whether this server counts `server` as alive (itself always).
    fn live(&self, now: LocalTime, server: u32) -> bool {
        server == self.me
            || now.saturating_since(self.last_heard[server as usize]) <= self.params().down_after.0
    }

    /// The next write counter, reserving a block on disk first when the
    /// reservation is used up.
    fn take_counter(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) -> u64 {
        if self.counter == self.reserved {
            self.reserved += COUNTER_BLOCK;
            ctx.storage()
                .put(COUNTER_KEY, self.reserved.to_le_bytes().to_vec());
            self.reserve_sync = Some(ctx.storage().sync());
        }
        self.counter += 1;
        debug_assert!(self.counter <= self.reserved);
        self.counter
    }

    /// Sends a message that names a write: held back while the counter
    /// reservation it came from is not yet on disk.
    fn send_named(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, to: u32, message: QMessage) {
        if self.reserve_sync.is_some() {
            ctx.send_when_durable(NodeId(to), message);
        } else {
            ctx.send(NodeId(to), message);
        }
    }

    /// Replaces what the store holds of `key` (already merged), writes it
    /// to disk, asks for a sync and reports it once durable.
    fn put_versions(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        key: &str,
        versions: Vec<Version>,
    ) {
        let bytes = serde_json::to_vec(&versions).expect("versions serialise");
        ctx.storage().put(&format!("{DATA_PREFIX}{key}"), bytes);
        ctx.storage().sync_grouped();
        let dots = versions::dots(&versions);
        ctx.emit(QEvent::Serves {
            key: key.to_string(),
            dots: dots.clone(),
        });
        ctx.emit_when_durable(QEvent::Holds {
            key: key.to_string(),
            hint_for: None,
            dots,
        });
        self.data.insert(key.to_string(), read_value(&versions));
        let added = versions_bytes(&versions) + key.len() + 64;
        let removed = self
            .store
            .insert(key.to_string(), versions)
            .map_or(0, |old| versions_bytes(&old) + key.len() + 64);
        self.stored_bytes = (self.stored_bytes + added).saturating_sub(removed);
    }

    /// As `put_versions`, for the hints held for `home` (none: deleted).
    fn put_hints(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        home: u32,
        key: &str,
        versions: Vec<Version>,
    ) {
        let record = format!("{HINT_PREFIX}{home}/{key}");
        if versions.is_empty() {
            ctx.storage().delete(&record);
        } else {
            let bytes = serde_json::to_vec(&versions).expect("versions serialise");
            ctx.storage().put(&record, bytes);
        }
        ctx.storage().sync_grouped();
        let dots = versions::dots(&versions);
        if !dots.is_empty() {
            ctx.emit(QEvent::Serves {
                key: key.to_string(),
                dots: dots.clone(),
            });
        }
        ctx.emit_when_durable(QEvent::Holds {
            key: key.to_string(),
            hint_for: Some(home),
            dots,
        });
        let slot = (home, key.to_string());
        let added = versions_bytes(&versions);
        let removed = if versions.is_empty() {
            self.hints.remove(&slot)
        } else {
            self.hints.insert(slot, versions)
        }
        .map_or(0, |old| versions_bytes(&old));
        self.stored_bytes = (self.stored_bytes + added).saturating_sub(removed);
    }

    /// Starts the periodic timers; anti-entropy at a random phase, so the
    /// servers do not all compare at once.
    fn start_timers(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let now = ctx.now();
        self.last_heard = vec![now; self.servers as usize];
        ctx.set_timer(self.params().heartbeat_interval.0, QTimer::Heartbeat);
        if self.params().sloppy_quorum {
            ctx.set_timer(self.params().handoff_interval.0, QTimer::Handoff);
        }
        if let AntiEntropy::Periodic { interval } = self.params().anti_entropy {
            let phase = ctx.rng().random_range(0..interval.0.as_nanos().max(1));
            ctx.set_timer(SimDuration::from_nanos(phase), QTimer::AntiEntropy);
        }
    }

    fn report_placement(&self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let home_keys = self.setup.keys.iter().filter(|k| self.holds_key(k)).count();
        ctx.emit(QEvent::Placement {
            home_keys: home_keys as u32,
        });
    }
}

fn versions_bytes(versions: &[Version]) -> usize {
    versions.iter().map(|v| v.heap_bytes() + 64).sum()
}

impl Service for Quorum {
    type Message = QMessage;
    type Timer = QTimer;
    type Event = QEvent;
    type Monitor = monitor::QuorumMonitor;

    const MESSAGE_KINDS: &'static [&'static str] = &[
        "Write",
        "WriteAck",
        "Read",
        "ReadReply",
        "Forward",
        "Handoff",
        "HandoffAck",
        "Digest",
        "Exchange",
        "Heartbeat",
    ];

    fn message_kind(message: &QMessage) -> usize {
        match message {
            QMessage::Write { .. } => 0,
            QMessage::WriteAck { .. } => 1,
            QMessage::Read { .. } => 2,
            QMessage::ReadReply { .. } => 3,
            QMessage::Forward(_) => 4,
            QMessage::Handoff { .. } => 5,
            QMessage::HandoffAck { .. } => 6,
            QMessage::Digest { .. } => 7,
            QMessage::Exchange { .. } => 8,
            QMessage::Heartbeat => 9,
        }
    }

    fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.me = ctx.id().0;
        self.servers = ctx.server_count();
        assert_eq!(self.servers as usize, self.setup.ring.servers() as usize);
        self.start_timers(ctx);
        self.report_placement(ctx);
    }

    fn on_recover(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.me = ctx.id().0;
        self.servers = ctx.server_count();
        let storage = ctx.storage();
        if let Some(bytes) = storage.get(COUNTER_KEY) {
            let mark = u64::from_le_bytes(bytes.try_into().expect("a counter is 8 bytes"));
            self.counter = mark;
            self.reserved = mark;
        }
        let parse = |bytes: &[u8]| -> Vec<Version> {
            serde_json::from_slice(bytes).expect("stored versions are well-formed")
        };
        let data: Vec<(String, Vec<Version>)> = storage
            .range(DATA_PREFIX, "q/data0")
            .map(|(k, v)| (k[DATA_PREFIX.len()..].to_string(), parse(v)))
            .collect();
        let hints: Vec<((u32, String), Vec<Version>)> = storage
            .range(HINT_PREFIX, "q/hint0")
            .map(|(k, v)| {
                let (home, key) = k[HINT_PREFIX.len()..]
                    .split_once('/')
                    .expect("hint records are q/hint/<home>/<key>");
                let home = home.parse().expect("a hint's home is a server id");
                ((home, key.to_string()), parse(v))
            })
            .collect();
        // Report what the disk holds: a crash that kept unsynced writes
        // made them durable without their syncs completing, so the
        // `Holds` those syncs would have released never went out, and the
        // monitor's mirror must learn them here (or it counts a write
        // this server keeps, and acks handoffs of, as lost).
        for (key, versions) in &data {
            ctx.emit(QEvent::Holds {
                key: key.clone(),
                hint_for: None,
                dots: versions::dots(versions),
            });
        }
        for ((home, key), versions) in &hints {
            ctx.emit(QEvent::Holds {
                key: key.clone(),
                hint_for: Some(*home),
                dots: versions::dots(versions),
            });
        }
        for (key, versions) in data {
            self.data.insert(key.clone(), read_value(&versions));
            self.stored_bytes += versions_bytes(&versions) + key.len() + 64;
            self.store.insert(key, versions);
        }
        for (slot, versions) in hints {
            self.stored_bytes += versions_bytes(&versions);
            self.hints.insert(slot, versions);
        }
        self.start_timers(ctx);
    }

    fn on_message(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, from: NodeId, message: QMessage) {
        self.last_heard[from.0 as usize] = ctx.now();
        match message {
            QMessage::Write {
                op,
                key,
                versions,
                hint,
            } => self.on_write(ctx, from, op, key, &versions, hint),
            QMessage::WriteAck { op } => self.on_write_ack(ctx, from, op),
            QMessage::Read { op, key } => self.on_read(ctx, from, op, &key),
            QMessage::ReadReply { op, versions } => self.on_read_reply(ctx, from, op, versions),
            QMessage::Forward(forwarded) => {
                let (client, request) = *forwarded;
                self.coordinate(ctx, client, request);
            }
            QMessage::Handoff { key, versions } => self.on_handoff(ctx, from, key, &versions),
            QMessage::HandoffAck { key, dots } => self.on_handoff_ack(ctx, from, &key, &dots),
            QMessage::Digest { buckets } => self.on_digest(ctx, from, &buckets),
            QMessage::Exchange { keys, answer } => self.on_exchange(ctx, from, keys, answer),
            QMessage::Heartbeat => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, _id: TimerId, timer: QTimer) {
        match timer {
            QTimer::Heartbeat => {
                ctx.broadcast(QMessage::Heartbeat);
                ctx.set_timer(self.params().heartbeat_interval.0, QTimer::Heartbeat);
            }
            QTimer::Handoff => {
                self.hand_off(ctx);
                ctx.set_timer(self.params().handoff_interval.0, QTimer::Handoff);
            }
            QTimer::AntiEntropy => {
                self.compare_with_a_peer(ctx);
                if let AntiEntropy::Periodic { interval } = self.params().anti_entropy {
                    ctx.set_timer(interval.0, QTimer::AntiEntropy);
                }
            }
            QTimer::Expire { op } => self.expire(ctx, op),
        }
    }

    fn on_synced(&mut self, _ctx: &mut ServerCtx<'_, '_, Self>, id: SyncId) {
        if self.reserve_sync.is_some_and(|r| id >= r) {
            self.reserve_sync = None;
        }
    }

    fn on_client_request(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        if self.params().coordinator == Coordinator::FirstReplica {
            let now = ctx.now();
            let first = self
                .setup
                .ring
                .home(request.op.key(), self.params().replicas)
                .into_iter()
                .find(|s| self.live(now, *s));
            if let Some(first) = first.filter(|f| *f != self.me) {
                ctx.send(
                    NodeId(first),
                    QMessage::Forward(Box::new((client, request))),
                );
                return;
            }
        }
        self.coordinate(ctx, client, request);
    }

    fn replica_data(&self) -> Option<&BTreeMap<String, String>> {
        Some(&self.data)
    }

    /// Anti-entropy compares with one peer per interval, in turn, so two
    /// servers that differ meet within `servers` intervals; a hint goes
    /// home at the first handoff after its home is heard again.
    fn convergence_quiet(&self) -> SimDuration {
        let params = self.params();
        let ns = |d: SimDuration| d.as_nanos();
        let mut quiet = 0u64;
        if let AntiEntropy::Periodic { interval } = params.anti_entropy {
            quiet += ns(interval.0).saturating_mul(u64::from(self.servers));
        }
        if params.sloppy_quorum {
            quiet += ns(params.handoff_interval.0) + ns(params.heartbeat_interval.0);
        }
        SimDuration::from_nanos(quiet)
    }

    fn holds_key(&self, key: &str) -> bool {
        self.setup
            .ring
            .home(key, self.params().replicas)
            .contains(&self.me)
    }

    fn state_heap_bytes(&self) -> usize {
        self.stored_bytes
            + self.pending.len() * 256
            + self.last_heard.capacity() * 8
            + crate::heap::map_bytes(&self.coordinated)
    }

    fn message_heap_bytes(message: &QMessage) -> usize {
        match message {
            QMessage::Write { key, versions, .. } | QMessage::Handoff { key, versions } => {
                key.capacity() + versions_bytes(versions)
            }
            QMessage::ReadReply { versions, .. } => versions_bytes(versions),
            QMessage::Read { key, .. } => key.capacity(),
            QMessage::Forward(forwarded) => 96 + forwarded.1.op.heap_bytes(),
            QMessage::HandoffAck { key, dots } => key.capacity() + dots.len() * 16,
            QMessage::Digest { buckets } => buckets.len() * 8,
            QMessage::Exchange { keys, .. } => keys
                .iter()
                .map(|(k, v)| k.capacity() + versions_bytes(v) + 48)
                .sum(),
            QMessage::WriteAck { .. } | QMessage::Heartbeat => 0,
        }
    }
}
