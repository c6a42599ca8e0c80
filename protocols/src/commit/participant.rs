//! A participant: one shard of the accounts. It votes on the changes a
//! transaction makes to its accounts, holds their locks while uncertain,
//! and applies the outcome. Every record is synced before the message that
//! depends on it is sent (write-ahead), so a restart resumes exactly where
//! the participant's promises left it.
//!
//! When the coordinator goes quiet, a 2PC participant can only ask (the
//! coordinator, and with cooperative termination its fellow participants).
//! A 3PC participant runs Skeen's termination protocol: the live
//! participant with the lowest id becomes the backup coordinator; it
//! commits if anyone is pre-committed (after pre-committing the rest) and
//! aborts if everyone is merely uncertain. A participant that knows a
//! transaction only from its log after a restart never decides it (Skeen's
//! recovery rule): while it was down the coordinator may have presumed it
//! crashed and committed, so its "uncertain" proves nothing.

use super::messages::{
    CommitEvent, CommitMessage, CommitTimer, Delta, ParticipantRecord, TxnId, TxnState,
};
use super::params::{CommitParams, CommitVariant};
use super::{send, sync, AtomicCommit};
use crate::cluster::ServerCtx;
use crate::durable_log::DurableLog;
use crate::two_phase::InDoubt;
use sim_core::{NodeId, TimerId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const LOG_PREFIX: &str = "commit/participant/";
/// The coordinator's id: the first server.
pub const COORDINATOR: NodeId = NodeId(0);

type Ctx<'c, 'a, 'b> = &'c mut ServerCtx<'a, 'b, AtomicCommit>;

/// One 3PC termination round this participant runs.
#[derive(Debug, Default)]
struct Round {
    /// Who answered, with what, and whether they were operational.
    replies: BTreeMap<NodeId, (TxnState, bool)>,
    /// As backup coordinator, pre-committing: the acks still awaited.
    pre_committing: Option<BTreeSet<NodeId>>,
}

#[derive(Debug)]
struct Txn {
    state: TxnState,
    participants: Vec<NodeId>,
    deltas: Vec<Delta>,
    timer: Option<TimerId>,
    round: Option<Round>,
    /// Known only from the log after a restart, undecided: this server
    /// missed what happened meanwhile (the coordinator may have committed,
    /// presuming it crashed), so it only learns the outcome, never decides it.
    recovered: bool,
}

#[derive(Debug)]
pub struct Participant {
    params: Arc<CommitParams>,
    log: DurableLog<ParticipantRecord>,
    balances: BTreeMap<u32, i64>,
    /// Accounts held by an uncertain transaction. A prepare that touches
    /// one votes no at once (no waiting, so no deadlock).
    locked: BTreeSet<u32>,
    txns: BTreeMap<TxnId, Txn>,
}

impl Participant {
    /// Heap bytes held (for the run's memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.log.memory_bytes()
            + crate::heap::map_bytes(&self.balances)
            + crate::heap::set_bytes(&self.locked)
            + crate::heap::map_bytes(&self.txns)
            + self.txns.len() * 4 * crate::heap::MAP_ENTRY_OVERHEAD_BYTES
    }

    pub fn new(params: Arc<CommitParams>, ctx: Ctx) -> Self {
        let shards = CommitParams::shards(ctx.server_count());
        let shard = ctx.id().0 - 1;
        let balances = (0..params.accounts)
            .filter(|a| a % shards == shard)
            .map(|a| (a, params.initial_balance))
            .collect();
        Participant {
            params,
            log: DurableLog::new(LOG_PREFIX),
            balances,
            locked: BTreeSet::new(),
            txns: BTreeMap::new(),
        }
    }

    /// Rebuilds balances, locks and states from the log, then resolves
    /// what is still open the way a timeout would.
    pub fn recover(params: Arc<CommitParams>, ctx: Ctx) -> Self {
        let mut me = Participant::new(params, ctx);
        me.log = DurableLog::load(LOG_PREFIX, ctx.storage());
        for index in 1..=me.log.last_index() {
            match me.log.get(index).expect("in range").clone() {
                ParticipantRecord::Prepared {
                    txn,
                    participants,
                    deltas,
                } => {
                    me.lock(&deltas);
                    me.txns
                        .insert(txn, Txn::new(TxnState::Uncertain, participants, deltas));
                }
                ParticipantRecord::PreCommitted { txn } => {
                    me.txn_mut(txn).state = TxnState::PreCommitted
                }
                ParticipantRecord::Committed { txn } => {
                    let deltas = me
                        .txns
                        .get(&txn)
                        .map(|t| t.deltas.clone())
                        .unwrap_or_default();
                    me.apply_deltas(&deltas);
                    me.unlock(&deltas);
                    me.txns
                        .entry(txn)
                        .or_insert_with(|| Txn::new(TxnState::Committed, Vec::new(), Vec::new()))
                        .state = TxnState::Committed;
                }
                ParticipantRecord::Aborted { txn } => {
                    let deltas = me
                        .txns
                        .get(&txn)
                        .map(|t| t.deltas.clone())
                        .unwrap_or_default();
                    me.unlock(&deltas);
                    me.txns
                        .entry(txn)
                        .or_insert_with(|| Txn::new(TxnState::Aborted, Vec::new(), Vec::new()))
                        .state = TxnState::Aborted;
                }
            }
        }
        let open: Vec<TxnId> = me
            .txns
            .iter()
            .filter(|(_, t)| t.state.decision().is_none())
            .map(|(id, _)| *id)
            .collect();
        for txn in open {
            me.txn_mut(txn).recovered = true;
            me.start_waiting(ctx, txn);
        }
        me
    }

    fn txn_mut(&mut self, txn: TxnId) -> &mut Txn {
        self.txns
            .get_mut(&txn)
            .expect("the log names a transaction after its Prepared")
    }

    fn lock(&mut self, deltas: &[Delta]) {
        for delta in deltas {
            self.locked.insert(delta.account);
        }
    }

    fn unlock(&mut self, deltas: &[Delta]) {
        for delta in deltas {
            self.locked.remove(&delta.account);
        }
    }

    fn apply_deltas(&mut self, deltas: &[Delta]) -> i64 {
        let mut sum = 0;
        for delta in deltas {
            *self
                .balances
                .get_mut(&delta.account)
                .expect("a shard holds its own accounts") += delta.amount;
            sum += delta.amount;
        }
        sum
    }

    /// This shard's balances (for tests and the end-of-run report).
    pub fn balances(&self) -> &BTreeMap<u32, i64> {
        &self.balances
    }

    pub fn on_message(&mut self, ctx: Ctx, from: NodeId, message: CommitMessage) {
        match message {
            // Only the coordinator collects votes.
            CommitMessage::AuditVote { .. } => {}
            CommitMessage::Prepare {
                txn,
                participants,
                deltas,
            } => self.on_prepare(ctx, from, txn, participants, deltas),
            CommitMessage::PreCommit { txn } => {
                let Some(t) = self.txns.get_mut(&txn) else {
                    return;
                };
                match t.state {
                    TxnState::Uncertain => {
                        t.state = TxnState::PreCommitted;
                        self.log
                            .append(ctx.storage(), ParticipantRecord::PreCommitted { txn });
                        sync(ctx, self.params.group_commit);
                        // The clock restarts: the sender is alive.
                        self.start_waiting(ctx, txn);
                    }
                    TxnState::PreCommitted | TxnState::Committed => {}
                    // Aborted here (a partition let a backup abort): no ack.
                    TxnState::Aborted | TxnState::Unknown => return,
                }
                send(ctx, from, CommitMessage::PreCommitAck { txn });
            }
            CommitMessage::PreCommitAck { txn } => {
                let Some(round) = self.txns.get_mut(&txn).and_then(|t| t.round.as_mut()) else {
                    return;
                };
                let Some(awaited) = round.pre_committing.as_mut() else {
                    return;
                };
                awaited.remove(&from);
                if awaited.is_empty() {
                    self.decide_as_backup(ctx, txn, true);
                }
            }
            CommitMessage::Decision { txn, commit } => {
                self.resolve(ctx, txn, commit);
                send(ctx, from, CommitMessage::DecisionAck { txn });
            }
            CommitMessage::StateRequest { txn } => {
                let (state, operational) = match self.txns.get(&txn) {
                    Some(t) => (t.state, !t.recovered),
                    None => {
                        // Never prepared here, so never voted yes: this
                        // shard may abort on its own, and must, so that a
                        // prepare still in flight cannot commit it later.
                        self.resolve(ctx, txn, false);
                        (TxnState::Aborted, true)
                    }
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
            CommitMessage::StateReply {
                txn,
                state,
                operational,
            } => {
                let Some(t) = self.txns.get_mut(&txn) else {
                    return;
                };
                if t.state.decision().is_some() {
                    return;
                }
                if let Some(commit) = state.decision() {
                    self.resolve(ctx, txn, commit);
                } else if let Some(round) = t.round.as_mut() {
                    round.replies.insert(from, (state, operational));
                }
            }
            // Coordinator's messages only.
            CommitMessage::Vote { .. } | CommitMessage::DecisionAck { .. } => {}
        }
    }

    fn on_prepare(
        &mut self,
        ctx: Ctx,
        from: NodeId,
        txn: TxnId,
        participants: Vec<NodeId>,
        deltas: Vec<Delta>,
    ) {
        let audit = !deltas.is_empty() && deltas.iter().all(|d| d.amount == 0);
        if let Some(t) = self.txns.get(&txn) {
            // A duplicate: repeat the vote this shard is bound by.
            let yes = t.state != TxnState::Aborted;
            let vote = if yes && audit {
                CommitMessage::AuditVote {
                    txn,
                    balances: self.read(&deltas),
                }
            } else {
                CommitMessage::Vote { txn, yes }
            };
            send(ctx, from, vote);
            return;
        }
        assert!(
            deltas
                .iter()
                .all(|d| self.balances.contains_key(&d.account)),
            "the coordinator sent {txn}'s deltas for another shard's accounts to {}",
            ctx.id()
        );
        let free = deltas.iter().all(|d| !self.locked.contains(&d.account));
        let funded = deltas
            .iter()
            .all(|d| self.balances[&d.account] + d.amount >= 0);
        let yes = free && funded;
        // An audit reads what it locks.
        let read = (yes && audit).then(|| self.read(&deltas));
        if yes {
            self.log.append(
                ctx.storage(),
                ParticipantRecord::Prepared {
                    txn,
                    participants: participants.clone(),
                    deltas: deltas.clone(),
                },
            );
            sync(ctx, self.params.group_commit);
            self.lock(&deltas);
            self.txns
                .insert(txn, Txn::new(TxnState::Uncertain, participants, deltas));
            ctx.emit(CommitEvent::Voted { txn, yes });
            self.start_waiting(ctx, txn);
        } else {
            ctx.emit(CommitEvent::Voted { txn, yes });
            self.resolve(ctx, txn, false);
        }
        let vote = match read {
            Some(balances) => CommitMessage::AuditVote { txn, balances },
            None => CommitMessage::Vote { txn, yes },
        };
        send(ctx, from, vote);
    }

    /// The balances of the accounts `deltas` name (an audit's read).
    fn read(&self, deltas: &[Delta]) -> Vec<(u32, i64)> {
        deltas
            .iter()
            .map(|d| (d.account, self.balances[&d.account]))
            .collect()
    }

    /// Makes the outcome durable and applies it (once).
    fn resolve(&mut self, ctx: Ctx, txn: TxnId, commit: bool) {
        let t = self
            .txns
            .entry(txn)
            .or_insert_with(|| Txn::new(TxnState::Unknown, Vec::new(), Vec::new()));
        if t.state.decision().is_some() {
            return;
        }
        if commit && t.state == TxnState::Unknown {
            // Only a broken peer commits what this shard never voted for;
            // there is nothing here to apply. The monitor reports it.
            ctx.emit(CommitEvent::Applied {
                txn,
                commit,
                delta_sum: 0,
            });
            t.state = TxnState::Committed;
            return;
        }
        t.state = if commit {
            TxnState::Committed
        } else {
            TxnState::Aborted
        };
        if let Some(timer) = t.timer.take() {
            ctx.cancel_timer(timer);
        }
        t.round = None;
        let deltas = t.deltas.clone();
        let record = if commit {
            ParticipantRecord::Committed { txn }
        } else {
            ParticipantRecord::Aborted { txn }
        };
        self.log.append(ctx.storage(), record);
        sync(ctx, self.params.group_commit);
        let delta_sum = if commit {
            self.apply_deltas(&deltas)
        } else {
            0
        };
        self.unlock(&deltas);
        ctx.emit(CommitEvent::Applied {
            txn,
            commit,
            delta_sum,
        });
    }

    /// (Re)starts the uncertainty clock of an undecided transaction.
    fn start_waiting(&mut self, ctx: Ctx, txn: TxnId) {
        let timer = ctx.set_timer(self.params.decision_timeout.0, CommitTimer::Uncertain(txn));
        let t = self.txn_mut(txn);
        t.round = None;
        if let Some(old) = t.timer.replace(timer) {
            ctx.cancel_timer(old);
        }
    }

    pub fn on_timer(&mut self, ctx: Ctx, timer: CommitTimer) {
        match timer {
            CommitTimer::Uncertain(txn) => self.on_uncertain_too_long(ctx, txn),
            CommitTimer::Round(txn) => self.end_round(ctx, txn),
            CommitTimer::Votes(_) | CommitTimer::PreCommitAcks(_) | CommitTimer::Resend(_) => {
                unreachable!("coordinator timers are never set on a participant")
            }
        }
    }

    fn on_uncertain_too_long(&mut self, ctx: Ctx, txn: TxnId) {
        let Some(t) = self.txns.get_mut(&txn) else {
            return;
        };
        if t.state.decision().is_some() {
            return;
        }
        t.timer = None;
        if InDoubt::on_timeout(self.params.commit_on_timeout) == InDoubt::CommitAlone {
            self.resolve(ctx, txn, true);
            return;
        }
        let me = ctx.id();
        let peers: Vec<NodeId> = t
            .participants
            .iter()
            .copied()
            .filter(|p| *p != me)
            .collect();
        match self.params.variant {
            CommitVariant::TwoPhase => {
                send(ctx, COORDINATOR, CommitMessage::StateRequest { txn });
                if self.params.cooperative_termination {
                    for peer in peers {
                        send(ctx, peer, CommitMessage::StateRequest { txn });
                    }
                }
                // Blocked: ask again later.
                self.start_waiting(ctx, txn);
            }
            CommitVariant::ThreePhase => {
                t.round = Some(Round::default());
                for node in std::iter::once(COORDINATOR).chain(peers) {
                    send(ctx, node, CommitMessage::StateRequest { txn });
                }
                let timer = ctx.set_timer(self.params.round_timeout.0, CommitTimer::Round(txn));
                self.txn_mut(txn).timer = Some(timer);
            }
        }
    }

    /// The end of a 3PC termination round: defer to a live lower id, or act
    /// as the backup coordinator.
    fn end_round(&mut self, ctx: Ctx, txn: TxnId) {
        let me = ctx.id();
        let Some(t) = self.txns.get_mut(&txn) else {
            return;
        };
        t.timer = None;
        let Some(round) = t.round.as_mut() else {
            return;
        };
        if round.pre_committing.is_some() {
            // Skeen: those that did not ack are presumed crashed.
            self.decide_as_backup(ctx, txn, true);
            return;
        }
        let lower_operational = round
            .replies
            .iter()
            .any(|(node, (_, operational))| *node < me && *operational);
        if lower_operational || t.recovered {
            // The coordinator or a lower participant is alive and may
            // decide; or this server missed part of the protocol and may
            // not. Ask again later.
            self.start_waiting(ctx, txn);
            return;
        }
        let my_state = t.state;
        let states: Vec<TxnState> = round
            .replies
            .values()
            .map(|(state, _)| *state)
            .chain([my_state])
            .collect();
        if states.contains(&TxnState::PreCommitted) {
            if my_state == TxnState::Uncertain {
                t.state = TxnState::PreCommitted;
                self.log
                    .append(ctx.storage(), ParticipantRecord::PreCommitted { txn });
                sync(ctx, self.params.group_commit);
            }
            let t = self.txn_mut(txn);
            let round = t.round.as_mut().expect("checked above");
            let uncertain: BTreeSet<NodeId> = round
                .replies
                .iter()
                .filter(|(node, (state, _))| **node != COORDINATOR && *state == TxnState::Uncertain)
                .map(|(node, _)| *node)
                .collect();
            if uncertain.is_empty() {
                self.decide_as_backup(ctx, txn, true);
                return;
            }
            round.pre_committing = Some(uncertain.clone());
            for node in uncertain {
                send(ctx, node, CommitMessage::PreCommit { txn });
            }
            let timer = ctx.set_timer(self.params.round_timeout.0, CommitTimer::Round(txn));
            self.txn_mut(txn).timer = Some(timer);
        } else {
            // Everyone who answered is uncertain: nobody can have
            // committed (the coordinator commits only after pre-commits).
            self.decide_as_backup(ctx, txn, false);
        }
    }

    fn decide_as_backup(&mut self, ctx: Ctx, txn: TxnId, commit: bool) {
        ctx.emit(CommitEvent::Decided { txn, commit });
        let me = ctx.id();
        let peers: Vec<NodeId> = self.txns[&txn]
            .participants
            .iter()
            .copied()
            .filter(|p| *p != me)
            .collect();
        self.resolve(ctx, txn, commit);
        for peer in peers {
            send(ctx, peer, CommitMessage::Decision { txn, commit });
        }
    }
}

impl Txn {
    fn new(state: TxnState, participants: Vec<NodeId>, deltas: Vec<Delta>) -> Self {
        Txn {
            state,
            participants,
            deltas,
            timer: None,
            round: None,
            recovered: false,
        }
    }
}
