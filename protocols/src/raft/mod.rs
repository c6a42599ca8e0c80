//! Raft (Ongaro & Ousterhout, extended paper, Figure 2) driving the
//! key-value store, as a sans-IO `Service`.
//!
//! The module is split by concern: `election` (timeouts, PreVote,
//! RequestVote, CheckQuorum), `replication` (AppendEntries, fast
//! backtracking, the commit rule, applying), `reads` (the four read modes),
//! `monitor` (the invariants, checked as the run goes) and `params`.
//!
//! Durability follows Figure 2's "persistent state": currentTerm, votedFor
//! and the log are written to the node's storage and synced, and every
//! message that depends on them (a vote, an AppendEntries reply, a
//! candidate's vote requests) waits in the durable outbox until the sync
//! completes. A leader sends its new entries to the followers while its own
//! disk writes them (dissertation §10.2.1), and counts its own copy toward
//! a majority only once its sync completes (`on_synced`). Everything else is
//! volatile and rebuilt after a restart: the state machine is re-applied as
//! the commit index is learned.

pub mod app;
#[cfg(test)]
mod durability_test;
mod election;
#[cfg(test)]
mod election_test;
pub mod kv_app;
pub mod messages;
pub mod monitor;
#[cfg(test)]
mod monitor_test;
pub mod params;
pub mod plugin;
mod reads;
mod replication;
#[cfg(test)]
mod replication_test;
#[cfg(test)]
mod test_support;

use crate::client::{ClientReply, ClientRequest};
use crate::cluster::{ServerCtx, Service};
use crate::durable_log::DurableLog;
pub use app::{RaftApp, RaftEnv};
pub use kv_app::KvApp;
use messages::{Command, LogEntry, RaftEvent, RaftMessage, RaftTimer};
use params::{RaftParams, ReadMode};
use serde::{Deserialize, Serialize};
use sim_core::{LocalTime, NodeId, SyncId, TimerId};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

pub use monitor::RaftMonitor;

const LOG_PREFIX: &str = "raft/log/";
const META_KEY: &str = "raft/meta";
/// Client writes waiting for their entry to commit, per leader, at most.
/// Beyond it the leader answers `Unavailable` (nothing was appended).
pub const PENDING_WRITES_MAX: usize = 10_000;
/// Reads waiting on a leadership confirmation, at most.
pub const PENDING_READS_MAX: usize = 10_000;
/// Entries a leader may hold uncommitted; beyond it new writes are refused,
/// so a leader cut off from its majority cannot grow its log without bound.
pub const UNCOMMITTED_ENTRIES_MAX: u64 = 10_000;
/// Entries a server looks back through, at most, before it refuses a
/// client's request as not leader. Why: networks duplicate messages, so
/// one copy of an attempt may have reached this server while it led and
/// been appended, and a refusal of the other copy would tell the client
/// "not applied" of an entry that may yet commit. Copies arrive close
/// together, so the log's tail is where such an entry is.
pub const REFUSAL_LOOKBACK_MAX: u64 = UNCOMMITTED_ENTRIES_MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Follower,
    /// Collecting pre-votes (PreVote only); the term is not raised yet.
    PreCandidate,
    Candidate,
    Leader,
}

/// Figure 2's persistent state besides the log.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Meta {
    term: u64,
    voted_for: Option<u32>,
}

/// Volatile state a leader keeps per follower and for reads.
#[derive(Debug)]
struct LeaderState<A: RaftApp> {
    /// Per server id: the next index to send, the highest index known to
    /// match, and the highest index already sent (pipelining).
    next_index: Vec<u64>,
    match_index: Vec<u64>,
    sent_until: Vec<u64>,
    /// Heartbeat rounds: the latest round each server acknowledged, and when
    /// (leader's clock) each round still of interest was sent.
    acked_round: Vec<u64>,
    round: u64,
    round_sent_at: BTreeMap<u64, LocalTime>,
    /// Servers heard from since the last quorum check.
    heard_since_check: Vec<bool>,
    /// Log index -> who waits for it.
    pending_writes: BTreeMap<u64, A::Waiter>,
    pending_reads: VecDeque<PendingRead<A::Read>>,
    heartbeat_timer: Option<TimerId>,
    quorum_timer: Option<TimerId>,
}

#[derive(Debug)]
struct PendingRead<R> {
    /// The read itself (for the key-value store: the client and request).
    read: R,
    /// The commit index when the read arrived: it may be served once applied.
    read_index: u64,
    /// The heartbeat round that must reach a majority first.
    round: u64,
}

/// One Raft server replicating the application `A` (by default the
/// key-value store, served to the shared clients: `kv_app.rs`).
#[derive(Debug)]
pub struct Raft<A: RaftApp = KvApp> {
    params: Arc<RaftParams>,
    // Persistent (mirrored from storage).
    term: u64,
    voted_for: Option<NodeId>,
    log: DurableLog<LogEntry<A::Command>>,
    // Volatile.
    role: Role,
    leader: Option<NodeId>,
    commit_index: u64,
    last_applied: u64,
    store: A::State,
    election_timer: Option<TimerId>,
    /// When this server last heard a current leader (its clock).
    heard_leader_at: Option<LocalTime>,
    /// Votes (or pre-votes) this candidate holds, by server id.
    votes: Vec<bool>,
    /// Syncs in flight (or promised by group commit), each with the last
    /// log index it makes durable, oldest first.
    sync_points: VecDeque<(SyncId, u64)>,
    /// Every entry up to here is durable on this server's disk.
    durable_index: u64,
    /// A candidate's vote for itself counts once this sync completes.
    own_vote_sync: Option<SyncId>,
    leader_state: Option<LeaderState<A>>,
}

impl<A: RaftApp> Raft<A> {
    pub fn new(params: Arc<RaftParams>) -> Self {
        Self::with_state(params, A::State::default())
    }

    /// A server whose state machine starts as `store` (a host's rules
    /// live there: the state machine reads no params).
    pub fn with_state(params: Arc<RaftParams>, store: A::State) -> Self {
        Raft {
            params,
            term: 0,
            voted_for: None,
            log: DurableLog::new(LOG_PREFIX),
            role: Role::Follower,
            leader: None,
            commit_index: 0,
            last_applied: 0,
            store,
            election_timer: None,
            heard_leader_at: None,
            votes: Vec::new(),
            sync_points: VecDeque::new(),
            durable_index: 0,
            own_vote_sync: None,
            leader_state: None,
        }
    }

    fn majority<E: RaftEnv<A>>(ctx: &E) -> usize {
        ctx.server_count() as usize / 2 + 1
    }

    fn last_log_term(&self) -> u64 {
        self.term_at(self.log.last_index())
    }

    /// The term of the entry at `index`; 0 for index 0 (before the log).
    fn term_at(&self, index: u64) -> u64 {
        if index == 0 {
            return 0;
        }
        self.log.get(index).map_or(0, |e| e.term)
    }

    /// Writes currentTerm and votedFor and syncs: callers reply only after.
    fn persist_meta<E: RaftEnv<A>>(&mut self, ctx: &mut E, sync: bool) {
        let meta = Meta {
            term: self.term,
            voted_for: self.voted_for.map(|n| n.0),
        };
        ctx.storage().put(
            META_KEY,
            serde_json::to_vec(&meta).expect("meta serialises"),
        );
        if sync {
            self.sync(ctx);
        }
    }

    /// Asks for every write so far to be made durable (grouped with the
    /// sync in flight under `group_commit`), and notes how far the log it
    /// covers reaches.
    fn sync<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        let id = if self.params.group_commit {
            ctx.storage().sync_grouped()
        } else {
            ctx.storage().sync()
        };
        let last = self.log.last_index();
        match self.sync_points.back_mut() {
            // Group commit promised this sync already: it now covers more.
            Some((back, index)) if *back == id => *index = last,
            _ => self.sync_points.push_back((id, last)),
        }
    }

    /// Cuts the log from `index`, which also takes those entries out of
    /// what this server knows to be durable: the entries written there
    /// next are new.
    fn truncate_log<E: RaftEnv<A>>(&mut self, ctx: &mut E, index: u64) {
        self.log.truncate_from(ctx.storage(), index);
        let kept = index - 1;
        self.durable_index = self.durable_index.min(kept);
        for (_, covered) in &mut self.sync_points {
            *covered = (*covered).min(kept);
        }
    }

    /// Stores `entry` at the end of the log and reports it (not yet synced).
    fn store_entry<E: RaftEnv<A>>(&mut self, ctx: &mut E, entry: LogEntry<A::Command>) -> u64 {
        let (term, digest) = (entry.term, entry.digest());
        let index = self.log.append(ctx.storage(), entry);
        ctx.emit(RaftEvent::Stored {
            index,
            term,
            digest,
        });
        index
    }

    /// Moves to `term` as a follower if it is newer than ours.
    fn observe_term<E: RaftEnv<A>>(&mut self, ctx: &mut E, term: u64) {
        if self.observe_term_unsynced(ctx, term) {
            self.sync(ctx);
        }
    }

    /// As `observe_term`, but leaves the sync of the new term to the
    /// caller, which writes more (a vote, entries) and syncs once: one disk
    /// write per message, not two. True if the term changed.
    fn observe_term_unsynced<E: RaftEnv<A>>(&mut self, ctx: &mut E, term: u64) -> bool {
        if term <= self.term {
            return false;
        }
        self.term = term;
        self.voted_for = None;
        self.leader = None;
        self.persist_meta(ctx, false);
        self.become_follower(ctx);
        true
    }

    fn become_follower<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        if self.role == Role::Leader {
            self.stop_leading(ctx);
        }
        self.role = Role::Follower;
        // Figure 2: only AppendEntries from the current leader or granting a
        // vote restart the timer. Learning a higher term from a vote request
        // this server rejects must not, or servers that cannot win would
        // keep postponing the elections of those that can.
        if self.election_timer.is_none() {
            self.reset_election_timer(ctx);
        }
    }

    fn stop_leading<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        let state = self.leader_state.take().expect("a leader has leader state");
        for timer in [state.heartbeat_timer, state.quorum_timer]
            .into_iter()
            .flatten()
        {
            ctx.cancel_timer(timer);
        }
        // Waiting clients get no answer: their entries may still commit
        // under the next leader, so only a timeout (unknown) is honest.
        ctx.emit(RaftEvent::SteppedDown { term: self.term });
    }
}

/// The key-value store's own rules, beside the generic module.
impl Raft<KvApp> {
    /// Whether the log's tail (`REFUSAL_LOOKBACK_MAX` entries) holds an
    /// entry for this operation (client and sequence number).
    fn holds_entry_for(&self, request: &ClientRequest) -> bool {
        let last = self.log.last_index();
        let from = last.saturating_sub(REFUSAL_LOOKBACK_MAX) + 1;
        self.log.slice(from, last + 1).iter().any(|entry| {
            matches!(&entry.command, Command::Client(r) if r.client == request.client && r.seq == request.seq)
        })
    }

    fn redirect(&self, ctx: &mut ServerCtx<'_, '_, Self>, client: NodeId, request: &ClientRequest) {
        if self.holds_entry_for(request) {
            // Not a refusal: the entry may commit, so only the client's
            // timeout (an unknown outcome) is honest.
            return;
        }
        let hint = self.leader.filter(|l| *l != ctx.id());
        ctx.reply(client, request.answer(ClientReply::NotLeader { hint }));
    }
}

/// The server's handlers, for any host: the key-value `Service` below
/// calls them with its `ServerCtx`, a hosting protocol with its own
/// `RaftEnv`.
impl<A: RaftApp> Raft<A> {
    /// Heap memory this server holds (see `Service::state_heap_bytes`).
    pub fn heap_bytes(&self) -> usize {
        let leader = self.leader_state.as_ref().map_or(0, |l| {
            (l.next_index.len() * 4 + l.heard_since_check.len()) * 8
                + l.round_sent_at.len() * 48
                + l.pending_writes.len() * 64
                + l.pending_reads.len() * std::mem::size_of::<PendingRead<A::Read>>()
        });
        self.log.memory_bytes() + A::state_heap_bytes(&self.store) + self.votes.len() + leader
    }

    /// The names of Raft's message kinds, indexed by `message_kind`.
    pub const MESSAGE_KINDS: &'static [&'static str] = RaftMessage::<A::Command>::KINDS;

    pub fn message_kind(message: &RaftMessage<A::Command>) -> usize {
        message.kind()
    }

    /// Heap memory a message holds beyond its inline size.
    pub fn message_heap_bytes(message: &RaftMessage<A::Command>) -> usize {
        match message {
            RaftMessage::AppendEntries(append) => append
                .entries
                .iter()
                .map(|e| {
                    std::mem::size_of::<LogEntry<A::Command>>()
                        + match &e.command {
                            Command::Noop => 0,
                            Command::Client(command) => A::command_heap_bytes(command),
                        }
                })
                .sum(),
            _ => 0,
        }
    }

    pub fn on_start<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        let preload = self
            .params
            .preload_log_lengths
            .get(ctx.id().index())
            .copied()
            .unwrap_or(0);
        if preload > 0 {
            // Experiment setup: a prefix of one common log, all of term 1.
            for _ in 0..preload {
                self.store_entry(
                    ctx,
                    LogEntry {
                        term: 1,
                        command: Command::Noop,
                    },
                );
            }
            self.term = 1;
            self.persist_meta(ctx, false);
            // Set up as already on disk: the experiment starts from logs
            // that exist, not from logs being written.
            ctx.storage().make_all_durable();
            self.durable_index = self.log.last_index();
        }
        if let Some(leader) = self.params.initial_leader {
            // Experiment setup, already on disk: term 1, everyone's vote
            // for `leader`, which leads from the start.
            self.term = self.term.max(1);
            self.voted_for = Some(NodeId(leader));
            self.persist_meta(ctx, false);
            ctx.storage().make_all_durable();
            self.durable_index = self.log.last_index();
            if ctx.id() == NodeId(leader) {
                self.role = Role::Candidate;
                self.become_leader(ctx);
                return;
            }
        }
        self.become_follower(ctx);
    }

    /// After a restart: the log and the persistent state come back from
    /// the disk; everything else starts fresh.
    pub fn on_recover<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        if let Some(bytes) = ctx.storage().get(META_KEY) {
            let meta: Meta = serde_json::from_slice(bytes).expect("durable meta is well-formed");
            self.term = meta.term;
            self.voted_for = meta.voted_for.map(NodeId);
        }
        self.log = DurableLog::load(LOG_PREFIX, ctx.storage());
        // What a restart finds on disk: everything it loads.
        self.durable_index = self.log.last_index();
        ctx.emit(RaftEvent::Recovered {
            last_index: self.log.last_index(),
            term: self.term,
        });
        // A restarted server may have acknowledged a leader's heartbeat just
        // before it crashed, and that leader may hold a lease counting on it:
        // so it waits out one election timeout before voting, as if it had
        // just heard a leader.
        self.heard_leader_at = Some(ctx.now());
        self.become_follower(ctx);
    }

    pub fn on_message<E: RaftEnv<A>>(
        &mut self,
        ctx: &mut E,
        from: NodeId,
        message: RaftMessage<A::Command>,
    ) {
        match message {
            RaftMessage::RequestVote {
                term,
                last_log_index,
                last_log_term,
                pre_vote,
            } => self.on_request_vote(ctx, from, term, (last_log_index, last_log_term), pre_vote),
            RaftMessage::Vote {
                term,
                granted,
                pre_vote,
            } => self.on_vote(ctx, from, term, granted, pre_vote),
            RaftMessage::AppendEntries(request) => self.on_append_entries(ctx, from, request),
            RaftMessage::AppendReply(reply) => self.on_append_reply(ctx, from, reply),
        }
    }

    pub fn on_timer<E: RaftEnv<A>>(&mut self, ctx: &mut E, id: TimerId, timer: RaftTimer) {
        match timer {
            RaftTimer::Election => {
                if self.election_timer == Some(id) {
                    self.election_timer = None;
                    self.on_election_timeout(ctx);
                }
            }
            RaftTimer::Heartbeat => {
                let current = self
                    .leader_state
                    .as_ref()
                    .is_some_and(|s| s.heartbeat_timer == Some(id));
                if current {
                    self.broadcast_heartbeat(ctx);
                }
            }
            RaftTimer::QuorumCheck => {
                let current = self
                    .leader_state
                    .as_ref()
                    .is_some_and(|s| s.quorum_timer == Some(id));
                if current {
                    self.check_quorum(ctx);
                }
            }
        }
    }

    /// A sync this server asked for completed.
    pub fn on_synced<E: RaftEnv<A>>(&mut self, ctx: &mut E, id: SyncId) {
        while let Some(&(sync, covered)) = self.sync_points.front() {
            if sync > id {
                break;
            }
            self.sync_points.pop_front();
            self.durable_index = self.durable_index.max(covered);
        }
        debug_assert!(self.durable_index <= self.log.last_index());
        if self.role == Role::Leader {
            self.own_copy_durable(ctx);
        }
        if self.role == Role::Candidate && self.own_vote_sync.is_some_and(|s| s <= id) {
            self.own_vote_durable(ctx);
        }
    }

    /// The term this server leads, if it leads.
    pub fn leader_term(&self) -> Option<u64> {
        (self.role == Role::Leader).then_some(self.term)
    }

    /// The leader this server knows of in its term (itself when leading).
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    /// The state machine, as far as this server has applied the log.
    pub fn state(&self) -> &A::State {
        &self.store
    }

    /// Its log's end, how much of it is on disk, and how much applied.
    pub fn repair_progress(&self) -> u64 {
        self.log.last_index() + self.durable_index + self.last_applied
    }

    /// After a heal a leader may have to be elected (up to two election
    /// timeouts, one lost to a split vote) before it brings the others'
    /// logs up to date and their commit index with the next heartbeat.
    pub fn convergence_quiet(&self) -> sim_core::SimDuration {
        let (max, beat) = (self.params.election_timeout_max(), self.params.heartbeat());
        sim_core::SimDuration::from_nanos(2 * max.as_nanos() + 2 * beat.as_nanos())
    }
}

impl Service for Raft {
    type Message = RaftMessage;
    type Timer = RaftTimer;
    type Event = RaftEvent;
    type Monitor = RaftMonitor;

    fn state_heap_bytes(&self) -> usize {
        self.heap_bytes()
    }

    const MESSAGE_KINDS: &'static [&'static str] = Raft::<KvApp>::MESSAGE_KINDS;

    fn message_kind(message: &RaftMessage) -> usize {
        Raft::<KvApp>::message_kind(message)
    }

    fn message_heap_bytes(message: &RaftMessage) -> usize {
        Raft::<KvApp>::message_heap_bytes(message)
    }

    fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        Raft::on_start(self, ctx)
    }

    fn on_recover(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        Raft::on_recover(self, ctx)
    }

    fn on_message(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        message: RaftMessage,
    ) {
        Raft::on_message(self, ctx, from, message)
    }

    fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, id: TimerId, timer: RaftTimer) {
        Raft::on_timer(self, ctx, id, timer)
    }

    fn on_client_request(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        if request.op.is_read() && self.params.read_mode != ReadMode::Log {
            self.on_read(ctx, client, request);
            return;
        }
        if self.role != Role::Leader {
            self.redirect(ctx, client, &request);
            return;
        }
        self.propose(ctx, client, request);
    }

    fn on_synced(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, id: SyncId) {
        Raft::on_synced(self, ctx, id)
    }

    fn leader_term(&self) -> Option<u64> {
        Raft::leader_term(self)
    }

    fn replica_data(&self) -> Option<&BTreeMap<String, String>> {
        Some(self.store.data())
    }

    /// Its log's end, how much of it is on disk, and how much applied.
    fn repair_progress(&self) -> u64 {
        Raft::repair_progress(self)
    }

    fn convergence_quiet(&self) -> sim_core::SimDuration {
        Raft::convergence_quiet(self)
    }
}
