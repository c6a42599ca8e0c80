//! A lock client: it acquires, reads the protected resource, works, writes
//! the value back, and releases; then thinks and starts again.
//!
//! Acquiring. `SingleNode`: ask the server believed primary; a refusal
//! because the lock is held means try again after a random delay, one
//! because the server is a standby (or silence) means ask the other.
//! `Redlock`, as its authors publish it: note the local time, ask every
//! instance in turn (each with `request_timeout`), and hold the lock if a
//! majority granted and the validity left, `ttl − elapsed − drift`, is
//! positive; otherwise release on every instance and try again after a
//! random delay. `Consensus`: as a single node, asking the server it
//! believes leads; a follower's refusal names the leader it knows of,
//! which the client asks at once, and silence moves it to the next
//! server. Either way the client gives up after `acquire_timeout`.
//!
//! Holding. A single node's grant is valid until `try start + ttl −
//! drift` on the client's clock (it cannot know when the server set it,
//! only that it was not before the request left). The client enters the
//! critical section only if the validity left covers its work and two
//! requests; then it reads the value, works, and writes `value + 1` back,
//! all under its token. It checks its validity once, before it starts:
//! that is how lock users write it (`if lock.valid() { work; write }`),
//! and it is where Kleppmann's pause bites. A pause (a `Pause` fault, a
//! garbage collector) during the work lets the grant expire while the
//! client still means to write: the zombie.
//!
//! Renewing (`renew_interval`): while it works, a holder asks every
//! server that granted it again, as the same owner, which moves the
//! grant's expiry to a full TTL from then (etcd's keepalive, Redlock's
//! extend); it then enters when its validity covers one interval and two
//! requests. The answers are copies of its grant, and change nothing.
//!
//! Every grant is owned by (this node, attempt), where the attempt
//! number carries this node's incarnation (a counter on its disk), so a
//! client back from a crash never owns a grant of its past life.

use super::messages::{LockEvent, LockMessage, LockTimer, Refusal};
use super::params::{Design, LockParams};
use super::Lock;
use crate::cluster::ServerCtx;
use rand::Rng;
use sim_core::{Dur, LocalTime, NodeId, SimDuration};
use std::sync::Arc;

const INCARNATION_KEY: &str = "client/incarnation";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Reading,
    Working,
    Writing,
}

/// One try at the lock: a single node's request, or a Redlock round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Try {
    attempt: u64,
    /// When this try's first request left (local clock).
    started: LocalTime,
    /// Redlock: the instance being asked now (`u32::MAX` once the round
    /// is judged: no answer is awaited); SingleNode: 0.
    asking: u32,
    /// The largest token granted in this try.
    token: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Acquiring(Try),
    Holding {
        attempt: u64,
        token: u64,
        valid_until: LocalTime,
        work: SimDuration,
        read: u64,
        step: Step,
    },
}

#[derive(Debug)]
pub struct LockClient {
    params: Arc<LockParams>,
    incarnation: u64,
    tries: u64,
    /// Numbers the current wait: a timer or answer of an older one is stale.
    generation: u64,
    phase: Phase,
    /// SingleNode: the server this client believes is primary.
    target: u32,
    /// Give up acquiring once the local clock reads this.
    give_up_at: LocalTime,
    /// The servers (a bit per id) whose grant of the current attempt this
    /// client counted: Redlock's majority is their number, and another
    /// copy of one (the network duplicates) is the same grant, not a late
    /// one to hand back.
    counted: u32,
}

impl LockClient {
    pub fn new(params: Arc<LockParams>) -> Self {
        LockClient {
            params,
            incarnation: 0,
            tries: 0,
            generation: 0,
            phase: Phase::Idle,
            target: 0,
            give_up_at: LocalTime::ZERO,
            counted: 0,
        }
    }

    /// The token it holds, while in its critical section.
    pub fn holding(&self) -> Option<u64> {
        match self.phase {
            Phase::Holding { token, .. } => Some(token),
            _ => None,
        }
    }

    pub fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>) {
        let last = ctx
            .storage()
            .get(INCARNATION_KEY)
            .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
        self.incarnation = last + 1;
        ctx.storage()
            .put(INCARNATION_KEY, self.incarnation.to_le_bytes().to_vec());
        ctx.storage().sync();
        self.tries = 0;
        self.think(ctx);
    }

    fn draw(ctx: &mut ServerCtx<'_, '_, Lock>, min: Dur, max: Dur) -> SimDuration {
        let (min, max) = (min.0.as_nanos(), max.0.as_nanos());
        SimDuration::from_nanos(ctx.rng().random_range(min..=max))
    }

    fn think(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>) {
        self.phase = Phase::Idle;
        self.generation += 1;
        let after = Self::draw(ctx, self.params.think_min, self.params.think_max);
        ctx.set_timer(after, LockTimer::Think);
    }

    fn wait_answer(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>) {
        self.generation += 1;
        let timer = LockTimer::RequestTimeout(self.generation);
        ctx.set_timer(self.params.request_timeout.0, timer);
    }

    fn start_acquiring(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>) {
        ctx.emit(LockEvent::AcquireStarted);
        self.give_up_at = ctx.now().saturating_add(self.params.acquire_timeout.0);
        self.new_try(ctx);
    }

    fn new_try(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>) {
        self.tries += 1;
        debug_assert!(self.tries < 1 << 32, "tries fit below the incarnation");
        let attempt = self.incarnation << 32 | self.tries;
        self.counted = 0;
        self.phase = Phase::Acquiring(Try {
            attempt,
            started: ctx.now(),
            asking: 0,
            token: 0,
        });
        let to = match self.params.design {
            Design::SingleNode | Design::Consensus => self.target,
            Design::Redlock => 0,
        };
        self.ask(ctx, to, attempt);
    }

    fn ask(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>, server: u32, attempt: u64) {
        let ttl = self.params.ttl.0;
        ctx.send(NodeId(server), LockMessage::Acquire { attempt, ttl });
        self.wait_answer(ctx);
    }

    /// Tries again after a random delay, or gives up.
    fn retry_later(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>) {
        let delay = Self::draw(ctx, self.params.retry_min, self.params.retry_max);
        if ctx.now().saturating_add(delay) >= self.give_up_at {
            ctx.emit(LockEvent::GaveUp);
            self.think(ctx);
            return;
        }
        self.generation += 1;
        ctx.set_timer(delay, LockTimer::Retry(self.generation));
    }

    /// SingleNode: ask the other server of a pair next time; Consensus:
    /// the next server of the group.
    fn switch_target(&mut self) {
        if self.params.design == Design::Consensus {
            self.target = (self.target + 1) % self.params.lock_servers();
        } else if self.params.standby {
            self.target = 1 - self.target;
        }
    }

    pub fn on_message(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Lock>,
        from: NodeId,
        message: LockMessage,
    ) {
        match message {
            LockMessage::Granted { attempt, token } => self.on_granted(ctx, from, attempt, token),
            LockMessage::Refused { attempt, why } => self.on_refused(ctx, from, attempt, why),
            LockMessage::AccessDone {
                attempt,
                write,
                accepted,
                value,
            } => self.on_access_done(ctx, attempt, write, accepted, value),
            other => panic!("lock client {} got a server's message {other:?}", ctx.id()),
        }
    }

    /// Whether an answer from `from` about `attempt` is the one awaited.
    fn awaited(&self, from: NodeId, of: u64) -> bool {
        match self.phase {
            Phase::Acquiring(t) => {
                let server = match self.params.design {
                    Design::SingleNode | Design::Consensus => self.target,
                    Design::Redlock => t.asking,
                };
                t.attempt == of && from.0 == server
            }
            _ => false,
        }
    }

    /// The attempt this client is acquiring or holding, if any.
    fn current_attempt(&self) -> Option<u64> {
        match self.phase {
            Phase::Acquiring(t) => Some(t.attempt),
            Phase::Holding { attempt, .. } => Some(attempt),
            Phase::Idle => None,
        }
    }

    fn on_granted(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>, from: NodeId, of: u64, got: u64) {
        let bit = 1u32 << from.0.min(31);
        if self.current_attempt() == Some(of) && self.counted & bit != 0 {
            // A copy of a grant already counted: handing it back would
            // free the lock this client holds (or counts on) under it.
            return;
        }
        if !self.awaited(from, of) {
            // A grant this client no longer waits for (its try timed out
            // or moved on): hand it back rather than let it block others
            // until it expires.
            ctx.send(from, LockMessage::Release { attempt: of });
            return;
        }
        let Phase::Acquiring(mut t) = self.phase else {
            unreachable!("awaited only while acquiring");
        };
        self.counted |= bit;
        match self.params.design {
            Design::SingleNode | Design::Consensus => {
                let end = t.started.saturating_add(self.params.ttl.0).as_nanos();
                let drift = self.params.drift_allowance().as_nanos();
                let valid_until = LocalTime::from_nanos(end.saturating_sub(drift));
                self.enter(ctx, t.attempt, got, valid_until);
            }
            Design::Redlock => {
                t.token = t.token.max(got);
                self.phase = Phase::Acquiring(t);
                self.next_instance(ctx);
            }
        }
    }

    fn on_refused(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Lock>,
        from: NodeId,
        of: u64,
        why: Refusal,
    ) {
        if !self.awaited(from, of) {
            return;
        }
        match (self.params.design, why) {
            (Design::Redlock, _) => self.next_instance(ctx),
            (_, Refusal::Held) => self.retry_later(ctx),
            (_, Refusal::NotLeader { hint: Some(leader) })
                if leader < self.params.lock_servers() =>
            {
                // Ask the leader at once: the follower knows it is there.
                self.target = leader;
                self.new_try(ctx);
            }
            (_, Refusal::NotPrimary | Refusal::NotLeader { .. }) => {
                self.switch_target();
                self.retry_later(ctx);
            }
        }
    }

    /// Redlock: ask the next instance, or judge the round.
    fn next_instance(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>) {
        let Phase::Acquiring(mut t) = self.phase else {
            unreachable!("asked only while acquiring");
        };
        debug_assert_eq!(self.params.design, Design::Redlock);
        if t.asking + 1 < self.params.instances {
            t.asking += 1;
            self.phase = Phase::Acquiring(t);
            self.ask(ctx, t.asking, t.attempt);
            return;
        }
        let now = ctx.now();
        let spent = if self.params.redlock_ignore_elapsed {
            SimDuration::ZERO
        } else {
            now.saturating_since(t.started)
        };
        let ttl = self.params.ttl.0;
        let used = spent.saturating_add(self.params.drift_allowance());
        // The grants this try counted are its servers' bits.
        if self.counted.count_ones() >= self.params.majority() && used < ttl {
            let validity = SimDuration::from_nanos(ttl.as_nanos() - used.as_nanos());
            self.enter(ctx, t.attempt, t.token, now.saturating_add(validity));
        } else {
            // No answer of this try is awaited any more: a late grant is
            // handed back, not counted twice.
            t.asking = u32::MAX;
            self.phase = Phase::Acquiring(t);
            self.release(ctx, t.attempt, false);
            self.retry_later(ctx);
        }
    }

    /// Holds the lock: enters the critical section if the validity left
    /// covers the work and two requests, else releases at once.
    fn enter(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Lock>,
        attempt: u64,
        token: u64,
        valid_until: LocalTime,
    ) {
        let work = Self::draw(ctx, self.params.work_min, self.params.work_max);
        // Renewing, the grant need only last until the first renewal.
        let until_renewed = self.params.renew_interval.map_or(work, |r| work.min(r.0));
        let needed = until_renewed.saturating_add(SimDuration::from_nanos(
            self.params.request_timeout.0.as_nanos().saturating_mul(2),
        ));
        if ctx.now().saturating_add(needed) > valid_until {
            ctx.emit(LockEvent::TooLittleValidity);
            self.release(ctx, attempt, false);
            self.think(ctx);
            return;
        }
        ctx.emit(LockEvent::Acquired { attempt, token });
        self.phase = Phase::Holding {
            attempt,
            token,
            valid_until,
            work,
            read: 0,
            step: Step::Reading,
        };
        let resource = NodeId(self.params.resource());
        let access = LockMessage::Access {
            attempt,
            token,
            write: None,
        };
        ctx.send(resource, access);
        self.wait_answer(ctx);
    }

    fn on_access_done(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Lock>,
        of: u64,
        write: bool,
        accepted: bool,
        value: u64,
    ) {
        let Phase::Holding {
            attempt,
            token,
            valid_until,
            work,
            step,
            ..
        } = self.phase
        else {
            return;
        };
        let expected = if write { Step::Writing } else { Step::Reading };
        if attempt != of || step != expected {
            return;
        }
        if write || !accepted {
            // Written, or fenced off: the critical section is over.
            self.release(ctx, attempt, true);
            self.think(ctx);
            return;
        }
        self.phase = Phase::Holding {
            attempt,
            token,
            valid_until,
            work,
            read: value,
            step: Step::Working,
        };
        self.generation += 1;
        ctx.set_timer(work, LockTimer::WorkDone(self.generation));
        if let Some(every) = self.params.renew_interval {
            ctx.set_timer(every.0, LockTimer::Renew(self.generation));
        }
    }

    /// Asks every server that granted the held attempt again, as its
    /// owner, and times the next renewal.
    fn renew(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>, attempt: u64) {
        let ttl = self.params.ttl.0;
        for server in (0..32).filter(|s| self.counted & (1 << s) != 0) {
            ctx.send(NodeId(server), LockMessage::Acquire { attempt, ttl });
        }
        if let Some(every) = self.params.renew_interval {
            ctx.set_timer(every.0, LockTimer::Renew(self.generation));
        }
    }

    /// Releases `attempt`'s grant; `held` says the client believed it held
    /// the lock (the monitor's hold ends here).
    fn release(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>, attempt: u64, held: bool) {
        match self.params.design {
            Design::SingleNode | Design::Consensus => {
                ctx.send(NodeId(self.target), LockMessage::Release { attempt });
            }
            Design::Redlock => {
                for server in 0..self.params.instances {
                    ctx.send(NodeId(server), LockMessage::Release { attempt });
                }
            }
        }
        if held {
            ctx.emit(LockEvent::Released { attempt });
        }
    }

    pub fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>, timer: LockTimer) {
        match timer {
            LockTimer::Think if self.phase == Phase::Idle => self.start_acquiring(ctx),
            LockTimer::Retry(generation)
                if generation == self.generation && matches!(self.phase, Phase::Acquiring(_)) =>
            {
                self.new_try(ctx)
            }
            LockTimer::RequestTimeout(generation) if generation == self.generation => {
                match self.phase {
                    Phase::Idle => {}
                    Phase::Acquiring(_) => match self.params.design {
                        Design::Redlock => self.next_instance(ctx),
                        Design::SingleNode | Design::Consensus => {
                            self.switch_target();
                            self.retry_later(ctx);
                        }
                    },
                    Phase::Holding { attempt, .. } => {
                        self.release(ctx, attempt, true);
                        self.think(ctx);
                    }
                }
            }
            LockTimer::WorkDone(generation) if generation == self.generation => {
                let Phase::Holding {
                    attempt,
                    token,
                    valid_until,
                    work,
                    read,
                    step: Step::Working,
                } = self.phase
                else {
                    unreachable!("work is timed only while working");
                };
                self.phase = Phase::Holding {
                    attempt,
                    token,
                    valid_until,
                    work,
                    read,
                    step: Step::Writing,
                };
                let access = LockMessage::Access {
                    attempt,
                    token,
                    write: Some(read + 1),
                };
                ctx.send(NodeId(self.params.resource()), access);
                self.wait_answer(ctx);
            }
            LockTimer::Renew(generation) if generation == self.generation => {
                if let Phase::Holding {
                    attempt,
                    step: Step::Working,
                    ..
                } = self.phase
                {
                    self.renew(ctx, attempt);
                }
            }
            LockTimer::Think
            | LockTimer::Retry(_)
            | LockTimer::RequestTimeout(_)
            | LockTimer::WorkDone(_)
            | LockTimer::Renew(_) => {}
            LockTimer::Replicate
            | LockTimer::FailoverCheck
            | LockTimer::Raft(_)
            | LockTimer::LeaseExpiry(_) => {
                panic!("lock client {} got a server's timer {timer:?}", ctx.id())
            }
        }
    }
}
