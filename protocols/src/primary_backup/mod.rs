//! Primary-backup replication of the key-value store, in three modes, with
//! failover by election among the backups and fencing by epochs and a lease.
//!
//! # The protocol
//!
//! One primary holds the store; it writes each client write to its durable
//! log (`DurableLog`, synced with group commit) and ships the log to the
//! backups in order (`replication.rs`). A backup takes entries only from
//! the primary of the latest epoch it knows, checks that they extend its
//! log (the entry before them matches, as in Raft), and acks its durable
//! log end once its disk has it. The primary commits, applies and answers
//! a write when the mode allows (`params::Mode`): after every backup's ack
//! (`Sync`), after `acks` acks (`SemiSync`, falling back to its own disk
//! when they are late), or after its own disk (`Async`, which ships every
//! `ship_interval`). The primary ships its commit index; backups apply up
//! to it, so a backup read sees only committed writes.
//!
//! # Failover (`failover.rs`)
//!
//! A backup that has not heard its primary for `failover_timeout` (plus a
//! random jitter) stands for primary of the next epoch. A server votes for
//! at most one candidate per epoch (the vote is durable before it goes),
//! never for one whose log ends before its own (epoch, then index), and
//! not at all while it heard a primary within `failover_timeout`. A
//! majority of all servers elects, and in `SemiSync` with few `acks`
//! more: `servers - acks`, so that the voters include a server holding
//! each write the mode promised (`election_quorum`). So the winner holds
//! every entry its voters hold: with three servers, the most up-to-date
//! reachable backup.
//! The new primary appends a no-op of its epoch; an entry commits only
//! once an entry of the committing primary's epoch does (Raft's Figure 8
//! rule), so a new primary never commits an old one's entry by counting.
//!
//! # Fencing
//!
//! Epochs fence a deposed primary three ways: backups refuse its appends
//! (so in `Sync` and `SemiSync` it cannot commit), clients carry the
//! highest epoch they have heard of and a primary of an older one refuses
//! them and steps down, and a lease: the primary commits and answers only
//! until `lease` (shortened by the drift bound) after sending the latest
//! heartbeat a majority answered. Since a backup votes only after
//! `failover_timeout` > `lease` of silence, a cut-off primary stops before
//! anyone can replace it. `Async` still loses the writes it answered and
//! had not shipped: that window is the mode's price, not a fencing failure.
//! A returning old primary learns the new epoch, becomes a backup, and
//! truncates what the new primary never had: the lost writes.
//!
//! # Reads (`reads.rs`)
//!
//! `Primary`: the primary answers from its committed state while its lease
//! holds and once its no-op has committed; linearizable with fencing.
//! `Backup`: clients send reads to a random other server, which answers
//! from what it has applied. `BackupWithSession`: each response carries
//! the position the operation reached; the client sends the highest it
//! has seen, and a backup answers only once it has applied that far
//! (waiting up to `session_wait`).

mod failover;
pub mod messages;
pub mod monitor;
pub mod params;
pub mod plugin;
mod reads;
mod replication;

use self::messages::{Append, Entry, PbEvent, PbMessage, PbTimer};
use self::params::PrimaryBackupParams;
use crate::client::{ClientReply, ClientRequest};
use crate::cluster::{ServerCtx, Service};
use crate::durable_log::DurableLog;
use crate::kv::KvStore;
use rand::Rng;
use sim_core::{LocalTime, NodeId, SimDuration, SyncId, TimerId};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// The epoch every run starts in. Its primary (n1) is named by the
/// configuration, not elected, so no server need hold a record of it:
/// a server that lost (or never synced) its epoch record still knows that
/// epoch 1 is taken, and stands for epoch 2 at the earliest.
const FIRST_EPOCH: u64 = 1;
/// Where a server keeps its epoch and vote.
const EPOCH_KEY: &str = "pb/epoch";
const LOG_PREFIX: &str = "pb/log/";
/// Client writes waiting for commit at a primary, at most; beyond it the
/// primary refuses writes (`Unavailable`) until some commit.
pub const PENDING_WRITES_MAX: usize = 10_000;
/// Session reads waiting at a server for their position, at most.
pub const PENDING_READS_MAX: usize = 1_024;
/// Heartbeat rounds whose send time a primary remembers, at most.
const ROUNDS_KEPT: usize = 64;

#[derive(Debug)]
enum Role {
    Primary(Box<PrimaryState>),
    Backup,
    /// Standing for primary of the current epoch: who voted for it.
    Candidate {
        votes: Vec<bool>,
    },
}

/// What only a primary keeps: per-server shipping state, the lease's
/// rounds, and the writes waiting for commit.
#[derive(Debug)]
struct PrimaryState {
    /// Per server: the next index to ship it (optimistic: entries in
    /// flight count as shipped until a tick finds them unanswered).
    next: Vec<u64>,
    /// Per server: the log end it acked as durable.
    acked: Vec<u64>,
    /// Per server: the latest heartbeat round it answered.
    acked_round: Vec<u64>,
    /// Per server: whether it answered since the last tick.
    heard: Vec<bool>,
    round: u64,
    /// (round, when it was sent), oldest first, at most `ROUNDS_KEPT`.
    rounds: VecDeque<(u64, LocalTime)>,
    /// Index -> the client waiting for it and its request.
    waiting: BTreeMap<u64, (NodeId, ClientRequest)>,
    /// Uncommitted entries' (index, when appended), oldest first: a
    /// semi-sync primary falls back when the oldest waits too long.
    uncommitted: VecDeque<(u64, LocalTime)>,
    /// Async: entries up to here may be shipped (the log end at the last
    /// ship); Sync and SemiSync ship the whole log.
    ship_limit: u64,
    /// SemiSync only: fallen back to answering after the local disk.
    degraded: bool,
    /// Whether the lease held when last looked at (reported on change).
    serving: bool,
    /// The index of this primary's no-op: reads wait for it to commit.
    first_own_index: u64,
}

impl PrimaryState {
    fn new(servers: usize, next: u64, round_sent: LocalTime) -> Self {
        PrimaryState {
            next: vec![next; servers],
            acked: vec![0; servers],
            acked_round: vec![0; servers],
            heard: vec![false; servers],
            round: 0,
            rounds: VecDeque::from([(0, round_sent)]),
            waiting: BTreeMap::new(),
            uncommitted: VecDeque::new(),
            ship_limit: next - 1,
            degraded: false,
            serving: false,
            first_own_index: next,
        }
    }
}

/// A session read waiting at a server until it has applied the client's position.
#[derive(Debug)]
struct PendingRead {
    client: NodeId,
    request: ClientRequest,
    since: LocalTime,
}

#[derive(Debug)]
pub struct PrimaryBackup {
    params: Arc<PrimaryBackupParams>,
    me: NodeId,
    servers: u32,
    // Durable: the epoch, the vote in it, the log.
    epoch: u64,
    voted_for: Option<NodeId>,
    log: DurableLog<Entry>,
    // Volatile.
    role: Role,
    commit: u64,
    applied: u64,
    store: KvStore,
    /// The log end known to be on this server's disk.
    durable: u64,
    /// Syncs in flight and the log end each makes durable, oldest first.
    syncs: VecDeque<(SyncId, u64)>,
    last_heard: LocalTime,
    /// When this backup stands for election, if it hears nothing more.
    stand_at: LocalTime,
    primary_hint: Option<NodeId>,
    reads: VecDeque<PendingRead>,
    ship_timer: Option<TimerId>,
}

impl PrimaryBackup {
    pub fn new(params: Arc<PrimaryBackupParams>) -> Self {
        PrimaryBackup {
            params,
            me: NodeId(0),
            servers: 0,
            epoch: 0,
            voted_for: None,
            log: DurableLog::new(LOG_PREFIX),
            role: Role::Backup,
            commit: 0,
            applied: 0,
            store: KvStore::default(),
            durable: 0,
            syncs: VecDeque::new(),
            last_heard: LocalTime::ZERO,
            stand_at: LocalTime::ZERO,
            primary_hint: None,
            reads: VecDeque::new(),
            ship_timer: None,
        }
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }
    pub fn is_primary(&self) -> bool {
        matches!(self.role, Role::Primary(_))
    }
    pub fn commit_index(&self) -> u64 {
        self.commit
    }
    pub fn log_len(&self) -> u64 {
        self.log.last_index()
    }
    pub fn store(&self) -> &KvStore {
        &self.store
    }

    fn majority(&self) -> usize {
        self.servers as usize / 2 + 1
    }

    /// Votes that elect a primary: enough that every election meets a
    /// server holding each promised write. A write `SemiSync` promised is
    /// on the primary and `acks` backups, so an election must hear from
    /// `servers - acks` of them (Flexible Paxos's rule: the two quorums
    /// intersect), which is more than a majority when `acks` is below
    /// half: 1 ack of 5 backups needs 5 votes of 6. A majority is always
    /// needed too, for the lease to fence. `Sync` writes are on every
    /// server and `Async` promises nothing, so a majority suffices.
    fn election_quorum(&self) -> usize {
        let servers = self.servers as usize;
        match self.params.mode {
            params::Mode::SemiSync { acks, .. } => self
                .majority()
                .max(servers - (acks as usize).min(servers - 1)),
            params::Mode::Sync | params::Mode::Async { .. } => self.majority(),
        }
    }

    fn last_epoch(&self) -> u64 {
        self.log.get(self.log.last_index()).map_or(0, |e| e.epoch)
    }

    /// Writes the epoch and vote (made durable by the next sync).
    fn persist_epoch(&self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let record = (self.epoch, self.voted_for.map(|n| n.0));
        let bytes = serde_json::to_vec(&record).expect("an epoch record serialises");
        ctx.storage().put(EPOCH_KEY, bytes);
    }

    /// Asks for every write so far to be made durable, remembering which
    /// log end that sync covers.
    fn sync(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let id = ctx.storage().sync_grouped();
        let end = self.log.last_index();
        match self.syncs.back_mut() {
            Some((last, covered)) if *last == id => *covered = end,
            _ => self.syncs.push_back((id, end)),
        }
    }

    /// A new silence deadline: `failover_timeout` plus a fresh jitter.
    fn reset_stand_at(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let jitter = self.params.failover_jitter.0.as_nanos();
        let extra = if jitter == 0 {
            0
        } else {
            ctx.rng().random_range(0..=jitter)
        };
        self.stand_at = ctx
            .now()
            .saturating_add(self.params.failover_timeout.0)
            .saturating_add(SimDuration::from_nanos(extra));
    }

    /// Learns of a later epoch: forgets its vote and, leading or standing,
    /// becomes a backup. Writes waiting for commit get no answer (their
    /// clients time out: the writes may or may not survive).
    fn adopt_epoch(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, epoch: u64) {
        debug_assert!(epoch > self.epoch);
        self.epoch = epoch;
        self.voted_for = None;
        self.persist_epoch(ctx);
        if self.is_primary() {
            ctx.emit(PbEvent::SteppedDown { epoch });
            self.last_heard = ctx.now();
            self.reset_stand_at(ctx);
        }
        self.role = Role::Backup;
        self.primary_hint = None;
    }

    /// Removes the log from `index` on; a store that applied any of it is
    /// rebuilt from the log up to the (lowered) commit index.
    fn truncate_from(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, index: u64) {
        self.log.truncate_from(ctx.storage(), index);
        ctx.emit(PbEvent::Truncated { from: index });
        let kept = index - 1;
        self.durable = self.durable.min(kept);
        for (_, covered) in self.syncs.iter_mut() {
            *covered = (*covered).min(kept);
        }
        if self.applied > kept {
            // Only a deposed primary's (or a promote_any loser's) writes
            // can be undone; rebuild rather than keep applied ghosts.
            self.store = KvStore::default();
            self.applied = 0;
            self.commit = self.commit.min(kept);
            self.apply_through(self.commit);
        }
    }

    /// Applies committed entries up to `index`; the results in order.
    fn apply_through(&mut self, index: u64) -> Vec<(u64, Option<crate::kv::KvResult>)> {
        let mut results = Vec::new();
        while self.applied < index.min(self.log.last_index()) {
            self.applied += 1;
            let entry = self.log.get(self.applied).expect("within the log");
            let result = entry
                .request
                .as_ref()
                .and_then(|r| self.store.apply(u64::from(r.client), r.seq, &r.op));
            results.push((self.applied, result));
        }
        results
    }

    fn redirect(&self, ctx: &mut ServerCtx<'_, '_, Self>, client: NodeId, request: &ClientRequest) {
        let hint = self.primary_hint.filter(|h| *h != ctx.id());
        ctx.reply(client, request.answer(ClientReply::NotLeader { hint }));
    }
}

impl Service for PrimaryBackup {
    type Message = PbMessage;
    type Timer = PbTimer;
    type Event = PbEvent;
    type Monitor = monitor::PbMonitor;

    fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.me = ctx.id();
        self.servers = ctx.server_count();
        self.epoch = FIRST_EPOCH;
        self.persist_epoch(ctx);
        self.last_heard = ctx.now();
        self.reset_stand_at(ctx);
        self.primary_hint = Some(NodeId(0));
        ctx.set_timer(self.params.heartbeat_interval.0, PbTimer::Tick);
        if self.me == NodeId(0) {
            self.become_primary(ctx);
        }
    }

    fn on_recover(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.me = ctx.id();
        self.servers = ctx.server_count();
        // Without a record (a power loss before the first sync), the
        // server is still in the configured first epoch, never before it:
        // an election for epoch 1 would crown a second primary of it.
        self.epoch = FIRST_EPOCH;
        self.voted_for = None;
        if let Some(bytes) = ctx.storage().get(EPOCH_KEY) {
            let (epoch, vote): (u64, Option<u32>) =
                serde_json::from_slice(bytes).expect("epoch records are well-formed");
            self.epoch = epoch;
            self.voted_for = vote.map(NodeId);
        }
        self.log = DurableLog::load(LOG_PREFIX, ctx.storage());
        self.durable = self.log.last_index();
        let digests = (1..=self.log.last_index())
            .map(|i| self.log.get(i).expect("within the log").digest())
            .collect();
        ctx.emit(PbEvent::Recovered { digests });
        // Everything else is volatile: it starts as a backup that knows
        // nothing committed, and waits a full timeout before standing.
        self.role = Role::Backup;
        self.last_heard = ctx.now();
        self.reset_stand_at(ctx);
        ctx.set_timer(self.params.heartbeat_interval.0, PbTimer::Tick);
    }

    fn on_message(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, from: NodeId, message: PbMessage) {
        match message {
            PbMessage::Append(append) => self.on_append(ctx, from, append),
            PbMessage::AppendAck {
                epoch,
                ok,
                index,
                round,
            } => self.on_append_ack(ctx, from, epoch, ok, index, round),
            PbMessage::RequestVote {
                epoch,
                last_epoch,
                last_index,
            } => self.on_request_vote(ctx, from, epoch, (last_epoch, last_index)),
            PbMessage::Vote { epoch, granted } => self.on_vote(ctx, from, epoch, granted),
        }
    }

    fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, id: TimerId, timer: PbTimer) {
        match timer {
            PbTimer::Tick => {
                self.on_tick(ctx);
                ctx.set_timer(self.params.heartbeat_interval.0, PbTimer::Tick);
            }
            PbTimer::Ship => {
                if self.ship_timer == Some(id) {
                    self.ship_timer = None;
                    self.on_ship_timer(ctx);
                }
            }
        }
    }

    fn on_synced(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, id: SyncId) {
        while let Some(&(sync, covered)) = self.syncs.front() {
            if sync > id {
                break;
            }
            self.durable = self.durable.max(covered.min(self.log.last_index()));
            self.syncs.pop_front();
        }
        if self.is_primary() {
            self.advance_commit(ctx);
        }
    }

    fn on_client_request(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        // A client that has heard of a later epoch: this server is behind,
        // and if it leads, it has been replaced (a fencing token).
        if u64::from(request.token.epoch) > self.epoch {
            self.adopt_epoch(ctx, u64::from(request.token.epoch));
            self.sync(ctx);
        }
        if request.op.is_read() {
            self.on_read(ctx, client, request);
        } else {
            self.on_write(ctx, client, request);
        }
    }

    fn leader_term(&self) -> Option<u64> {
        self.is_primary().then_some(self.epoch)
    }

    fn replica_data(&self) -> Option<&BTreeMap<String, String>> {
        Some(self.store.data())
    }

    /// Its log's end, how much of it is on disk, and how much applied.
    fn repair_progress(&self) -> u64 {
        self.log.last_index() + self.durable + self.applied
    }

    fn state_heap_bytes(&self) -> usize {
        let primary = match &self.role {
            Role::Primary(state) => {
                state.next.capacity() * 8 * 3
                    + state.rounds.capacity() * 16
                    + state.uncommitted.capacity() * 16
                    + crate::heap::map_bytes(&state.waiting)
                    + state
                        .waiting
                        .values()
                        .map(|(_, r)| r.op.heap_bytes())
                        .sum::<usize>()
            }
            Role::Candidate { votes } => votes.capacity(),
            Role::Backup => 0,
        };
        self.log.memory_bytes()
            + self.store.heap_bytes()
            + self.syncs.capacity() * 16
            + self.reads.capacity() * std::mem::size_of::<PendingRead>()
            + primary
    }

    const MESSAGE_KINDS: &'static [&'static str] = &["Append", "AppendAck", "RequestVote", "Vote"];

    fn message_kind(message: &PbMessage) -> usize {
        match message {
            PbMessage::Append(_) => 0,
            PbMessage::AppendAck { .. } => 1,
            PbMessage::RequestVote { .. } => 2,
            PbMessage::Vote { .. } => 3,
        }
    }

    fn message_heap_bytes(message: &PbMessage) -> usize {
        match message {
            PbMessage::Append(Append { entries, .. }) => {
                entries.capacity() * std::mem::size_of::<Entry>()
                    + entries.iter().map(Entry::heap_bytes).sum::<usize>()
            }
            _ => 0,
        }
    }
}

#[cfg(test)]
#[path = "replication_test.rs"]
mod replication_test;

#[cfg(test)]
#[path = "failover_test.rs"]
mod failover_test;

#[cfg(test)]
#[path = "monitor_test.rs"]
mod monitor_test;
