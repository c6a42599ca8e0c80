//! A lock server: the single node (primary, or standby of one), or one
//! Redlock instance, which is a single node that knows no other.
//!
//! Grants follow `table.rs`. The state is written to disk and synced
//! before a grant is answered (`appendfsync always`), so a restart keeps
//! the holder and the token counter. With a standby, the primary sends
//! its whole state every `replication_interval`, after it has answered:
//! a grant made since the last send is lost if the primary dies, and the
//! standby, promoted after `failover_after` of silence on its own clock,
//! grants the same lock again. That is the Redis Sentinel story.
//!
//! Roles: server 0 starts as primary, server 1 as standby. A server back
//! from a crash starts as standby: it takes over only after the same
//! silence, so a restarted primary never grants beside a promoted one
//! unless a partition hides each from the other (then the higher epoch
//! wins when they meet, and on a tie the lower id).

use super::messages::{LockEvent, LockMessage, LockState, LockTimer, Refusal};
use super::params::LockParams;
use super::table::{self, Rules};
use super::Lock;
use crate::cluster::ServerCtx;
use sim_core::{LocalTime, NodeId, TimerId};
use std::sync::Arc;

const STATE_KEY: &str = "lock/state";

#[derive(Debug)]
pub struct LockServer {
    params: Arc<LockParams>,
    state: LockState,
    primary: bool,
    /// When this standby last heard the primary (its own clock).
    heard_primary_at: LocalTime,
    replicate_timer: Option<TimerId>,
    failover_timer: Option<TimerId>,
}

impl LockServer {
    pub fn new(params: Arc<LockParams>) -> Self {
        LockServer {
            params,
            state: LockState::default(),
            primary: false,
            heard_primary_at: LocalTime::ZERO,
            replicate_timer: None,
            failover_timer: None,
        }
    }

    pub fn is_primary(&self) -> bool {
        self.primary
    }

    pub fn state(&self) -> &LockState {
        &self.state
    }

    fn rules(&self) -> Rules {
        Rules {
            owner_check: !self.params.release_without_owner_check,
            counter_in_key: self.params.token_not_monotonic,
        }
    }

    /// The other server of a primary-standby pair.
    fn partner(&self, me: NodeId) -> Option<NodeId> {
        self.params.standby.then(|| NodeId(1 - me.0))
    }

    pub fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>) {
        self.begin(ctx, ctx.id().0 == 0 || !self.params.standby);
    }

    pub fn on_recover(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>) {
        if let Some(bytes) = ctx.storage().get(STATE_KEY) {
            self.state = serde_json::from_slice(bytes).expect("a lock state this server wrote");
        }
        // A lone server is the lock; one of a pair waits to hear the other.
        self.begin(ctx, !self.params.standby);
    }

    fn begin(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>, primary: bool) {
        self.primary = primary;
        self.heard_primary_at = ctx.now();
        if self.params.standby {
            self.arm(ctx);
        }
    }

    /// The primary's replication tick, or the standby's failover check.
    fn arm(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>) {
        debug_assert!(self.params.standby);
        let every = self.params.replication_interval.0;
        if self.primary {
            ctx.cancel_timer_in(&mut self.failover_timer);
            if self.replicate_timer.is_none() {
                self.replicate_timer = Some(ctx.set_timer(every, LockTimer::Replicate));
            }
        } else {
            ctx.cancel_timer_in(&mut self.replicate_timer);
            if self.failover_timer.is_none() {
                self.failover_timer = Some(ctx.set_timer(every, LockTimer::FailoverCheck));
            }
        }
    }

    fn persist(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>) {
        let bytes = serde_json::to_vec(&self.state).expect("a lock state serialises");
        ctx.storage().put(STATE_KEY, bytes);
        ctx.storage().sync();
    }

    pub fn on_message(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Lock>,
        from: NodeId,
        message: LockMessage,
    ) {
        match message {
            LockMessage::Acquire { attempt, ttl } => {
                if !self.primary {
                    let why = Refusal::NotPrimary;
                    ctx.send(from, LockMessage::Refused { attempt, why });
                    return;
                }
                let counter = self.state.last_token;
                match table::acquire(&mut self.state, from.0, attempt, ttl, ctx.now()) {
                    Some(token) => {
                        self.persist(ctx);
                        if self.state.last_token != counter {
                            ctx.emit_when_durable(LockEvent::Granted {
                                client: from,
                                token,
                                monotonic: self.params.monotonic_tokens(),
                            });
                        }
                        ctx.send_when_durable(from, LockMessage::Granted { attempt, token });
                    }
                    None => {
                        let why = Refusal::Held;
                        ctx.send(from, LockMessage::Refused { attempt, why });
                    }
                }
            }
            LockMessage::Release { attempt } => {
                let rules = self.rules();
                if self.primary && table::release(&mut self.state, from.0, attempt, rules) {
                    self.persist(ctx);
                }
            }
            LockMessage::Replicate { state } => self.on_replicate(ctx, from, state),
            other => panic!("lock server {} got a client's message {other:?}", ctx.id()),
        }
    }

    /// The partner's state: a standby takes it whole (as a Redis replica
    /// resyncs); a primary steps down to a higher epoch, or on a tie to
    /// the lower id.
    fn on_replicate(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>, from: NodeId, state: LockState) {
        let newer = state.epoch > self.state.epoch
            || (state.epoch == self.state.epoch && (!self.primary || from < ctx.id()));
        if !newer {
            return;
        }
        self.primary = false;
        self.state = state;
        self.heard_primary_at = ctx.now();
        self.persist(ctx);
        self.arm(ctx);
        debug_assert!(!self.primary && self.failover_timer.is_some());
    }

    pub fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>, timer: LockTimer) {
        match timer {
            LockTimer::Replicate => {
                self.replicate_timer = None;
                if self.primary {
                    let partner = self.partner(ctx.id()).expect("a pair replicates");
                    let state = self.state.clone();
                    ctx.send(partner, LockMessage::Replicate { state });
                    self.arm(ctx);
                }
            }
            LockTimer::FailoverCheck => {
                self.failover_timer = None;
                if self.primary {
                    return;
                }
                let silent = ctx.now().saturating_since(self.heard_primary_at);
                if silent >= self.params.failover_after.0 {
                    self.primary = true;
                    self.state.epoch += 1;
                    self.persist(ctx);
                    ctx.emit(LockEvent::Promoted {
                        epoch: self.state.epoch,
                    });
                }
                self.arm(ctx);
            }
            other => panic!("lock server {} got a client's timer {other:?}", ctx.id()),
        }
    }
}
