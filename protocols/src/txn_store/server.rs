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
//!
//! With `replicas` above 1 each shard is a Raft group (`group.rs`,
//! `replicated.rs`): the shard's records go to the group's log instead
//! of the server's disk, and a replica serves its shard only while it
//! leads with every earlier entry applied. A yes vote goes once the
//! prepared record is applied (so a majority holds it), a commit's
//! acknowledgement once its record is; a new leader rebuilds its shard
//! from the log's picture, prepared transactions holding their locks
//! again and asking their coordinators. A replica that does not lead
//! passes a coordinator's message to the leader it knows of. A
//! coordinator's commit decision goes to its own group's log instead of
//! its disk (`replicated.rs`), and a shard in doubt asks that group, not
//! the coordinator: a coordinator's crash no longer blocks.

use super::coordinator::{Abort, Coordinator, Request, Step};
use super::dedup::{Owner, Owners};
use super::group::{Applied, GroupEnv, Layout};
use super::locks::TxnId;
use super::messages::{AbortKind, TsPurpose, TxnEvent, TxnMessage, TxnTimer};
use super::oracle::{OracleServer, ORACLE};
use super::params::{IsolationLevel, TxnStoreParams};
use super::records::{DecisionOnDisk, PreparedOnDisk, VersionOnDisk};
use super::replicated::{ShardApp, ShardApplied, ShardCommand, ShardImage, ShardWaiter};
use super::shard::{AbortReason, CommittedWrite, Effect, Mop, PreparedRecord, Shard};
use super::timestamps::{commit_wait, TimestampSource};
use crate::client::{ClientReply, ClientRequest, ClientResponse};
use crate::cluster::{ServerCtx, Service};
use crate::kv::{key_index, render_txn, KvOp, KvResult, TxnMop};
use crate::raft::Raft;
use crate::two_phase::{self, Acks};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
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

/// A replica's part in its shard's Raft group.
#[derive(Debug)]
struct Group {
    raft: Raft<ShardApp>,
    /// What the last Raft call applied, for the server to act on.
    applied: Applied,
    /// The term in which this replica leads and serves its shard (rebuilt
    /// from the log once every earlier entry was applied), if it does.
    serving: Option<u64>,
    /// Commits proposed here and not yet applied: their acknowledgement
    /// waits for the log, and a repeat of their decision for it too.
    committing: BTreeSet<TxnId>,
}

#[derive(Debug)]
pub struct TxnServer {
    params: Arc<TxnStoreParams>,
    /// The workload's keys (range sharding divides them).
    keys: u32,
    layout: Layout,
    /// With `replicas` above 1: this server's replica of its shard.
    group: Option<Box<Group>>,
    /// Per shard, the server this coordinator believes leads it, when
    /// (local clock, ns) it last heard from that shard, and the newest
    /// term a leader announced itself in (`Leads`).
    leaders: Vec<(NodeId, u64, u64)>,
    shard: Shard,
    owners: Owners,
    parts: BTreeMap<TxnId, Part>,
    coordinator: Coordinator,
    asked: BTreeMap<TxnId, Asked>,
    /// Per client operation in progress here: its attempt's id.
    by_op: BTreeMap<(u32, u64), TxnId>,
    /// Commits on disk, waiting for these shards' acknowledgements.
    decisions: BTreeMap<TxnId, (u64, Acks<u32>)>,
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
        let layout = Layout::new(servers, params.replicas);
        let group = layout.replicated().then(|| {
            Box::new(Group {
                raft: Raft::with_state(Arc::new(params.raft.clone()), ShardImage::default()),
                applied: Applied::default(),
                serving: None,
                committing: BTreeSet::new(),
            })
        });
        TxnServer {
            shard: Shard::with_switches(params.shard_isolation(), params.switches()),
            coordinator: Coordinator::new(params.placement(keys), layout.shards),
            leaders: (0..layout.shards)
                .map(|s| (layout.server(s, NodeId(0)), 0, 0))
                .collect(),
            layout,
            group,
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

    /// A (re)start: everything volatile fresh, the rest from disk; a
    /// group's replica starts (or recovers) its Raft module.
    fn start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, recovering: bool) {
        let keys = self.keys;
        *self = TxnServer::new(self.params.clone(), keys, ctx.server_count());
        if ctx.is_agent() {
            // A client's coordinator: no shard, so no replica of one.
            self.group = None;
        }
        self.recover_from_disk(ctx);
        if self.group.is_some() {
            self.with_group(ctx, |raft, env| {
                if recovering {
                    raft.on_recover(env);
                } else {
                    raft.on_start(env);
                }
            });
        }
        self.oracle_start(ctx);
        self.drain_local(ctx);
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
                    let leader = self.leaders[shard as usize].0;
                    self.deliver(ctx, leader, message, false);
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
        if self.layout.replicated() {
            // The decision goes to this server's group's log: a crash of
            // this server then leaves it to the group.
            self.decisions.insert(txn, (ts, Acks::new(shards)));
            self.ask_to_decide(ctx, txn, ts);
            return;
        }
        let record = DecisionOnDisk {
            txn,
            commit_ts: ts,
            shards: shards.clone(),
        };
        ctx.storage().put(&txn_key("c/", txn), to_bytes(&record));
        let sync = ctx.storage().sync_grouped();
        self.decisions.insert(txn, (ts, Acks::new(shards)));
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
        let shards = (self.decisions.get(&txn)).map_or(0, |(_, s)| s.participants().len() as u32);
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

    /// `txn` ran out of time: a shard of it not heard from since it began
    /// may have lost its leader, so the next message to it goes to the
    /// group's next replica (which passes it on to the leader it knows).
    fn suspect_leaders(&mut self, txn: TxnId) {
        if !self.layout.replicated() {
            return;
        }
        let Some(began_ns) = self.asked.get(&txn).map(|a| a.arrived_ns) else {
            return;
        };
        for shard in self.coordinator.shards_of(txn) {
            let (leader, heard_ns, term) = self.leaders[shard as usize];
            if heard_ns < began_ns {
                let next = NodeId((self.layout.member_of(leader).0 + 1) % self.layout.replicas);
                self.leaders[shard as usize] = (self.layout.server(shard, next), heard_ns, term);
            }
        }
    }

    /// With groups: asks this server's group's leader to log the commit
    /// decision of `txn`, and again each `request_timeout` until it hears
    /// the decision that stands.
    fn ask_to_decide(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, txn: TxnId, commit_ts: u64) {
        debug_assert!(self.layout.replicated());
        let group = self.layout.decisions_group(ctx.id());
        let leader = self.leaders[group as usize].0;
        self.deliver(ctx, leader, TxnMessage::Decide { txn, commit_ts }, false);
        ctx.set_timer(self.params.request_timeout.0, TxnTimer::DecideAgain(txn));
    }

    /// With groups: the decision that stands for `txn`, from this
    /// server's group: a commit goes out as on disk; an abort (a shard in
    /// doubt had it logged first) aborts it everywhere.
    fn on_decision_is(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        txn: TxnId,
        commit_ts: Option<u64>,
    ) {
        if !self.decisions.contains_key(&txn) || !self.coordinator.is_active(txn) {
            return; // A repeat, or decided before a restart.
        }
        match commit_ts {
            Some(ts) => self.on_decided(ctx, txn, ts),
            None => {
                self.decisions.remove(&txn);
                let steps = self.coordinator.timed_out_undecided(txn);
                self.run_steps(ctx, txn, steps);
            }
        }
    }

    // ----- a group's decisions (with groups, at its serving leader) -----

    /// Someone asks for the decision of `txn`, a transaction of this
    /// group's coordinators: a coordinator with its commit (`proposal`
    /// `Some`, waiter `Decision`), or a shard in doubt (`None`: an abort
    /// logged first, waiter `Answer`). The decision logged answers at
    /// once; else `proposal` is logged, and the decision that stands
    /// answers once applied (`on_applied`). Refused (the log is full),
    /// the asker asks again.
    fn on_decision_asked(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        txn: TxnId,
        proposal: Option<u64>,
        waiter: ShardWaiter,
    ) {
        debug_assert!(matches!(
            (proposal, waiter),
            (Some(_), ShardWaiter::Decision { .. }) | (None, ShardWaiter::Answer { .. })
        ));
        let group = self.group.as_ref().expect("a group's replica");
        if let Some(stands) = group.raft.state().decisions.get(&txn).copied() {
            self.answer_decision(ctx, waiter, txn, stands);
            return;
        }
        let command = ShardCommand::Decide {
            txn,
            commit_ts: proposal,
        };
        let _ = self.propose(ctx, command, waiter);
    }

    /// Tells whoever `waiter` is the decision that stands: a coordinator
    /// hears it as such, a shard in doubt as the commit or abort it acts on.
    fn answer_decision(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        waiter: ShardWaiter,
        txn: TxnId,
        stands: Option<u64>,
    ) {
        let (to, message) = match (waiter, stands) {
            (ShardWaiter::Decision { coordinator }, _) => (
                coordinator,
                TxnMessage::DecisionIs {
                    txn,
                    commit_ts: stands,
                },
            ),
            (ShardWaiter::Answer { shard_server }, Some(commit_ts)) => {
                (shard_server, TxnMessage::Commit { txn, commit_ts })
            }
            (ShardWaiter::Answer { shard_server }, None) => {
                (shard_server, TxnMessage::Abort { txn })
            }
            (other, _) => unreachable!("{other:?} asks for no decision"),
        };
        self.deliver(ctx, NodeId(to), message, false);
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
            // this shard's yes, which a restart (or a new leader) keeps;
            // in a group, once its record is applied.
            if let Some(group) = self.group.as_ref() {
                if !group.committing.contains(&txn) {
                    self.deliver(ctx, from, TxnMessage::CommitAck { txn }, false);
                }
                return;
            }
            self.deliver(ctx, from, TxnMessage::CommitAck { txn }, true);
            return;
        }
        let writes: Vec<CommittedWrite> = self.shard.committed_writes(txn, ts);
        if self.group.is_some() {
            let owner = Owner {
                txn,
                committed: true,
            };
            let command = ShardCommand::Commit { txn, writes, owner };
            // The decision may come from the coordinator's group (this
            // shard asked it): the acknowledgement goes to the coordinator,
            // which waits for every shard's before it forgets.
            let coordinator = self.parts.get(&txn).map_or(from, |p| p.coordinator);
            let waiter = ShardWaiter::Ack {
                coordinator: coordinator.0,
            };
            if !self.propose(ctx, command, waiter) {
                // The log is full for now: the transaction stays prepared
                // here, and its in-doubt query brings the decision again.
                return;
            }
            if let Some(group) = self.group.as_mut() {
                group.committing.insert(txn);
            }
            let effects = self.shard.commit(txn, ts);
            self.owners.committed(txn);
            self.end_part(ctx, txn);
            self.effects(ctx, effects);
            return;
        }
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
        if prepared && self.group.is_some() {
            // Its prepared record may be in the log (or on its way): its
            // drop follows it there. Refused (the log is full), a new
            // leader finds it prepared and asks again.
            let _ = self.propose(ctx, ShardCommand::Abort { txn }, ShardWaiter::Dropped);
        } else if prepared {
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

    /// `txn` voted yes here: from now it waits for its decision, and asks
    /// about it after `request_timeout` (its unprepared timer goes).
    fn bind_to_decision(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, txn: TxnId) {
        let now = Self::now_ns(ctx);
        let in_doubt = self.params.request_timeout.0;
        let part = self.parts.get_mut(&txn).expect("voting");
        part.prepared_ns = Some(now);
        ctx.cancel_timer_in(&mut part.timer);
        part.timer = Some(ctx.set_timer(in_doubt, TxnTimer::InDoubt(txn)));
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
        if self.group.is_some() {
            let waiter = ShardWaiter::Vote {
                coordinator: coordinator.0,
                min_commit_ts: self.shard.min_commit_ts(txn),
            };
            if !self.propose(ctx, ShardCommand::Prepare(on_disk), waiter) {
                // The log is full for now: no promise was made, so no.
                self.owners.dropped(txn);
                let effects = self.shard.abort_decided(txn);
                self.vote(ctx, txn, false);
                self.effects(ctx, effects);
                return;
            }
            // The vote goes once the record is applied (`on_applied`).
            self.bind_to_decision(ctx, txn);
            return;
        }
        ctx.storage().put(&txn_key("p/", txn), to_bytes(&on_disk));
        ctx.storage().sync_grouped();
        self.bind_to_decision(ctx, txn);
        let vote = TxnMessage::Vote {
            txn,
            yes,
            min_commit_ts: self.shard.min_commit_ts(txn),
        };
        self.deliver(ctx, coordinator, vote, true);
    }

    fn on_peer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, from: NodeId, message: TxnMessage) {
        // A client coordinator (`coordinator: Client`) holds no shard: it
        // sends only a coordinator's messages, which name none.
        let shard = if from.0 < ctx.server_count() {
            self.layout.shard_of(from)
        } else {
            u32::MAX
        };
        if message.for_serving_leader(self.layout.replicated()) && !self.serving() {
            self.forward(ctx, from, 0, message);
            return;
        }
        if message.from_serving_leader() {
            let hint = &mut self.leaders[shard as usize];
            *hint = (from, Self::now_ns(ctx), hint.2);
        }
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
                let Some((_, acks)) = self.decisions.get_mut(&txn) else {
                    return;
                };
                if acks.ack(shard) {
                    self.decisions.remove(&txn);
                    if self.layout.replicated() {
                        let group = self.layout.decisions_group(ctx.id());
                        let leader = self.leaders[group as usize].0;
                        self.deliver(ctx, leader, TxnMessage::Forget { txn }, false);
                    } else {
                        ctx.storage().delete(&txn_key("c/", txn));
                    }
                }
            }
            TxnMessage::Query { txn } if self.layout.replicated() => {
                let waiter = ShardWaiter::Answer {
                    shard_server: from.0,
                };
                self.on_decision_asked(ctx, txn, None, waiter);
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
            TxnMessage::Forwarded {
                coordinator,
                hops,
                message,
            } => {
                if self.serving() {
                    self.on_peer(ctx, coordinator, *message);
                } else {
                    self.forward(ctx, coordinator, hops, *message);
                }
            }
            TxnMessage::Decide { txn, commit_ts } => {
                let waiter = ShardWaiter::Decision {
                    coordinator: from.0,
                };
                self.on_decision_asked(ctx, txn, Some(commit_ts), waiter);
            }
            TxnMessage::DecisionIs { txn, commit_ts } => {
                self.on_decision_is(ctx, txn, commit_ts);
            }
            TxnMessage::Forget { txn } => {
                let _ = self.propose(ctx, ShardCommand::Forget { txn }, ShardWaiter::Nobody);
            }
            TxnMessage::Leads { term } => {
                let hint = &mut self.leaders[shard as usize];
                if term >= hint.2 {
                    *hint = (from, Self::now_ns(ctx), term);
                }
            }
            TxnMessage::Raft(message) => {
                if self.layout.shard_of(from) != self.layout.shard_of(ctx.id()) {
                    unreachable!("{from} is not of {}'s group", ctx.id());
                }
                let member = self.layout.member_of(from);
                self.with_group(ctx, |raft, env| raft.on_message(env, member, message));
            }
        }
    }

    /// The shard from its durable records (the disk's after a restart,
    /// the log's picture at a takeover): committed versions, and prepared
    /// transactions holding their keys again, each asking its coordinator
    /// after `request_timeout`.
    fn rebuild_shard(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        committed: &[CommittedWrite],
        prepared: Vec<PreparedOnDisk>,
        owners: Vec<Owner>,
    ) {
        debug_assert!(self.parts.is_empty(), "a shard is rebuilt from nothing");
        let records: Vec<PreparedRecord> = prepared.iter().map(|p| p.record.clone()).collect();
        self.shard = Shard::restore(
            self.params.shard_isolation(),
            self.params.switches(),
            committed,
            &records,
        );
        if let TimestampSource::LocalClocks { .. } = self.params.timestamps {
            // Reads this shard served before the crash (or under the last
            // leader) are forgotten; a commit must still land above every
            // one of them.
            let floor = Self::now_ns(ctx) + self.params.commit_wait().as_nanos();
            self.shard.set_read_floor(floor);
        }
        self.owners = Owners::default();
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
        debug_assert_eq!(self.parts.len(), self.shard.txns());
    }

    // ----- the shard's Raft group (`replicas` above 1) -----

    /// Whether this server serves its shard now: always with one replica;
    /// in a group, while it leads with its shard rebuilt.
    fn serving(&self) -> bool {
        self.group.as_ref().is_none_or(|g| g.serving.is_some())
    }

    /// A coordinator's `message` reached a replica that does not serve:
    /// on to the leader it knows of, at most once per replica; else it is
    /// dropped, and the coordinator's deadline (or the shard's query)
    /// covers it.
    fn forward(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        coordinator: NodeId,
        hops: u8,
        message: TxnMessage,
    ) {
        let Some(group) = self.group.as_ref() else {
            unreachable!("a one-server shard always serves");
        };
        let me = self.layout.member_of(ctx.id());
        let shard = self.layout.shard_of(ctx.id());
        let Some(leader) = group.raft.leader().filter(|l| *l != me) else {
            return;
        };
        if u32::from(hops) + 1 >= self.layout.replicas {
            return;
        }
        let forwarded = TxnMessage::Forwarded {
            coordinator,
            hops: hops + 1,
            message: Box::new(message),
        };
        ctx.send(self.layout.server(shard, leader), forwarded);
    }

    /// The serving leader proposes a record of its shard; false when the
    /// log refused it before appending anything.
    fn propose(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        command: ShardCommand,
        waiter: ShardWaiter,
    ) -> bool {
        debug_assert!(self.serving(), "only a serving leader proposes");
        let mut appended = false;
        self.with_group(ctx, |raft, env| {
            appended = raft.propose_command(env, command, waiter).is_some();
        });
        appended
    }

    /// Runs `f` on this replica's Raft module, then acts on what it
    /// applied and on a change of leadership.
    fn with_group(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        f: impl FnOnce(&mut Raft<ShardApp>, &mut GroupEnv<'_, '_, '_, Self>),
    ) {
        let layout = self.layout;
        let shard = layout.shard_of(ctx.id());
        let Some(group) = self.group.as_mut() else {
            unreachable!("only a group's replica runs Raft");
        };
        {
            let mut env = GroupEnv {
                ctx,
                layout,
                shard,
                applied: &mut group.applied,
            };
            f(&mut group.raft, &mut env);
        }
        let outputs = std::mem::take(&mut group.applied.outputs);
        for (output, waiter) in outputs {
            self.on_applied(ctx, output, waiter);
        }
        let group = self.group.as_mut().expect("a group's replica");
        let leading = group.raft.leader_term();
        if group.serving.is_some() && group.serving != leading {
            self.step_down(ctx);
        }
        let group = self.group.as_mut().expect("a group's replica");
        if let Some(term) = leading.filter(|t| group.serving.is_none() && group.applied.term >= *t)
        {
            self.take_over(ctx, term);
        }
    }

    /// A record this leader proposed is applied: a majority holds it.
    fn on_applied(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        output: ShardApplied,
        waiter: ShardWaiter,
    ) {
        match (output, waiter) {
            (
                ShardApplied::Prepared(txn),
                ShardWaiter::Vote {
                    coordinator,
                    min_commit_ts,
                },
            ) => {
                let vote = TxnMessage::Vote {
                    txn,
                    yes: true,
                    min_commit_ts,
                };
                self.deliver(ctx, NodeId(coordinator), vote, false);
            }
            (ShardApplied::Committed(txn), ShardWaiter::Ack { coordinator }) => {
                if let Some(group) = self.group.as_mut() {
                    group.committing.remove(&txn);
                }
                self.deliver(
                    ctx,
                    NodeId(coordinator),
                    TxnMessage::CommitAck { txn },
                    false,
                );
                let versions_kept = self.shard.versions_kept();
                ctx.emit(TxnEvent::ShardCommitted { txn, versions_kept });
            }
            (
                ShardApplied::Aborted {
                    txn,
                    prepared: true,
                },
                ShardWaiter::Dropped,
            ) => ctx.emit(TxnEvent::ShardAbortedPrepared { txn }),
            (ShardApplied::Aborted { .. }, ShardWaiter::Dropped) => {}
            (
                ShardApplied::Decided { txn, commit_ts },
                waiter @ (ShardWaiter::Decision { .. } | ShardWaiter::Answer { .. }),
            ) => self.answer_decision(ctx, waiter, txn, commit_ts),
            (ShardApplied::Forgotten, ShardWaiter::Nobody) => {}
            (output, waiter) => unreachable!("{waiter:?} waits for no {output:?}"),
        }
    }

    /// This replica leads `term` and has applied every earlier entry: it
    /// rebuilds its shard from the log's picture and serves.
    fn take_over(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, term: u64) {
        let group = self.group.as_mut().expect("a group's replica");
        let image = group.raft.state();
        let committed = image.committed();
        let prepared: Vec<PreparedOnDisk> = image.prepared.values().cloned().collect();
        let owners: Vec<Owner> = image.owners.values().copied().collect();
        group.serving = Some(term);
        group.committing.clear();
        let count = prepared.len() as u32;
        self.rebuild_shard(ctx, &committed, prepared, owners);
        let shard = self.layout.shard_of(ctx.id());
        ctx.emit(TxnEvent::TookOver {
            shard,
            prepared: count,
        });
        // Every server (or every client, with `coordinator: Client`)
        // coordinates: each hears that this one leads now, rather than
        // finding out when its transactions time out (as CockroachDB's
        // nodes learn a range's new lease holder).
        let coordinators: Vec<NodeId> = (0..ctx.server_count())
            .map(NodeId)
            .chain(ctx.agents())
            .collect();
        for node in coordinators {
            if node == ctx.id() {
                self.leaders[shard as usize] = (node, Self::now_ns(ctx), term);
            } else {
                ctx.send(node, TxnMessage::Leads { term });
            }
        }
        debug_assert!(self.serving());
    }

    /// This replica no longer leads: its shard's memory (locks, running
    /// transactions) goes, as at a crash; the log keeps what was promised.
    fn step_down(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        for (_, mut part) in std::mem::take(&mut self.parts) {
            ctx.cancel_timer_in(&mut part.timer);
        }
        self.shard = Shard::with_switches(self.params.shard_isolation(), self.params.switches());
        self.owners = Owners::default();
        let group = self.group.as_mut().expect("a group's replica");
        group.serving = None;
        group.committing.clear();
        debug_assert!(!self.serving() && self.parts.is_empty());
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
        self.rebuild_shard(ctx, &committed, prepared, owners);
        for d in decisions {
            for shard in &d.shards {
                let commit = TxnMessage::Commit {
                    txn: d.txn,
                    commit_ts: d.commit_ts,
                };
                let leader = self.leaders[*shard as usize].0;
                self.deliver(ctx, leader, commit, false);
            }
            self.decisions
                .insert(d.txn, (d.commit_ts, Acks::new(d.shards)));
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
        self.group.as_ref().map_or(0, |g| g.raft.heap_bytes())
            + (self.shard.txns() + self.parts.len() + self.asked.len() + self.decisions.len()) * 256
            + self.shard.versions_kept() * 96
            + self.shard.read_ts_keys() * 64
            + self.owners.len() * 64
            + self.held.len() * 128
    }

    fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.start(ctx, false);
    }

    fn on_recover(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.start(ctx, true);
    }

    fn on_message(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, from: NodeId, message: TxnMessage) {
        self.on_peer(ctx, from, message);
        self.drain_local(ctx);
    }

    fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, id: TimerId, timer: TxnTimer) {
        match timer {
            TxnTimer::Deadline(txn) => {
                if let Some(asked) = self.asked.get_mut(&txn) {
                    asked.deadline = None;
                }
                self.suspect_leaders(txn);
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
            TxnTimer::DecideAgain(txn) => {
                let waiting = self.decisions.get(&txn).map(|(ts, _)| *ts);
                if let Some(ts) = waiting.filter(|_| self.coordinator.is_active(txn)) {
                    self.ask_to_decide(ctx, txn, ts);
                }
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
            TxnTimer::Raft(timer) => {
                self.with_group(ctx, |raft, env| raft.on_timer(env, id, timer));
            }
            TxnTimer::InDoubt(txn)
                if two_phase::InDoubt::on_timeout(self.params.commit_on_timeout)
                    == two_phase::InDoubt::CommitAlone =>
            {
                // The bug: a shard bound to its yes vote decides alone.
                let Some(coordinator) = self.parts.get(&txn).map(|p| p.coordinator) else {
                    return;
                };
                let ts = self.shard.min_commit_ts(txn);
                self.on_commit(ctx, coordinator, txn, ts);
            }
            TxnTimer::InDoubt(txn) => {
                let Some(part) = self.parts.get_mut(&txn) else {
                    return;
                };
                let coordinator = part.coordinator;
                part.timer =
                    Some(ctx.set_timer(self.params.request_timeout.0, TxnTimer::InDoubt(txn)));
                // With groups, the coordinator's group holds its decision.
                let asked = if self.layout.replicated() {
                    self.leaders[self.layout.decisions_group(coordinator) as usize].0
                } else {
                    coordinator
                };
                self.deliver(ctx, asked, TxnMessage::Query { txn }, false);
            }
        }
        self.drain_local(ctx);
    }

    fn on_synced(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, id: SyncId) {
        if self.group.is_some() {
            self.with_group(ctx, |raft, env| raft.on_synced(env, id));
        }
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
