//! A lock server of the `Consensus` design: one member of a Raft group
//! (the Raft library, `crate::raft`) whose state machine is the lock
//! (`replicated.rs`), with leases in the style of etcd and Chubby.
//!
//! The leader takes a client's `Acquire` as a log entry and answers once
//! it is committed and applied: `Granted` under the entry's index, or
//! `Refused` when another grant holds the lock. A follower refuses with
//! the leader it knows of. A release is a log entry too, answered by
//! nothing (as with one server's).
//!
//! Leases. The state machine reads no clock, so the leader keeps each
//! grant's lease on its own timer: `ttl` plus the drift allowance from
//! the moment it applied the grant (the client counted from before it
//! asked, less the allowance, so the client's validity ends first), and
//! when the timer fires it proposes `Expire`. Timers run on the node's
//! oscillator, which a clock jump does not move, as etcd's lessor uses the
//! monotonic clock: a jumping wall clock changes nothing here. A new
//! leader cannot know how much of a lease passed under the old one, so
//! it restarts the full lease when it takes over (etcd's `Promote`).
//! Under the `lease_expiry_on_follower_clock` bug switch it instead reads
//! the expiry the old leader wrote, an instant on the old leader's clock,
//! on its own clock, and a follower whose clock runs ahead frees the lock
//! early.

use super::messages::{LockCommand, LockEvent, LockMessage, LockTimer, Refusal};
use super::params::LockParams;
use super::replicated::{Applied, LockApp, ReplicatedLock};
use super::table::Rules;
use super::Lock;
use crate::cluster::ServerCtx;
use crate::raft::app::RaftEnv;
use crate::raft::messages::{RaftEvent, RaftMessage, RaftTimer};
use crate::raft::Raft;
use rand::Rng;
use sim_core::storage::DurableStorage;
use sim_core::{LocalTime, NodeId, SimDuration, SyncId, TimerId};
use std::sync::Arc;

/// The leader's bookkeeping of the current grant's lease (volatile).
#[derive(Debug, Default)]
struct Lease {
    /// The expiry timer this leader armed, and the grant's token.
    armed: Option<(TimerId, u64)>,
    /// A grant applied since the last look (new, or its owner asked
    /// again): its lease restarts now.
    restarted: Option<u64>,
    /// Whether this server led at the last look.
    leading: bool,
}

#[derive(Debug)]
pub struct ConsensusServer {
    params: Arc<LockParams>,
    raft: Raft<LockApp>,
    lease: Lease,
}

/// The Raft module's window: the lock's context, with Raft's messages,
/// timers and events tagged into the lock's, and the group being the lock
/// servers (ids `0..instances`).
struct Env<'x, 'c, 'a> {
    ctx: &'x mut ServerCtx<'c, 'a, Lock>,
    servers: u32,
    lease: &'x mut Lease,
}

impl RaftEnv<LockApp> for Env<'_, '_, '_> {
    fn id(&self) -> NodeId {
        self.ctx.id()
    }
    fn server_count(&self) -> u32 {
        self.servers
    }
    fn now(&self) -> LocalTime {
        self.ctx.now()
    }
    fn random_in(&mut self, min: u64, max: u64) -> u64 {
        self.ctx.rng().random_range(min..=max)
    }
    fn storage(&mut self) -> &mut DurableStorage {
        self.ctx.storage()
    }
    fn send(&mut self, to: NodeId, message: RaftMessage<LockCommand>) {
        debug_assert!(to.0 < self.servers, "Raft speaks only to the group");
        self.ctx.send(to, LockMessage::Raft(message));
    }
    fn send_when_durable(&mut self, to: NodeId, message: RaftMessage<LockCommand>) {
        debug_assert!(to.0 < self.servers, "Raft speaks only to the group");
        self.ctx.send_when_durable(to, LockMessage::Raft(message));
    }
    fn set_timer(&mut self, after: SimDuration, timer: RaftTimer) -> TimerId {
        self.ctx.set_timer(after, LockTimer::Raft(timer))
    }
    fn cancel_timer(&mut self, id: TimerId) {
        self.ctx.cancel_timer(id);
    }
    fn emit(&mut self, event: RaftEvent) {
        self.ctx.emit(LockEvent::Raft(event));
    }
    fn applied(
        &mut self,
        _index: u64,
        output: Option<Applied>,
        waiter: Option<Option<(NodeId, u64)>>,
    ) {
        let waiter = waiter.flatten();
        match output {
            Some(Applied::Granted {
                client,
                attempt,
                token,
                new,
            }) => {
                self.lease.restarted = Some(token);
                if new {
                    let client = NodeId(client);
                    self.ctx.emit(LockEvent::ReplicaGranted { client, token });
                }
                if let Some((to, _)) = waiter {
                    self.ctx.send(to, LockMessage::Granted { attempt, token });
                }
            }
            Some(Applied::Refused { attempt }) => {
                if let Some((to, _)) = waiter {
                    let why = Refusal::Held;
                    self.ctx.send(to, LockMessage::Refused { attempt, why });
                }
            }
            Some(Applied::Freed { .. } | Applied::Unchanged) | None => {}
        }
    }
    fn serve_read(&mut self, _: &ReplicatedLock, read: std::convert::Infallible) {
        match read {}
    }
}

impl ConsensusServer {
    pub fn new(params: Arc<LockParams>) -> Self {
        let rules = Rules {
            owner_check: !params.release_without_owner_check,
            counter_in_key: params.token_not_monotonic,
        };
        let state = ReplicatedLock {
            rules,
            ..ReplicatedLock::default()
        };
        ConsensusServer {
            raft: Raft::with_state(Arc::new(params.raft.clone()), state),
            params,
            lease: Lease::default(),
        }
    }

    /// The Raft module, for tests and the memory budget.
    pub fn raft(&self) -> &Raft<LockApp> {
        &self.raft
    }

    /// Runs `f` on the Raft module, then settles the lease.
    fn with_raft(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Lock>,
        f: impl FnOnce(&mut Raft<LockApp>, &mut Env<'_, '_, '_>),
    ) {
        let servers = self.params.lock_servers();
        {
            let mut env = Env {
                ctx,
                servers,
                lease: &mut self.lease,
            };
            f(&mut self.raft, &mut env);
        }
        self.settle(ctx);
    }

    pub fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>) {
        self.with_raft(ctx, |raft, env| raft.on_start(env));
    }

    pub fn on_recover(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>) {
        self.with_raft(ctx, |raft, env| raft.on_recover(env));
    }

    pub fn on_synced(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>, id: SyncId) {
        self.with_raft(ctx, |raft, env| raft.on_synced(env, id));
    }

    pub fn on_message(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Lock>,
        from: NodeId,
        message: LockMessage,
    ) {
        match message {
            LockMessage::Raft(message) => {
                self.with_raft(ctx, |raft, env| raft.on_message(env, from, message));
            }
            LockMessage::Acquire { attempt, ttl } => {
                let expires_at = ctx.now().saturating_add(ttl);
                let command = LockCommand::Acquire {
                    client: from.0,
                    attempt,
                    expires_at,
                };
                self.propose_for(ctx, from, attempt, command, Some((from, attempt)));
            }
            LockMessage::Release { attempt } => {
                let command = LockCommand::Release {
                    client: from.0,
                    attempt,
                };
                self.propose_for(ctx, from, attempt, command, None);
            }
            other => panic!("lock server {} got a client's message {other:?}", ctx.id()),
        }
    }

    /// Proposes `command` if this server leads; otherwise refuses an
    /// acquire with the leader it knows of (a release is dropped: the
    /// lease frees the lock).
    fn propose_for(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Lock>,
        from: NodeId,
        attempt: u64,
        command: LockCommand,
        waiter: Option<(NodeId, u64)>,
    ) {
        if self.raft.leader_term().is_none() {
            if waiter.is_some() {
                let hint = self.raft.leader().map(|l| l.0).filter(|l| *l != ctx.id().0);
                let why = Refusal::NotLeader { hint };
                ctx.send(from, LockMessage::Refused { attempt, why });
            }
            return;
        }
        if !self.propose(ctx, command, waiter) && waiter.is_some() {
            // Refused before anything was appended: try again later.
            let why = Refusal::Held;
            ctx.send(from, LockMessage::Refused { attempt, why });
        }
    }

    /// A leader proposes `command` for `waiter`; false when Raft refused
    /// it before appending anything (too much uncommitted).
    fn propose(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Lock>,
        command: LockCommand,
        waiter: Option<(NodeId, u64)>,
    ) -> bool {
        let mut appended = false;
        self.with_raft(ctx, |raft, env| {
            appended = raft.propose_command(env, command, waiter).is_some();
        });
        appended
    }

    pub fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>, id: TimerId, timer: LockTimer) {
        match timer {
            LockTimer::Raft(timer) => {
                self.with_raft(ctx, |raft, env| raft.on_timer(env, id, timer));
            }
            LockTimer::LeaseExpiry(token) => {
                if self.lease.armed != Some((id, token)) {
                    return;
                }
                self.lease.armed = None;
                let holds = self
                    .raft
                    .state()
                    .lock
                    .holder
                    .is_some_and(|h| h.token == token);
                if self.raft.leader_term().is_none() || !holds {
                    return;
                }
                if !self.propose(ctx, LockCommand::Expire { token }, None) {
                    // The log is full for now: look again after a beat.
                    let after = self.params.raft.heartbeat();
                    let timer = ctx.set_timer(after, LockTimer::LeaseExpiry(token));
                    self.lease.armed = Some((timer, token));
                }
            }
            other => panic!("lock server {} got a client's timer {other:?}", ctx.id()),
        }
    }

    /// After the Raft module ran: a leader keeps one expiry timer, for
    /// the grant that holds the lock; a follower keeps none.
    fn settle(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>) {
        let leading = self.raft.leader_term().is_some();
        let took_over = leading && !self.lease.leading;
        self.lease.leading = leading;
        let restarted = self.lease.restarted.take();
        let holder = self.raft.state().lock.holder;
        let Some(holder) = holder.filter(|_| leading) else {
            if let Some((timer, _)) = self.lease.armed.take() {
                ctx.cancel_timer(timer);
            }
            return;
        };
        let full = self.params.lease_on_leader();
        let after = if took_over {
            if self.params.lease_expiry_on_follower_clock {
                holder.expires_at.saturating_since(ctx.now())
            } else {
                full
            }
        } else if restarted == Some(holder.token)
            || self.lease.armed.is_some_and(|(_, t)| t != holder.token)
        {
            full
        } else {
            // Armed for this grant already, or its expiry is proposed.
            return;
        };
        if let Some((timer, _)) = self.lease.armed.take() {
            ctx.cancel_timer(timer);
        }
        let timer = ctx.set_timer(after, LockTimer::LeaseExpiry(holder.token));
        self.lease.armed = Some((timer, holder.token));
        debug_assert!(self.lease.armed.is_some() && self.lease.leading);
    }
}
