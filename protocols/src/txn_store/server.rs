//! A TxnStore server: one shard of the keys, the coordinator of the
//! transactions its clients send it, and (server n1, under snapshot
//! isolation with the oracle) the timestamp oracle. It wires the pure
//! parts (`shard.rs`, `coordinator.rs`, `dedup.rs`, `timestamps.rs`) to
//! messages, timers and the disk.
//!
//! Durability, in the order that keeps two-phase commit atomic across
//! crashes and power losses:
//! - a shard votes yes only once its prepared record (`p/<txn>`) is on
//!   disk, and restores it, locks and all, after a restart;
//! - a coordinator sends a commit to no shard, and answers no client,
//!   before its decision (`c/<txn>`) is on disk; a transaction it has no
//!   record of was aborted (presumed abort), so it answers a shard's
//!   query about one with abort;
//! - a shard installs a commit, writes the new versions (`v/<key>`) and
//!   the client's owner (`o/<client>`) and drops the prepared record in
//!   one sync, and acknowledges once that is on disk; the coordinator
//!   then forgets its decision.
//!
//! A shard that holds a prepared transaction undecided asks its
//! coordinator every `request_timeout` until it hears: a coordinator that
//! is down blocks the shard's locks on those keys, as two-phase commit
//! does, and the monitor measures how long (`HeldPrepared`).
//!
//! Messages from a server to itself do not go through the network: they
//! queue (`local`) and run when the handler ends, or when the disk has
//! what they depend on (`after_sync`).

use super::coordinator::{Abort, Coordinator, Request, Step};
use super::dedup::{Owner, Owners};
use super::locks::TxnId;
use super::messages::{
    AbortKind, DecisionOnDisk, PreparedOnDisk, TsPurpose, TxnEvent, TxnMessage, TxnTimer,
    VersionOnDisk,
};
use super::oracle::{OracleServer, ORACLE};
use super::params::{IsolationLevel, TxnStoreParams};
use super::shard::{AbortReason, CommittedWrite, Effect, Mop, PreparedRecord, Shard};
use super::timestamps::{commit_wait, TimestampSource};
use crate::client::{ClientReply, ClientRequest, ClientResponse};
use crate::cluster::{ServerCtx, Service};
use crate::kv::{key_index, render_txn, KvOp, KvResult, TxnMop};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use sim_core::{NodeId, SimDuration, SyncId, TimerId};

/// Commit decisions kept until every shard acknowledges, at most; past
/// it the coordinator takes no new transactions.
pub const DECISIONS_MAX: usize = 100_000;

/// A transaction's stamp is its coordinator's clock (ns) times this, plus
/// the coordinator's number: unique across coordinators, whose clocks
/// may read the same (every clock behind true time reads 0 at the start).
pub const STAMP_SERVERS_MAX: u64 = 1 << 17;

fn txn_key(prefix: &str, txn: TxnId) -> String {
    format!(
        "{prefix}{:020}-{:010}-{:020}",
        txn.stamp, txn.client, txn.seq
    )
}

fn to_bytes<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("TxnStore's records always serialise")
}

/// Storage is written only by this code: corrupt bytes are a bug.
fn from_bytes<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> T {
    serde_json::from_slice(bytes).expect("TxnStore's durable records are well-formed")
}

/// Every record stored under `prefix` ("p/": ends before "p0", the next
/// character after '/').
fn records<T: serde::de::DeserializeOwned>(
    storage: &sim_core::storage::DurableStorage,
    prefix: &str,
) -> Vec<T> {
    debug_assert!(prefix.ends_with('/'));
    let end = format!("{}0", &prefix[..prefix.len() - 1]);
    storage
        .range(prefix, &end)
        .map(|(_, bytes)| from_bytes(bytes))
        .collect()
}

/// What the client asked, to shape the answer.
#[derive(Debug)]
enum Shape {
    Txn { mops: Arc<[TxnMop]>, lists: bool },
    Get,
    Put,
}

/// A transaction this server coordinates, from the client's side.
#[derive(Debug)]
struct Asked {
    client: NodeId,
    request: ClientRequest,
    shape: Shape,
    /// Set once the oracle's start timestamp is in (or at once without one).
    begun: bool,
    deadline: Option<TimerId>,
    /// The greatest least-commit-timestamp among the yes votes so far.
    min_commit_ts: u64,
    commit_ts: u64,
    /// When the request arrived (local clock, ns).
    arrived_ns: u64,
}

/// A transaction this server's shard runs.
#[derive(Debug)]
struct Part {
    coordinator: NodeId,
    /// When it arrived here (local clock, ns).
    arrived_ns: u64,
    /// When its yes vote was on its way (local clock, ns).
    prepared_ns: Option<u64>,
    timer: Option<TimerId>,
}

/// Work that waits for the disk.
#[derive(Debug)]
enum Deferred {
    /// A message to this server itself.
    Local(TxnMessage),
    /// The commit decision of a transaction is on disk.
    Decided(TxnId, u64),
}

#[derive(Debug)]
pub struct TxnServer {
    params: Arc<TxnStoreParams>,
    /// The workload's keys (range sharding divides them).
    keys: u32,
    shard: Shard,
    owners: Owners,
    parts: BTreeMap<TxnId, Part>,
    coordinator: Coordinator,
    asked: BTreeMap<TxnId, Asked>,
    /// Per client operation in progress here: its attempt's id.
    by_op: BTreeMap<(u32, u64), TxnId>,
    /// Commits on disk, waiting for these shards' acknowledgements.
    decisions: BTreeMap<TxnId, (u64, Vec<u32>)>,
    /// Answers held for commit-wait.
    held: BTreeMap<TxnId, (NodeId, ClientResponse)>,
    oracle: Option<OracleServer>,
    local: VecDeque<TxnMessage>,
    after_sync: VecDeque<(SyncId, Deferred)>,
    /// Per client, the last operation this server answered and how: a
    /// duplicate of its request (the network duplicates) gets the same
    /// answer, never a second run; an older one is ignored.
    answered: BTreeMap<u32, (u64, ClientReply)>,
    /// The clock reading of the last stamp given (stamps only grow, even
    /// when the clock steps back).
    last_stamp_ns: u64,
}

impl TxnServer {
    pub fn new(params: Arc<TxnStoreParams>, keys: u32, servers: u32) -> TxnServer {
        assert!(servers > 0, "at least one server");
        assert!(
            u64::from(servers) <= STAMP_SERVERS_MAX,
            "validated: at most {STAMP_SERVERS_MAX} servers"
        );
        TxnServer {
            shard: Shard::with_switches(params.shard_isolation(), params.switches()),
            coordinator: Coordinator::new(params.placement(keys), servers),
            params,
            keys,
            owners: Owners::default(),
            parts: BTreeMap::new(),
            asked: BTreeMap::new(),
            by_op: BTreeMap::new(),
            decisions: BTreeMap::new(),
            held: BTreeMap::new(),
            oracle: None,
            local: VecDeque::new(),
            after_sync: VecDeque::new(),
            last_stamp_ns: 0,
            answered: BTreeMap::new(),
        }
    }

    /// This server's shard, for tests and checks.
    pub fn shard(&self) -> &Shard {
        &self.shard
    }

    fn snapshot_isolation(&self) -> bool {
        self.params.isolation == IsolationLevel::SnapshotIsolation
    }

    fn uses_oracle(&self) -> bool {
        self.snapshot_isolation() && self.params.timestamps == TimestampSource::Oracle
    }

    fn now_ns(ctx: &ServerCtx<'_, '_, Self>) -> u64 {
        ctx.now().as_nanos()
    }

    /// Sends `message` to server `to`; to itself, it queues. `durable`:
    /// only once every write so far is on disk.
    fn deliver(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        to: NodeId,
        message: TxnMessage,
        durable: bool,
    ) {
        if to != ctx.id() {
            if durable {
                ctx.send_when_durable(to, message);
            } else {
                ctx.send(to, message);
            }
            return;
        }
        match ctx.storage().durable_point() {
            Some(sync) if durable => self.after_sync.push_back((sync, Deferred::Local(message))),
            _ => self.local.push_back(message),
        }
    }

    /// Runs the messages this server sent itself, until none is left.
    fn drain_local(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let me = ctx.id();
        let mut handled = 0usize;
        while let Some(message) = self.local.pop_front() {
            self.on_peer(ctx, me, message);
            handled += 1;
            // Each message is a step of some transaction's protocol: a
            // loop without end here would be a bug.
            assert!(
                handled < 10_000_000,
                "a server's messages to itself never end"
            );
        }
    }

    // ----- the oracle (`oracle.rs`) -----

    fn oracle_start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        if self.uses_oracle() && ctx.id() == ORACLE {
            self.oracle = Some(OracleServer::start(ctx.storage()));
        }
    }

    fn oracle_request(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        txn: TxnId,
        purpose: TsPurpose,
    ) {
        let oracle = self.oracle.as_mut().expect("only the oracle is asked");
        let answer = oracle.request(ctx.storage(), from, txn, purpose);
        if let Some((to, answer)) = answer {
            self.deliver(ctx, to, answer, false);
            let oracle = self.oracle.as_mut().expect("only the oracle is asked");
            oracle.reserve(ctx.storage());
        }
    }

    fn oracle_synced(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, id: SyncId) {
        let Some(oracle) = self.oracle.as_mut() else {
            return;
        };
        for (from, txn, purpose) in oracle.synced(id) {
            self.oracle_request(ctx, from, txn, purpose);
        }
    }

    fn ask_timestamp(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, txn: TxnId, purpose: TsPurpose) {
        self.deliver(ctx, ORACLE, TxnMessage::TsRequest { txn, purpose }, false);
    }

    // ----- the coordinator -----

    fn on_request(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        if self.by_op.contains_key(&(request.client, request.seq)) {
            return; // A retry of an attempt still in progress here.
        }
        match self.answered.get(&request.client) {
            Some((seq, reply)) if *seq == request.seq => {
                let response = request.answer(reply.clone());
                ctx.reply(client, response);
                return;
            }
            Some((seq, _)) if *seq > request.seq => return,
            _ => {}
        }
        let shape = match &request.op {
            KvOp::Txn { mops, lists } => Shape::Txn {
                mops: mops.clone(),
                lists: *lists,
            },
            KvOp::Get { .. } => Shape::Get,
            KvOp::Put { .. } => Shape::Put,
            other => unreachable!("scenario validation keeps {other:?} from TxnStore"),
        };
        if self.asked.len() >= super::coordinator::ACTIVE_MAX
            || self.decisions.len() >= DECISIONS_MAX
        {
            ctx.reply(client, request.answer(ClientReply::Unavailable));
            return;
        }
        let ns = Self::now_ns(ctx).max(self.last_stamp_ns + 1);
        self.last_stamp_ns = ns;
        let txn = TxnId {
            stamp: ns.saturating_mul(STAMP_SERVERS_MAX) + u64::from(ctx.id().0),
            client: request.client,
            seq: request.seq,
        };
        let deadline = ctx.set_timer(self.params.request_timeout.0, TxnTimer::Deadline(txn));
        self.by_op.insert((request.client, request.seq), txn);
        self.asked.insert(
            txn,
            Asked {
                client,
                request,
                shape,
                begun: false,
                deadline: Some(deadline),
                min_commit_ts: 0,
                commit_ts: 0,
                arrived_ns: Self::now_ns(ctx),
            },
        );
        if self.uses_oracle() {
            self.ask_timestamp(ctx, txn, TsPurpose::Start);
        } else {
            let start_ts = if self.snapshot_isolation() {
                Self::now_ns(ctx)
            } else {
                0
            };
            self.begin(ctx, txn, start_ts);
        }
    }

    fn begin(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, txn: TxnId, start_ts: u64) {
        let Some(asked) = self.asked.get_mut(&txn).filter(|a| !a.begun) else {
            return; // Timed out while it waited for its timestamp.
        };
        asked.begun = true;
        let steps = match (&asked.shape, &asked.request.op) {
            (Shape::Txn { mops, lists }, _) => self.coordinator.begin(txn, mops, *lists, start_ts),
            (Shape::Get, KvOp::Get { key }) => {
                let mop = Mop::Read(key.clone());
                self.coordinator
                    .begin_single(txn, key_index(key), mop, start_ts)
            }
            (Shape::Put, KvOp::Put { key, value, .. }) => {
                let mop = Mop::Write(key.clone(), value.clone());
                self.coordinator
                    .begin_single(txn, key_index(key), mop, start_ts)
            }
            (shape, op) => unreachable!("{shape:?} made from {op:?}"),
        };
        self.run_steps(ctx, txn, steps);
    }

    fn run_steps(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, txn: TxnId, steps: Vec<Step>) {
        for step in steps {
            match step {
                Step::Send(shard, request) => {
                    let message = match request {
                        Request::Execute {
                            txn,
                            start_ts,
                            mops,
                        } => TxnMessage::Execute {
                            txn,
                            start_ts,
                            mops,
                        },
                        Request::Prepare { txn } => TxnMessage::Prepare { txn },
                        Request::Commit { txn, commit_ts } => TxnMessage::Commit { txn, commit_ts },
                        Request::Abort { txn } => TxnMessage::Abort { txn },
                    };
                    self.deliver(ctx, NodeId(shard), message, false);
                }
                Step::PersistCommit(txn, min_commit_ts) => {
                    if self.uses_oracle() {
                        self.ask_timestamp(ctx, txn, TsPurpose::Commit);
                    } else {
                        let ts = if self.snapshot_isolation() {
                            Self::now_ns(ctx).max(min_commit_ts)
                        } else {
                            min_commit_ts
                        };
                        self.persist_commit(ctx, txn, ts);
                    }
                }
                Step::Reply(replied, result) => {
                    debug_assert_eq!(replied, txn);
                    self.answer(ctx, replied, result);
                }
            }
        }
    }

    /// Puts the commit decision on disk; the shards hear it after.
    fn persist_commit(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, txn: TxnId, ts: u64) {
        let Some(asked) = self.asked.get_mut(&txn) else {
            return;
        };
        let ts = ts.max(asked.min_commit_ts);
        asked.commit_ts = ts;
        let shards = self.coordinator.shards_of(txn);
        debug_assert!(!shards.is_empty(), "a transaction touches a shard");
        let record = DecisionOnDisk {
            txn,
            commit_ts: ts,
            shards: shards.clone(),
        };
        ctx.storage().put(&txn_key("c/", txn), to_bytes(&record));
        let sync = ctx.storage().sync_grouped();
        self.decisions.insert(txn, (ts, shards));
        self.after_sync
            .push_back((sync, Deferred::Decided(txn, ts)));
    }

    fn answer(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        txn: TxnId,
        result: Result<Vec<String>, Abort>,
    ) {
        let Some(mut asked) = self.asked.remove(&txn) else {
            return;
        };
        self.by_op
            .remove(&(asked.request.client, asked.request.seq));
        ctx.cancel_timer_in(&mut asked.deadline);
        let shards = self.decisions.get(&txn).map_or(0, |(_, s)| s.len() as u32);
        // A commit's answer waits out commit-wait, if any: part of its
        // latency.
        let wait = match self.params.timestamps {
            TimestampSource::LocalClocks { .. } if asked.commit_ts > 0 => commit_wait(
                asked.commit_ts,
                Self::now_ns(ctx),
                self.params.commit_wait(),
            ),
            _ => SimDuration::ZERO,
        };
        let latency_ns = Self::now_ns(ctx).saturating_sub(asked.arrived_ns) + wait.as_nanos();
        let reply = match result {
            Ok(reads) => {
                ctx.emit(TxnEvent::Decided {
                    txn,
                    commit: true,
                    why: None,
                    shards,
                    latency_ns,
                });
                ClientReply::Result(match &asked.shape {
                    Shape::Txn { mops, lists } => {
                        KvResult::Txn(render_txn(mops, *lists, Some(&reads)).into())
                    }
                    Shape::Get => KvResult::Value(reads.into_iter().next().unwrap_or_default()),
                    Shape::Put => KvResult::Done,
                })
            }
            Err(Abort::Shard(AbortReason::Duplicate) | Abort::Refused) => ClientReply::Unavailable,
            Err(why) => {
                ctx.emit(TxnEvent::Decided {
                    txn,
                    commit: false,
                    why: Some(self.abort_kind(&why)),
                    shards,
                    latency_ns,
                });
                ClientReply::Result(KvResult::Aborted)
            }
        };
        let response = asked.request.answer(reply);
        if wait > SimDuration::ZERO {
            self.held.insert(txn, (asked.client, response));
            ctx.set_timer(wait, TxnTimer::CommitWaited(txn));
        } else {
            self.send_answer(ctx, txn, asked.client, response);
        }
    }

    fn send_answer(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        txn: TxnId,
        client: NodeId,
        response: ClientResponse,
    ) {
        if matches!(response.reply, ClientReply::Result(_)) {
            let latest = self
                .answered
                .get(&txn.client)
                .is_none_or(|(seq, _)| *seq <= txn.seq);
            if latest {
                self.answered
                    .insert(txn.client, (txn.seq, response.reply.clone()));
            }
        }
        ctx.reply(client, response);
    }

    fn abort_kind(&self, why: &Abort) -> AbortKind {
        match why {
            Abort::Shard(AbortReason::Deadlock | AbortReason::Wounded) => AbortKind::Deadlock,
            Abort::Shard(AbortReason::WriteConflict | AbortReason::SnapshotTooOld) => {
                AbortKind::Conflict
            }
            Abort::Shard(AbortReason::Validation) => AbortKind::Validation,
            Abort::Shard(AbortReason::Limit | AbortReason::Duplicate) | Abort::Refused => {
                AbortKind::Refused
            }
            Abort::VotedNo => match self.params.isolation {
                IsolationLevel::Occ => AbortKind::Validation,
                IsolationLevel::SnapshotIsolation => AbortKind::Conflict,
                // A shard that lost the transaction (a restart, or its
                // wait for the vote ran out) votes no.
                _ => AbortKind::Refused,
            },
            Abort::Timeout => AbortKind::Timeout,
        }
    }

    fn on_decided(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, txn: TxnId, ts: u64) {
        let steps = self.coordinator.persisted(txn, ts);
        self.run_steps(ctx, txn, steps);
    }

    // ----- the shard -----

    fn on_execute(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        txn: TxnId,
        start_ts: u64,
        mops: Vec<Mop>,
    ) {
        let shard = &self.shard;
        if !self.owners.admit(txn, |t| shard.has(t)) {
            self.deliver(ctx, from, TxnMessage::Refused { txn }, false);
            return;
        }
        if !self.parts.contains_key(&txn) {
            let timer = ctx.set_timer(self.params.request_timeout.0, TxnTimer::Unprepared(txn));
            let part = Part {
                coordinator: from,
                arrived_ns: Self::now_ns(ctx),
                prepared_ns: None,
                timer: Some(timer),
            };
            self.parts.insert(txn, part);
        }
        let effects = self.shard.execute(txn, start_ts, mops);
        self.effects(ctx, effects);
    }

    fn on_prepare(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, from: NodeId, txn: TxnId) {
        if !self.shard.has(txn) {
            // Never ran here, aborted here, or lost in a restart; it may
            // not start here after this no.
            self.owners.dropped(txn);
            let vote = TxnMessage::Vote {
                txn,
                yes: false,
                min_commit_ts: 0,
            };
            self.deliver(ctx, from, vote, false);
            return;
        }
        let effects = self.shard.prepare(txn);
        self.effects(ctx, effects);
    }

    fn on_commit(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, from: NodeId, txn: TxnId, ts: u64) {
        if !self.shard.has(txn) {
            // Committed here already (a repeat), since a commit follows
            // this shard's yes, which a restart keeps.
            self.deliver(ctx, from, TxnMessage::CommitAck { txn }, true);
            return;
        }
        let writes: Vec<CommittedWrite> = self.shard.committed_writes(txn, ts);
        let effects = self.shard.commit(txn, ts);
        for write in &writes {
            let version = VersionOnDisk {
                commit_ts: write.commit_ts,
                value: write.value.clone(),
            };
            ctx.storage()
                .put(&format!("v/{}", write.key), to_bytes(&version));
        }
        // The client's latest owner goes to disk, which is this one
        // unless a later operation of the client ran here while this one
        // waited for its decision (the record must never step back).
        self.owners.committed(txn);
        let owner = self.owners.get(txn.client).expect("just recorded");
        ctx.storage()
            .put(&format!("o/{:010}", txn.client), to_bytes(&owner));
        ctx.storage().delete(&txn_key("p/", txn));
        ctx.storage().sync_grouped();
        self.deliver(ctx, from, TxnMessage::CommitAck { txn }, true);
        let versions_kept = self.shard.versions_kept();
        ctx.emit_when_durable(TxnEvent::ShardCommitted { txn, versions_kept });
        self.end_part(ctx, txn);
        self.effects(ctx, effects);
    }

    fn on_abort(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, txn: TxnId) {
        self.owners.dropped(txn);
        if !self.shard.has(txn) {
            self.end_part(ctx, txn);
            return;
        }
        let prepared = self
            .parts
            .get(&txn)
            .is_some_and(|p| p.prepared_ns.is_some());
        let effects = self.shard.abort_decided(txn);
        if prepared {
            // No sync: a record that outlives a crash is asked about
            // again, and its coordinator says abort again.
            ctx.storage().delete(&txn_key("p/", txn));
            ctx.emit(TxnEvent::ShardAbortedPrepared { txn });
        }
        self.end_part(ctx, txn);
        self.effects(ctx, effects);
    }

    /// `txn` has left this shard: its timer goes, and how long it held
    /// its keys prepared is reported.
    fn end_part(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, txn: TxnId) {
        let Some(mut part) = self.parts.remove(&txn) else {
            return;
        };
        ctx.cancel_timer_in(&mut part.timer);
        if let Some(prepared_ns) = part.prepared_ns {
            let held_ns = Self::now_ns(ctx).saturating_sub(prepared_ns);
            ctx.emit(TxnEvent::HeldPrepared { txn, held_ns });
        }
    }

    /// Acts on what the shard said.
    fn effects(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Executed(txn, results) => {
                    let Some(part) = self.parts.get(&txn) else {
                        continue;
                    };
                    let coordinator = part.coordinator;
                    let waited_ns = Self::now_ns(ctx).saturating_sub(part.arrived_ns);
                    if waited_ns > 0 {
                        ctx.emit(TxnEvent::Waited { txn, waited_ns });
                    }
                    self.deliver(
                        ctx,
                        coordinator,
                        TxnMessage::Executed { txn, results },
                        false,
                    );
                }
                Effect::Abort(txn, reason) => {
                    let Some(coordinator) = self.parts.get(&txn).map(|p| p.coordinator) else {
                        continue;
                    };
                    if !self.shard.has(txn) {
                        self.owners.dropped(txn);
                        self.end_part(ctx, txn); // Aborted here already.
                    }
                    self.deliver(ctx, coordinator, TxnMessage::Aborted { txn, reason }, false);
                }
                Effect::Vote(txn, yes) => self.vote(ctx, txn, yes),
            }
        }
    }

    fn vote(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, txn: TxnId, yes: bool) {
        let Some(coordinator) = self.parts.get(&txn).map(|p| p.coordinator) else {
            return;
        };
        if !yes {
            self.end_part(ctx, txn);
            let vote = TxnMessage::Vote {
                txn,
                yes,
                min_commit_ts: 0,
            };
            self.deliver(ctx, coordinator, vote, false);
            return;
        }
        let record = self
            .shard
            .prepared_record(txn)
            .expect("a yes vote leaves a prepared record");
        let on_disk = PreparedOnDisk {
            record,
            coordinator,
        };
        ctx.storage().put(&txn_key("p/", txn), to_bytes(&on_disk));
        ctx.storage().sync_grouped();
        let now = Self::now_ns(ctx);
        let in_doubt = self.params.request_timeout.0;
        let part = self.parts.get_mut(&txn).expect("voting");
        part.prepared_ns = Some(now);
        ctx.cancel_timer_in(&mut part.timer);
        part.timer = Some(ctx.set_timer(in_doubt, TxnTimer::InDoubt(txn)));
        let vote = TxnMessage::Vote {
            txn,
            yes,
            min_commit_ts: self.shard.min_commit_ts(txn),
        };
        self.deliver(ctx, coordinator, vote, true);
    }

    fn on_peer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, from: NodeId, message: TxnMessage) {
        let shard = from.0;
        match message {
            TxnMessage::Execute {
                txn,
                start_ts,
                mops,
            } => self.on_execute(ctx, from, txn, start_ts, mops),
            TxnMessage::Prepare { txn } => self.on_prepare(ctx, from, txn),
            TxnMessage::Commit { txn, commit_ts } => self.on_commit(ctx, from, txn, commit_ts),
            TxnMessage::Abort { txn } => self.on_abort(ctx, txn),
            TxnMessage::Executed { txn, results } => {
                let steps = self.coordinator.executed(shard, txn, results);
                self.run_steps(ctx, txn, steps);
            }
            TxnMessage::Aborted { txn, reason } => {
                let steps = self.coordinator.aborted(txn, reason);
                self.run_steps(ctx, txn, steps);
            }
            TxnMessage::Refused { txn } => {
                let steps = self.coordinator.aborted(txn, AbortReason::Duplicate);
                self.run_steps(ctx, txn, steps);
            }
            TxnMessage::Vote {
                txn,
                yes,
                min_commit_ts,
            } => {
                let Some(asked) = self.asked.get_mut(&txn) else {
                    return;
                };
                asked.min_commit_ts = asked.min_commit_ts.max(min_commit_ts);
                let least = asked.min_commit_ts;
                let steps = self.coordinator.voted(shard, txn, yes, least);
                self.run_steps(ctx, txn, steps);
            }
            TxnMessage::CommitAck { txn } => {
                let Some((_, shards)) = self.decisions.get_mut(&txn) else {
                    return;
                };
                shards.retain(|s| *s != shard);
                if shards.is_empty() {
                    self.decisions.remove(&txn);
                    ctx.storage().delete(&txn_key("c/", txn));
                }
            }
            TxnMessage::Query { txn } => {
                if let Some((commit_ts, _)) = self.decisions.get(&txn) {
                    let commit = TxnMessage::Commit {
                        txn,
                        commit_ts: *commit_ts,
                    };
                    self.deliver(ctx, from, commit, false);
                } else if !self.coordinator.is_active(txn) {
                    // No decision on disk and not deciding: aborted, or
                    // never decided before a restart (presumed abort).
                    self.deliver(ctx, from, TxnMessage::Abort { txn }, false);
                }
            }
            TxnMessage::TsRequest { txn, purpose } => self.oracle_request(ctx, from, txn, purpose),
            TxnMessage::Ts { txn, purpose, ts } => match purpose {
                TsPurpose::Start => self.begin(ctx, txn, ts),
                TsPurpose::Commit => self.persist_commit(ctx, txn, ts),
            },
        }
    }

    /// Rebuilds the shard, the owners and the decisions from disk.
    fn recover_from_disk(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let committed: Vec<CommittedWrite> = ctx
            .storage()
            .range("v/", "v0")
            .map(|(key, bytes)| {
                let version: VersionOnDisk = from_bytes(bytes);
                CommittedWrite {
                    key: key["v/".len()..].to_string(),
                    commit_ts: version.commit_ts,
                    value: version.value,
                }
            })
            .collect();
        let prepared: Vec<PreparedOnDisk> = records(ctx.storage(), "p/");
        let owners: Vec<Owner> = records(ctx.storage(), "o/");
        let decisions: Vec<DecisionOnDisk> = records(ctx.storage(), "c/");
        let records: Vec<PreparedRecord> = prepared.iter().map(|p| p.record.clone()).collect();
        self.shard = Shard::restore(
            self.params.shard_isolation(),
            self.params.switches(),
            &committed,
            &records,
        );
        if let TimestampSource::LocalClocks { .. } = self.params.timestamps {
            // Reads this shard served before the crash are forgotten; a
            // commit must still land above every one of them.
            let floor = Self::now_ns(ctx) + self.params.commit_wait().as_nanos();
            self.shard.set_read_floor(floor);
        }
        for owner in owners {
            self.owners.restore(owner);
        }
        let now = Self::now_ns(ctx);
        let in_doubt = self.params.request_timeout.0;
        for p in prepared {
            let txn = p.record.txn;
            self.owners.restore(Owner {
                txn,
                committed: false,
            });
            let timer = ctx.set_timer(in_doubt, TxnTimer::InDoubt(txn));
            let part = Part {
                coordinator: p.coordinator,
                arrived_ns: now,
                prepared_ns: Some(now),
                timer: Some(timer),
            };
            self.parts.insert(txn, part);
        }
        for d in decisions {
            for shard in &d.shards {
                let commit = TxnMessage::Commit {
                    txn: d.txn,
                    commit_ts: d.commit_ts,
                };
                self.deliver(ctx, NodeId(*shard), commit, false);
            }
            self.decisions.insert(d.txn, (d.commit_ts, d.shards));
        }
    }
}

impl Service for TxnServer {
    type Message = TxnMessage;
    type Timer = TxnTimer;
    type Event = TxnEvent;
    type Monitor = super::monitor::TxnMonitor;

    const MESSAGE_KINDS: &'static [&'static str] = TxnMessage::KINDS;

    fn message_kind(message: &TxnMessage) -> usize {
        message.kind()
    }

    fn message_heap_bytes(message: &TxnMessage) -> usize {
        message.heap_bytes()
    }

    fn state_heap_bytes(&self) -> usize {
        // An estimate, O(1): per transaction tracked, per version kept
        // and per owner, a few hundred bytes each.
        (self.shard.txns() + self.parts.len() + self.asked.len() + self.decisions.len()) * 256
            + self.shard.versions_kept() * 96
            + self.shard.read_ts_keys() * 64
            + self.owners.len() * 64
            + self.held.len() * 128
    }

    fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let keys = self.keys;
        *self = TxnServer::new(self.params.clone(), keys, ctx.server_count());
        self.recover_from_disk(ctx);
        self.oracle_start(ctx);
        self.drain_local(ctx);
    }

    fn on_message(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, from: NodeId, message: TxnMessage) {
        self.on_peer(ctx, from, message);
        self.drain_local(ctx);
    }

    fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, _id: TimerId, timer: TxnTimer) {
        match timer {
            TxnTimer::Deadline(txn) => {
                if let Some(asked) = self.asked.get_mut(&txn) {
                    asked.deadline = None;
                }
                let mut steps = self.coordinator.timed_out(txn);
                match self.asked.get(&txn) {
                    Some(asked) if steps.is_empty() && !asked.begun => {
                        // Still waiting for its start timestamp.
                        self.answer(ctx, txn, Err(Abort::Timeout));
                    }
                    Some(asked) if steps.is_empty() && asked.commit_ts == 0 => {
                        // Its commit waits for a timestamp that has not
                        // come; the decision is not on disk, so it aborts.
                        steps = self.coordinator.timed_out_undecided(txn);
                    }
                    _ => {}
                }
                self.run_steps(ctx, txn, steps);
            }
            TxnTimer::CommitWaited(txn) => {
                if let Some((client, response)) = self.held.remove(&txn) {
                    self.send_answer(ctx, txn, client, response);
                }
            }
            TxnTimer::Unprepared(txn) => {
                let unprepared = self
                    .parts
                    .get(&txn)
                    .is_some_and(|p| p.prepared_ns.is_none());
                if unprepared {
                    if let Some(part) = self.parts.get_mut(&txn) {
                        part.timer = None;
                    }
                    self.owners.dropped(txn);
                    let effects = self.shard.abort_decided(txn);
                    self.end_part(ctx, txn);
                    self.effects(ctx, effects);
                }
            }
            TxnTimer::InDoubt(txn) => {
                let Some(part) = self.parts.get_mut(&txn) else {
                    return;
                };
                let coordinator = part.coordinator;
                part.timer =
                    Some(ctx.set_timer(self.params.request_timeout.0, TxnTimer::InDoubt(txn)));
                self.deliver(ctx, coordinator, TxnMessage::Query { txn }, false);
            }
        }
        self.drain_local(ctx);
    }

    fn on_synced(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, id: SyncId) {
        self.oracle_synced(ctx, id);
        while self.after_sync.front().is_some_and(|(sync, _)| *sync <= id) {
            let (_, deferred) = self.after_sync.pop_front().expect("non-empty");
            match deferred {
                Deferred::Local(message) => self.local.push_back(message),
                Deferred::Decided(txn, ts) => self.on_decided(ctx, txn, ts),
            }
        }
        self.drain_local(ctx);
    }

    fn on_client_request(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        self.on_request(ctx, client, request);
        self.drain_local(ctx);
    }
}
