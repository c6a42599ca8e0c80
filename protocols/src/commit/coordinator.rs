//! The transaction coordinator: turns a client's transfer into a
//! transaction, collects votes, decides, and makes sure every participant
//! hears the decision. Its decision log is the source of truth: a
//! decision is synced before anyone hears it.
//!
//! Presumed abort: a transaction with no decision record was never
//! committed, so a restarted 2PC coordinator aborts it, and a question
//! about a transaction it has no record of is answered "aborted".

use super::messages::{
    CommitEvent, CommitMessage, CommitTimer, CoordinatorRecord, Delta, TxnId, TxnState,
};
use super::params::{CommitParams, CommitVariant};
use super::{send, send_now, sync, AtomicCommit};
use crate::client::{ClientReply, ClientRequest};
use crate::cluster::ServerCtx;
use crate::durable_log::DurableLog;
use crate::kv::key_index as account_index;
use crate::kv::{KvOp, KvResult};
use crate::request_tags::{RequestTags, Tagged};
use crate::two_phase::{Acks, Tally, Votes};
use sim_core::{NodeId, TimerId};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Transactions in progress at most; a request beyond it is refused
/// (`Unavailable`), so a stuck coordinator cannot grow without bound.
pub const ACTIVE_TXNS_MAX: usize = 10_000;

const LOG_PREFIX: &str = "commit/coordinator/";

type Ctx<'c, 'a, 'b> = &'c mut ServerCtx<'a, 'b, AtomicCommit>;

#[derive(Debug)]
enum Phase {
    Collecting {
        votes: Votes<NodeId>,
    },
    /// 3PC. `strict`: resumed after a restart, when participants may have
    /// terminated without us; then only acks from all of them let it commit.
    PreCommitting {
        acks: Acks<NodeId>,
        strict: bool,
    },
    /// 3PC, restarted in the pre-commit phase: asking every participant
    /// what it knows before deciding anything.
    Polling {
        replies: BTreeMap<NodeId, TxnState>,
    },
    Decided {
        commit: bool,
        acks: Acks<NodeId>,
    },
    Ended {
        commit: bool,
    },
}

impl Phase {
    fn decision(&self) -> Option<bool> {
        match self {
            Phase::Decided { commit, .. } | Phase::Ended { commit } => Some(*commit),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Txn {
    participants: Vec<NodeId>,
    phase: Phase,
    /// The client waiting for the outcome, with the attempt to answer.
    waiting: Option<(NodeId, ClientRequest)>,
    timer: Option<TimerId>,
    /// An audit's balances, as the shards' votes bring them (`None` for a
    /// transfer, and for an audit known only from the log after a restart:
    /// its balances are not logged, so a retry of it is refused).
    audit: Option<Vec<(u32, i64)>>,
}

impl Txn {
    /// What the client hears once `commit` is decided.
    fn answer(&self, commit: bool) -> ClientReply {
        match (&self.audit, commit) {
            (Some(balances), true) => {
                let mut balances = balances.clone();
                balances.sort_unstable();
                let text: Vec<String> = balances.iter().map(|(a, b)| format!("k{a}={b}")).collect();
                ClientReply::Result(KvResult::Value(text.join(" ")))
            }
            _ => outcome(commit),
        }
    }
}

#[derive(Debug)]
pub struct Coordinator {
    params: Arc<CommitParams>,
    log: DurableLog<CoordinatorRecord>,
    txns: BTreeMap<TxnId, Txn>,
    /// Each client's latest (sequence number, transaction): a retry of the
    /// same operation finds its transaction instead of starting another.
    by_client: RequestTags<TxnId>,
    next_txn: TxnId,
    active: usize,
}

impl Coordinator {
    /// Heap bytes held (for the run's memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.log.memory_bytes()
            + crate::heap::map_bytes(&self.txns)
            + self.txns.len() * 4 * crate::heap::MAP_ENTRY_OVERHEAD_BYTES
            + self.by_client.heap_bytes()
    }

    pub fn new(params: Arc<CommitParams>) -> Self {
        Coordinator {
            params,
            log: DurableLog::new(LOG_PREFIX),
            txns: BTreeMap::new(),
            by_client: RequestTags::new(),
            next_txn: 1,
            active: 0,
        }
    }

    /// Rebuilds from the decision log after a restart and finishes what
    /// was left open.
    pub fn recover(params: Arc<CommitParams>, ctx: Ctx) -> Self {
        let mut me = Coordinator::new(params);
        me.log = DurableLog::load(LOG_PREFIX, ctx.storage());
        for index in 1..=me.log.last_index() {
            let record = me.log.get(index).expect("in range").clone();
            match record {
                CoordinatorRecord::Begin {
                    txn,
                    client,
                    seq,
                    participants,
                } => {
                    me.next_txn = me.next_txn.max(txn + 1);
                    me.by_client.record(client, seq, txn);
                    me.txns.insert(
                        txn,
                        Txn {
                            phase: Phase::Collecting {
                                votes: Votes::new(participants.clone()),
                            },
                            participants,
                            waiting: None,
                            timer: None,
                            audit: None,
                        },
                    );
                }
                CoordinatorRecord::PreCommit { txn } => {
                    me.txn_mut(txn).phase = Phase::Polling {
                        replies: BTreeMap::new(),
                    }
                }
                CoordinatorRecord::Decide { txn, commit } => {
                    let t = me.txn_mut(txn);
                    t.phase = Phase::Decided {
                        commit,
                        acks: Acks::new(t.participants.clone()),
                    }
                }
                CoordinatorRecord::End { txn } => {
                    let txn = me.txn_mut(txn);
                    let commit = txn.phase.decision().expect("End follows Decide");
                    txn.phase = Phase::Ended { commit };
                }
            }
        }
        me.active = me
            .txns
            .values()
            .filter(|t| !matches!(t.phase, Phase::Ended { .. }))
            .count();
        ctx.emit(CommitEvent::CoordinatorRecovered);
        let open: Vec<TxnId> = me
            .txns
            .iter()
            .filter(|(_, t)| !matches!(t.phase, Phase::Ended { .. }))
            .map(|(id, _)| *id)
            .collect();
        for txn in open {
            match me.txns[&txn].phase {
                // Undecided and never pre-committed: nobody can have
                // committed it, so abort (2PC's presumed abort; in 3PC no
                // participant is pre-committed, so termination aborts too).
                Phase::Collecting { .. } => me.decide(ctx, txn, false),
                Phase::Polling { .. } => me.poll(ctx, txn),
                Phase::Decided { commit, .. } => {
                    // The decision is durable; the monitor may not have
                    // heard it if the crash came as its sync completed (it
                    // ignores a repeat).
                    ctx.emit(CommitEvent::Decided { txn, commit });
                    me.resend(ctx, txn)
                }
                _ => unreachable!("a replayed log makes no other phase"),
            }
        }
        me
    }

    fn txn_mut(&mut self, txn: TxnId) -> &mut Txn {
        self.txns
            .get_mut(&txn)
            .expect("the log names a transaction after its Begin")
    }

    pub fn on_client_request(&mut self, ctx: Ctx, client: NodeId, request: ClientRequest) {
        if !matches!(request.op, KvOp::Transfer { .. } | KvOp::Audit) {
            // Validation allows only transfers and audits; refuse anything else.
            ctx.reply(client, request.answer(ClientReply::Unavailable));
            return;
        }
        match self
            .by_client
            .lookup(u64::from(request.client), request.seq)
        {
            Tagged::Known(txn) => {
                let txn = self
                    .txns
                    .get_mut(&txn)
                    .expect("by_client names known transactions");
                let is_audit = matches!(request.op, KvOp::Audit);
                match txn.phase.decision() {
                    // An audit whose balances a restart lost cannot be answered.
                    Some(_) if is_audit && txn.audit.is_none() => {
                        ctx.reply(client, request.answer(ClientReply::Unavailable))
                    }
                    Some(commit) => {
                        let answer = txn.answer(commit);
                        ctx.reply_when_durable(client, request.answer(answer))
                    }
                    None => txn.waiting = Some((client, request)),
                }
                return;
            }
            // A retry of an operation the client has given up on.
            Tagged::Stale => return,
            Tagged::New => {}
        }
        if self.active >= ACTIVE_TXNS_MAX {
            ctx.reply(client, request.answer(ClientReply::Unavailable));
            return;
        }
        let shards = CommitParams::shards(ctx.server_count());
        let mut deltas: BTreeMap<NodeId, Vec<Delta>> = BTreeMap::new();
        let audit = match &request.op {
            KvOp::Transfer { from, to, amount } => {
                let amount = i64::try_from(*amount).expect("validated: amounts are small");
                for (key, change) in [(from, -amount), (to, amount)] {
                    let account = account_index(key);
                    deltas
                        .entry(NodeId(1 + account % shards))
                        .or_default()
                        .push(Delta {
                            account,
                            amount: change,
                        });
                }
                None
            }
            _ => {
                // An audit: every account, changed by nothing, locked
                // until the decision so that the balances read are one
                // moment's.
                for account in 0..self.params.accounts {
                    deltas
                        .entry(NodeId(1 + account % shards))
                        .or_default()
                        .push(Delta { account, amount: 0 });
                }
                Some(Vec::new())
            }
        };
        let participants: Vec<NodeId> = deltas.keys().copied().collect();
        let txn = self.next_txn;
        self.next_txn += 1;
        self.log.append(
            ctx.storage(),
            CoordinatorRecord::Begin {
                txn,
                client: u64::from(request.client),
                seq: request.seq,
                participants: participants.clone(),
            },
        );
        sync(ctx, self.params.group_commit);
        ctx.emit(CommitEvent::Begin {
            txn,
            participants: participants.clone(),
        });
        for (participant, deltas) in deltas {
            let prepare = CommitMessage::Prepare {
                txn,
                participants: participants.clone(),
                deltas,
            };
            send(ctx, participant, prepare);
        }
        let timer = ctx.set_timer(self.params.vote_timeout.0, CommitTimer::Votes(txn));
        self.by_client
            .record(u64::from(request.client), request.seq, txn);
        self.txns.insert(
            txn,
            Txn {
                phase: Phase::Collecting {
                    votes: Votes::new(participants.clone()),
                },
                participants,
                waiting: Some((client, request)),
                timer: Some(timer),
                audit,
            },
        );
        self.active += 1;
    }

    pub fn on_message(&mut self, ctx: Ctx, from: NodeId, message: CommitMessage) {
        match message {
            CommitMessage::Vote { txn, yes } => self.on_vote(ctx, from, txn, yes),
            CommitMessage::AuditVote { txn, balances } => {
                let Some(t) = self.txns.get_mut(&txn) else {
                    return;
                };
                let Phase::Collecting { votes } = &t.phase else {
                    return;
                };
                if votes.voted_yes(from) {
                    return; // a repeated vote
                }
                if let Some(read) = t.audit.as_mut() {
                    read.extend(balances);
                }
                self.on_vote(ctx, from, txn, true)
            }
            CommitMessage::PreCommitAck { txn } => {
                let Some(t) = self.txns.get_mut(&txn) else {
                    return;
                };
                let Phase::PreCommitting { acks, .. } = &mut t.phase else {
                    return;
                };
                if acks.ack(from) {
                    self.decide(ctx, txn, true);
                }
            }
            CommitMessage::DecisionAck { txn } => {
                let Some(t) = self.txns.get_mut(&txn) else {
                    return;
                };
                let Phase::Decided { commit, acks } = &mut t.phase else {
                    return;
                };
                if acks.ack(from) {
                    t.phase = Phase::Ended { commit: *commit };
                    if let Some(timer) = t.timer.take() {
                        ctx.cancel_timer(timer);
                    }
                    self.active -= 1;
                    // Not synced: if it is lost, a restart resends the
                    // decision, which participants acknowledge again.
                    self.log
                        .append(ctx.storage(), CoordinatorRecord::End { txn });
                }
            }
            CommitMessage::StateRequest { txn } => {
                let phase = self.txns.get(&txn).map(|t| &t.phase);
                let operational = !matches!(phase, Some(Phase::Polling { .. }));
                let state = match phase {
                    // Presumed abort: no record, never committed.
                    None => TxnState::Aborted,
                    Some(Phase::Decided { commit, .. } | Phase::Ended { commit }) => {
                        if *commit {
                            TxnState::Committed
                        } else {
                            TxnState::Aborted
                        }
                    }
                    Some(Phase::PreCommitting { .. }) => TxnState::PreCommitted,
                    Some(Phase::Collecting { .. } | Phase::Polling { .. }) => TxnState::Uncertain,
                };
                send(
                    ctx,
                    from,
                    CommitMessage::StateReply {
                        txn,
                        state,
                        operational,
                    },
                );
            }
            CommitMessage::StateReply { txn, state, .. } => {
                self.on_poll_reply(ctx, from, txn, state)
            }
            // Participants' messages only; a coordinator is never asked to prepare.
            CommitMessage::Prepare { .. }
            | CommitMessage::PreCommit { .. }
            | CommitMessage::Decision { .. } => {}
        }
    }

    fn on_vote(&mut self, ctx: Ctx, from: NodeId, txn: TxnId, yes: bool) {
        let Some(t) = self.txns.get_mut(&txn) else {
            return;
        };
        let Phase::Collecting { votes } = &mut t.phase else {
            return;
        };
        match votes.record(from, yes) {
            Tally::Pending => return,
            Tally::Abort => {
                self.decide(ctx, txn, false);
                return;
            }
            Tally::Commit => {}
        }
        match self.params.variant {
            CommitVariant::TwoPhase => self.decide(ctx, txn, true),
            CommitVariant::ThreePhase => {
                self.log
                    .append(ctx.storage(), CoordinatorRecord::PreCommit { txn });
                sync(ctx, self.params.group_commit);
                self.pre_commit(ctx, txn, false);
            }
        }
    }

    fn pre_commit(&mut self, ctx: Ctx, txn: TxnId, strict: bool) {
        let t = self
            .txns
            .get_mut(&txn)
            .expect("pre-committing a known transaction");
        t.phase = Phase::PreCommitting {
            acks: Acks::new(t.participants.clone()),
            strict,
        };
        for participant in t.participants.clone() {
            send(ctx, participant, CommitMessage::PreCommit { txn });
        }
        let timer = ctx.set_timer(self.params.round_timeout.0, CommitTimer::PreCommitAcks(txn));
        self.set_timer(ctx, txn, timer);
    }

    fn set_timer(&mut self, ctx: Ctx, txn: TxnId, timer: TimerId) {
        let t = self.txns.get_mut(&txn).expect("a known transaction");
        if let Some(old) = t.timer.replace(timer) {
            ctx.cancel_timer(old);
        }
    }

    /// Decides: the record is synced, and once the sync completes the
    /// client, the participants and the monitor hear it (the monitor holds
    /// a decision final, so it must not hear one a power loss can undo).
    fn decide(&mut self, ctx: Ctx, txn: TxnId, commit: bool) {
        self.log
            .append(ctx.storage(), CoordinatorRecord::Decide { txn, commit });
        sync(ctx, self.params.group_commit);
        let early = self.params.decide_before_sync;
        if early {
            // The bug: everyone hears the decision while its record is
            // still on its way to the disk.
            ctx.emit(CommitEvent::Decided { txn, commit });
        } else {
            ctx.emit_when_durable(CommitEvent::Decided { txn, commit });
        }
        let t = self
            .txns
            .get_mut(&txn)
            .expect("deciding a known transaction");
        t.phase = Phase::Decided {
            commit,
            acks: Acks::new(t.participants.clone()),
        };
        if let Some((client, request)) = t.waiting.take() {
            let response = request.answer(t.answer(commit));
            if early {
                ctx.reply(client, response);
            } else {
                ctx.reply_when_durable(client, response);
            }
        }
        if early {
            for participant in t.participants.clone() {
                send_now(ctx, participant, CommitMessage::Decision { txn, commit });
            }
        } else {
            self.resend(ctx, txn);
        }
    }

    /// Sends the decision to every participant that has not acknowledged it.
    fn resend(&mut self, ctx: Ctx, txn: TxnId) {
        let t = &self.txns[&txn];
        let Phase::Decided { commit, acks } = &t.phase else {
            return;
        };
        let commit = *commit;
        let missing: Vec<NodeId> = acks.missing().collect();
        for participant in missing {
            send(ctx, participant, CommitMessage::Decision { txn, commit });
        }
        let timer = ctx.set_timer(self.params.resend_interval.0, CommitTimer::Resend(txn));
        self.set_timer(ctx, txn, timer);
    }

    /// 3PC, restarted mid-pre-commit: asks everyone what they know.
    fn poll(&mut self, ctx: Ctx, txn: TxnId) {
        let t = self
            .txns
            .get_mut(&txn)
            .expect("polling a known transaction");
        t.phase = Phase::Polling {
            replies: BTreeMap::new(),
        };
        for participant in t.participants.clone() {
            send(ctx, participant, CommitMessage::StateRequest { txn });
        }
        let timer = ctx.set_timer(self.params.resend_interval.0, CommitTimer::Resend(txn));
        self.set_timer(ctx, txn, timer);
    }

    fn on_poll_reply(&mut self, ctx: Ctx, from: NodeId, txn: TxnId, state: TxnState) {
        let Some(t) = self.txns.get_mut(&txn) else {
            return;
        };
        let Phase::Polling { replies } = &mut t.phase else {
            return;
        };
        if let Some(commit) = state.decision() {
            // A backup decided while we were down: that is the outcome.
            self.decide(ctx, txn, commit);
            return;
        }
        replies.insert(from, state);
        if replies.len() == t.participants.len() {
            // Nobody decided and everyone answered (so no backup can be
            // deciding without us): resume the pre-commit phase.
            self.pre_commit(ctx, txn, true);
        }
    }

    pub fn on_timer(&mut self, ctx: Ctx, timer: CommitTimer) {
        match timer {
            CommitTimer::Votes(txn) => {
                if matches!(
                    self.txns.get(&txn).map(|t| &t.phase),
                    Some(Phase::Collecting { .. })
                ) {
                    self.decide(ctx, txn, false);
                }
            }
            CommitTimer::PreCommitAcks(txn) => {
                match self.txns.get(&txn).map(|t| &t.phase) {
                    // Skeen: everyone voted yes; a participant that did
                    // not ack is presumed crashed and learns on recovery.
                    Some(Phase::PreCommitting { strict: false, .. }) => self.decide(ctx, txn, true),
                    Some(Phase::PreCommitting { strict: true, .. }) => self.poll(ctx, txn),
                    _ => {}
                }
            }
            CommitTimer::Resend(txn) => match self.txns.get(&txn).map(|t| &t.phase) {
                Some(Phase::Decided { .. }) => self.resend(ctx, txn),
                Some(Phase::Polling { .. }) => self.poll(ctx, txn),
                _ => {}
            },
            CommitTimer::Uncertain(_) | CommitTimer::Round(_) => {
                unreachable!("participant timers are never set on the coordinator")
            }
        }
    }
}

fn outcome(commit: bool) -> ClientReply {
    ClientReply::Result(if commit {
        KvResult::Done
    } else {
        KvResult::Aborted
    })
}
