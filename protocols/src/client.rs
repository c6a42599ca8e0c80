//! The client machinery every key-value protocol shares: the wire format
//! between clients and servers, and a client process that finds the leader,
//! times out, retries with backoff and jitter, and reports what it observed.
//!
//! A client is a node of its own on the simulated network, so partitions,
//! loss and latency touch client traffic too. It runs one operation at a time
//! (a Jepsen "process"). Every attempt of one operation carries the same
//! (client, sequence) tag so the state machine can deduplicate retries.
//!
//! Outcome rule: an operation that got a reply is `Ok` (or `Fail` for a cas
//! whose expectation did not hold, or a transaction that aborted; `Info`
//! for an abort after an earlier attempt timed out, which may still have
//! committed through another coordinator). One that never got a reply is `Info` if
//! any attempt may have reached a server (a timed-out attempt), and `Fail`
//! only if every attempt was definitely refused (`NotLeader`, `Unavailable`).

use crate::kv::{CausalContext, KvOp, KvResult};
use crate::workload::{Arrival, OpGenerator, WorkloadConfig};
use rand::Rng;
use sim_core::history::Outcome;
use sim_core::{Context, NodeId, Protocol, SimDuration, TimerId};
use std::sync::Arc;

/// What a client carries from one response to its next requests, for
/// the protocols that ask for it (primary-backup): the highest epoch it
/// has heard of, a fencing token that a server of an older epoch must
/// refuse, and its session position, the log position its last write or
/// read reached, which a backup must have applied before it serves the
/// client (read-your-writes, monotonic reads). Zero means "none"; the
/// protocols that ignore tokens never see anything else.
///
/// Why 32 bits each: every client request carries a token, and the request
/// is the largest message of every key-value protocol; see `ClientRequest`.
/// A log holds at most `LOG_ENTRIES_MAX` entries, and epochs past four
/// billion would take longer runs than any limit allows; `Token::at`
/// saturates all the same.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Token {
    pub epoch: u32,
    pub position: u32,
}

impl Token {
    /// The token of `epoch` and `position`, each saturated at `u32::MAX`.
    pub fn at(epoch: u64, position: u64) -> Token {
        let narrow = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        Token {
            epoch: narrow(epoch),
            position: narrow(position),
        }
    }

    pub fn is_none(&self) -> bool {
        *self == Token::default()
    }

    /// The later of two tokens, field by field.
    pub fn max(self, other: Token) -> Token {
        Token {
            epoch: self.epoch.max(other.epoch),
            position: self.position.max(other.position),
        }
    }
}

/// A client's call, as sent to a server.
///
/// Its size is watched: it is the largest message of every key-value
/// protocol, so it sizes every engine event of theirs, and an event past
/// 128 bytes is moved through the event heap by `memmove` calls instead
/// of a few register moves (a token of two u64s with a u64 client number
/// cost a sweep of short KvSingle runs 7%). Hence the u32 client number
/// (at most `CLIENTS_MAX`) and the 32-bit token: 96 bytes, as before tokens.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientRequest {
    /// The client's process number (dense, from 0); the deduplication key.
    pub client: u32,
    pub seq: u64,
    /// Which attempt of operation `seq` this is, echoed in the response.
    pub attempt: u32,
    pub op: KvOp,
    /// The client's epoch and session position (`Token`); none for the
    /// protocols that do not use them.
    #[serde(default, skip_serializing_if = "Token::is_none")]
    pub token: Token,
}

/// Why by hand: a request without a token hashes (and so traces) as it did
/// before tokens existed, so the runs of protocols that never use them keep
/// their trace hashes.
impl std::hash::Hash for ClientRequest {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As the u64 it was, so that traces keep their hashes.
        u64::from(self.client).hash(state);
        self.seq.hash(state);
        self.attempt.hash(state);
        self.op.hash(state);
        if !self.token.is_none() {
            self.token.hash(state);
        }
    }
}

impl ClientRequest {
    /// The response to this request (this attempt) carrying `reply`.
    pub fn answer(&self, reply: ClientReply) -> ClientResponse {
        ClientResponse {
            seq: self.seq,
            attempt: self.attempt,
            reply,
            token: Token::default(),
            context: CausalContext::NONE,
        }
    }

    /// As `answer`, telling the client the server's epoch and the position
    /// the operation reached.
    pub fn answer_with(&self, reply: ClientReply, token: Token) -> ClientResponse {
        ClientResponse {
            token,
            ..self.answer(reply)
        }
    }
}

/// A server's answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClientReply {
    /// The operation was applied (or, for a get, served) with this result.
    Result(KvResult),
    /// This server does not serve requests; try `hint` if given. Not applied.
    NotLeader { hint: Option<NodeId> },
    /// The server refused the request. Not applied.
    Unavailable,
}

impl ClientReply {
    /// Heap bytes its strings hold (for the run's memory budget).
    pub fn heap_bytes(&self) -> usize {
        match self {
            ClientReply::Result(result) => result.heap_bytes(),
            ClientReply::NotLeader { .. } | ClientReply::Unavailable => 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientResponse {
    pub seq: u64,
    /// The attempt answered. A refusal counts only for the attempt it
    /// answers: a late or duplicated refusal of an earlier attempt must not
    /// cancel the wait for a later one, which may have been applied.
    pub attempt: u32,
    pub reply: ClientReply,
    /// The server's epoch and the position the operation reached (none
    /// for protocols without tokens).
    pub token: Token,
    /// What the operation saw or wrote of its key's history (version
    /// vectors); the client sends it back with its next write of the key.
    pub context: CausalContext,
}

/// By hand for the same reason as `ClientRequest`'s.
impl std::hash::Hash for ClientResponse {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.seq.hash(state);
        self.attempt.hash(state);
        self.reply.hash(state);
        if !self.token.is_none() {
            self.token.hash(state);
        }
        self.context.hash(state);
    }
}

/// How a protocol's clients address reads and what they carry, as its
/// plug-in says (`Plugin::client_routing`). The default sends every
/// operation to the server the client believes leads, carrying no session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientRouting {
    /// Reads go to a server drawn at random among the others than the one
    /// the client believes leads (reads from backups, stale by design).
    pub reads_to_followers: bool,
    /// Requests carry the client's session position; without it they carry
    /// position 0, so a server cannot tell what the client has seen.
    pub session: bool,
    /// Attempts go to the server that answered the client last, and to
    /// one drawn at random when it stops answering, as through a load
    /// balancer with health checks (leaderless stores, where any server
    /// coordinates).
    pub spread: bool,
    /// With `spread`: every operation, and every attempt, to a server
    /// drawn at random, never the one that answered last.
    pub draw_each_operation: bool,
    /// Home servers: client `c` sends every attempt to server
    /// `(c mod homes) × home_stride` and to no other, even when it stops
    /// answering (a multi-leader store's regions: a client writes to its
    /// own region's leader). 0: no homes.
    pub homes: u32,
    /// With `homes`: the distance between two home servers' ids.
    pub home_stride: u32,
    /// Every attempt goes to the client node's own agent, locally
    /// (`cluster.rs`), which does the work with the servers (a client that
    /// coordinates its own transactions). Set by the cluster when its
    /// service runs agents.
    pub local_agent: bool,
}

impl ClientRouting {
    /// Every operation to the server the client believes leads, no session.
    pub fn to_leader() -> ClientRouting {
        ClientRouting::default()
    }

    /// Reads to the others than the believed leader (see `reads_to_followers`).
    pub fn with_reads_to_followers(self) -> ClientRouting {
        ClientRouting {
            reads_to_followers: true,
            ..self
        }
    }

    /// Requests carry the client's session position (see `session`).
    pub fn with_session(self) -> ClientRouting {
        ClientRouting {
            session: true,
            ..self
        }
    }

    /// Every attempt to the client's home server (see `homes`).
    pub fn with_homes(self, homes: u32, home_stride: u32) -> ClientRouting {
        assert!(
            homes > 0 && home_stride > 0,
            "homes {homes} stride {home_stride}"
        );
        ClientRouting {
            homes,
            home_stride,
            ..self
        }
    }

    /// The home server of client `client` (see `homes`), if it has one.
    pub fn home_of(&self, client: u64) -> Option<NodeId> {
        (self.homes > 0).then(|| {
            let home = (client % u64::from(self.homes)) as u32 * self.home_stride;
            NodeId(home)
        })
    }

    /// Every attempt to the node's own agent (see `local_agent`).
    pub fn with_local_agent(self) -> ClientRouting {
        ClientRouting {
            local_agent: true,
            ..self
        }
    }

    /// Attempts spread over the servers (see `spread`).
    pub fn spread(self) -> ClientRouting {
        ClientRouting {
            spread: true,
            ..self
        }
    }
}

/// What a client reports for the history.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientEvent {
    Invoke {
        client: u64,
        op: KvOp,
    },
    Complete {
        client: u64,
        outcome: Outcome,
        result: Option<KvResult>,
    },
    /// An open-loop arrival found the client busy and was dropped.
    Shed {
        client: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClientTimer {
    /// Time to start the next operation.
    Issue,
    /// The attempt `attempt` of operation `seq` got no reply in time.
    AttemptTimeout { seq: u64, attempt: u32 },
    /// Back-off is over: send the next attempt of `seq`.
    Retry { seq: u64 },
    /// Operation `seq` has run out of time.
    Deadline { seq: u64 },
}

/// How a protocol's own message, timer and output types carry the client's.
pub trait ClientWire: Protocol {
    fn request_message(request: ClientRequest) -> Self::Message;
    fn client_timer(timer: ClientTimer) -> Self::Timer;
    fn client_output(event: ClientEvent) -> Self::Output;
}

#[derive(Debug)]
struct InFlight {
    seq: u64,
    op: KvOp,
    attempt: u32,
    attempt_timer: Option<TimerId>,
    deadline_timer: TimerId,
    /// An attempt timed out, so the operation may have been applied.
    maybe_applied: bool,
}

/// Retries of one operation at most (besides the deadline).
pub const ATTEMPTS_MAX: u32 = 1_000;

/// One client process.
#[derive(Debug)]
pub struct ClientProcess {
    client: u64,
    servers: u32,
    config: Arc<WorkloadConfig>,
    generator: OpGenerator,
    next_seq: u64,
    issued: u64,
    in_flight: Option<InFlight>,
    leader_hint: Option<NodeId>,
    /// Round-robin cursor over servers when no leader is known.
    cursor: u32,
    routing: ClientRouting,
    /// The latest epoch and position the client's responses reported.
    token: Token,
    /// Per key, the causal context its latest response carried (at most
    /// one per workload key); sent with the next write of the key.
    contexts: std::collections::BTreeMap<String, CausalContext>,
    /// With `ClientRouting::local_agent`: the attempt for the node's own
    /// agent, until the cluster hands it over.
    /// Boxed: it is there only with agents, and a client node's size is
    /// every node's (see `ClientRequest`).
    local_request: Option<Box<ClientRequest>>,
}

impl ClientProcess {
    pub fn new(
        client: u64,
        servers: u32,
        config: Arc<WorkloadConfig>,
        routing: ClientRouting,
    ) -> Self {
        assert!(servers > 0, "a client needs at least one server");
        ClientProcess {
            client,
            servers,
            config,
            generator: OpGenerator::new(),
            next_seq: 1,
            issued: 0,
            in_flight: None,
            leader_hint: None,
            cursor: 0,
            routing,
            token: Token::default(),
            contexts: std::collections::BTreeMap::new(),
            local_request: None,
        }
    }

    /// The attempt waiting for the node's own agent, if any (see
    /// `ClientRouting::local_agent`).
    pub fn take_local_request(&mut self) -> Option<ClientRequest> {
        debug_assert!(self.local_request.is_none() || self.routing.local_agent);
        self.local_request.take().map(|request| *request)
    }

    /// Heap bytes this client holds: the operation in flight and the
    /// values it last saw per key (for the run's memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.in_flight.as_ref().map_or(0, |f| f.op.heap_bytes())
            + self.generator.heap_bytes()
            + self
                .contexts
                .iter()
                .map(|(k, c)| k.capacity() + c.heap_bytes() + 48)
                .sum::<usize>()
    }

    pub fn on_start<P: ClientWire>(&mut self, ctx: &mut Context<'_, P>) {
        self.cursor = ctx.rng().random_range(0..self.servers);
        let first = self.next_gap(ctx);
        ctx.set_timer(first, P::client_timer(ClientTimer::Issue));
    }

    pub fn on_timer<P: ClientWire>(&mut self, ctx: &mut Context<'_, P>, timer: ClientTimer) {
        match timer {
            ClientTimer::Issue => self.on_issue(ctx),
            ClientTimer::AttemptTimeout { seq, attempt } => {
                let Some(flight) = self
                    .in_flight
                    .as_mut()
                    .filter(|f| f.seq == seq && f.attempt == attempt)
                else {
                    return;
                };
                flight.maybe_applied = true;
                flight.attempt_timer = None;
                // The server we tried may be dead or cut off: forget it.
                self.leader_hint = None;
                self.cursor = (self.cursor + 1) % self.servers;
                self.back_off(ctx);
            }
            ClientTimer::Retry { seq } => {
                if self.in_flight.as_ref().is_some_and(|f| f.seq == seq) {
                    self.send_attempt(ctx);
                }
            }
            ClientTimer::Deadline { seq } => {
                if let Some(flight) = self.in_flight.as_ref().filter(|f| f.seq == seq) {
                    // An attempt still awaiting its reply may have been
                    // applied too, not only one that timed out.
                    let in_doubt = flight.maybe_applied || flight.attempt_timer.is_some();
                    let outcome = if in_doubt {
                        Outcome::Info
                    } else {
                        Outcome::Fail
                    };
                    self.complete(ctx, outcome, None);
                }
            }
        }
    }

    pub fn on_response<P: ClientWire>(
        &mut self,
        ctx: &mut Context<'_, P>,
        from: NodeId,
        response: ClientResponse,
    ) {
        let Some(flight) = self.in_flight.as_mut().filter(|f| f.seq == response.seq) else {
            return; // A late or duplicated reply to an operation already finished.
        };
        self.token = self.token.max(response.token);
        if !response.context.is_none() {
            self.contexts
                .insert(flight.op.key().to_string(), response.context.clone());
        }
        match response.reply {
            ClientReply::Result(result) => {
                // A backup that served a read is no leader.
                if !(self.routing.reads_to_followers && flight.op.is_read()) {
                    self.leader_hint = Some(from);
                }
                let outcome = match result {
                    // An abort answers one attempt. If an earlier one timed
                    // out, it may have reached another coordinator and may
                    // still commit there: the operation is in doubt, not
                    // failed.
                    KvResult::Aborted if flight.maybe_applied => Outcome::Info,
                    KvResult::CasMismatch { .. } | KvResult::Aborted => Outcome::Fail,
                    _ => Outcome::Ok,
                };
                // An operation in doubt has no server's result.
                let result = (outcome != Outcome::Info).then_some(result);
                self.complete(ctx, outcome, result);
            }
            ClientReply::NotLeader { .. } | ClientReply::Unavailable
                if response.attempt != flight.attempt || flight.attempt_timer.is_none() =>
            {
                // A refusal of an earlier attempt (late or duplicated), or
                // of one that already timed out: the current attempt's
                // fate is still open.
            }
            ClientReply::NotLeader { hint } => {
                if let Some(timer) = flight.attempt_timer.take() {
                    ctx.cancel_timer(timer);
                }
                self.leader_hint = hint.filter(|h| h.0 < self.servers && *h != from);
                if self.leader_hint.is_none() {
                    self.cursor = (self.cursor + 1) % self.servers;
                }
                self.back_off(ctx);
            }
            ClientReply::Unavailable => {
                if let Some(timer) = flight.attempt_timer.take() {
                    ctx.cancel_timer(timer);
                }
                self.leader_hint = None;
                self.cursor = (self.cursor + 1) % self.servers;
                self.back_off(ctx);
            }
        }
    }

    fn next_gap<P: ClientWire>(&mut self, ctx: &mut Context<'_, P>) -> SimDuration {
        match &self.config.arrival {
            Arrival::Closed { think } => think.sample(ctx.rng()),
            Arrival::Open { rate_per_s } => {
                // Exponential inter-arrival gap by inversion; 1 - u avoids ln(0).
                let u: f64 = ctx.rng().random();
                let gap_s = -(1.0 - u).ln() / rate_per_s;
                SimDuration::from_nanos((gap_s * 1e9).min(3.6e12) as u64)
            }
        }
    }

    fn on_issue<P: ClientWire>(&mut self, ctx: &mut Context<'_, P>) {
        let stopped = ctx.now().saturating_since(sim_core::LocalTime::default())
            >= self.config.stop_after
            || self.issued >= self.config.ops_per_client_max;
        if stopped {
            return;
        }
        let open = matches!(self.config.arrival, Arrival::Open { .. });
        if self.in_flight.is_some() {
            debug_assert!(open, "a closed-loop client issues only when idle");
            ctx.output(P::client_output(ClientEvent::Shed {
                client: self.client,
            }));
        } else {
            self.issue(ctx);
        }
        if open {
            let gap = self.next_gap(ctx);
            ctx.set_timer(gap, P::client_timer(ClientTimer::Issue));
        }
    }

    fn issue<P: ClientWire>(&mut self, ctx: &mut Context<'_, P>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.issued += 1;
        let mut op = self
            .generator
            .next(&self.config, self.client, seq, ctx.rng());
        if let KvOp::Put { key, context, .. } = &mut op {
            if let Some(seen) = self.contexts.get(key.as_str()) {
                *context = seen.clone();
            }
        }
        ctx.output(P::client_output(ClientEvent::Invoke {
            client: self.client,
            op: op.clone(),
        }));
        let deadline_timer = ctx.set_timer(
            self.config.op_timeout,
            P::client_timer(ClientTimer::Deadline { seq }),
        );
        self.in_flight = Some(InFlight {
            seq,
            op,
            attempt: 0,
            attempt_timer: None,
            deadline_timer,
            maybe_applied: false,
        });
        self.send_attempt(ctx);
    }

    fn send_attempt<P: ClientWire>(&mut self, ctx: &mut Context<'_, P>) {
        if self.routing.local_agent {
            self.send_attempt_to_agent(ctx);
            return;
        }
        let leader = self.leader_hint.unwrap_or(NodeId(self.cursor));
        let is_read = self.in_flight.as_ref().is_some_and(|f| f.op.is_read());
        let target = if let Some(home) = self.routing.home_of(self.client) {
            debug_assert!(
                home.0 < self.servers,
                "home {home} of {} servers",
                self.servers
            );
            home
        } else if self.routing.spread && self.routing.draw_each_operation {
            NodeId(ctx.rng().random_range(0..self.servers))
        } else if self.routing.spread {
            // The server that answered last, as long as it answers; else
            // one drawn at random (a load balancer with health checks).
            match self.leader_hint {
                Some(server) => server,
                None => NodeId(ctx.rng().random_range(0..self.servers)),
            }
        } else if self.routing.reads_to_followers && is_read && self.servers > 1 {
            // Uniform among the servers other than the believed leader.
            let pick = ctx.rng().random_range(0..self.servers - 1);
            NodeId(if pick >= leader.0 { pick + 1 } else { pick })
        } else {
            leader
        };
        let token = Token {
            epoch: self.token.epoch,
            position: if self.routing.session {
                self.token.position
            } else {
                0
            },
        };
        let request = self.next_attempt(token);
        ctx.send(target, P::request_message(request));
        self.arm_attempt_timer(ctx);
    }

    /// Leaves the next attempt for the node's own agent: no network hop, and
    /// no server to choose (the agent chooses whom to ask).
    fn send_attempt_to_agent<P: ClientWire>(&mut self, ctx: &mut Context<'_, P>) {
        let request = self.next_attempt(Token::default());
        self.arm_attempt_timer(ctx);
        let earlier = self.local_request.replace(Box::new(request));
        debug_assert!(
            earlier.is_none(),
            "the cluster hands over each attempt at once"
        );
    }

    /// The next attempt of the operation in flight, carrying `token`.
    fn next_attempt(&mut self, token: Token) -> ClientRequest {
        let flight = self
            .in_flight
            .as_mut()
            .expect("an attempt belongs to an operation");
        flight.attempt += 1;
        ClientRequest {
            client: u32::try_from(self.client).expect("at most CLIENTS_MAX clients"),
            seq: flight.seq,
            attempt: flight.attempt,
            op: flight.op.clone(),
            token,
        }
    }

    /// Starts the timeout of the attempt just made.
    fn arm_attempt_timer<P: ClientWire>(&mut self, ctx: &mut Context<'_, P>) {
        let flight = self
            .in_flight
            .as_mut()
            .expect("an attempt belongs to an operation");
        let (seq, attempt) = (flight.seq, flight.attempt);
        let timer = ctx.set_timer(
            self.config.attempt_timeout,
            P::client_timer(ClientTimer::AttemptTimeout { seq, attempt }),
        );
        flight.attempt_timer = Some(timer);
    }

    /// Waits an exponentially growing, jittered time, then retries.
    fn back_off<P: ClientWire>(&mut self, ctx: &mut Context<'_, P>) {
        let flight = self.in_flight.as_ref().expect("backing off an operation");
        if flight.attempt >= ATTEMPTS_MAX {
            return; // The deadline will end it.
        }
        let exponent = flight.attempt.saturating_sub(1).min(20);
        let ceiling = self
            .config
            .backoff_base
            .checked_mul(1 << exponent)
            .unwrap_or(self.config.backoff_max)
            .min(self.config.backoff_max);
        // "Full jitter": uniform in [0, ceiling], so retrying clients spread out.
        let wait = SimDuration::from_nanos(ctx.rng().random_range(0..=ceiling.as_nanos()));
        let seq = flight.seq;
        ctx.set_timer(wait, P::client_timer(ClientTimer::Retry { seq }));
    }

    fn complete<P: ClientWire>(
        &mut self,
        ctx: &mut Context<'_, P>,
        outcome: Outcome,
        result: Option<KvResult>,
    ) {
        let flight = self
            .in_flight
            .take()
            .expect("completing an operation in flight");
        if let Some(timer) = flight.attempt_timer {
            ctx.cancel_timer(timer);
        }
        ctx.cancel_timer(flight.deadline_timer);
        match (&flight.op, &result) {
            (KvOp::Get { key }, Some(KvResult::Value(v))) => self.generator.saw(key, v),
            (KvOp::Put { key, value, .. }, Some(KvResult::Done)) => self.generator.saw(key, value),
            (KvOp::Cas { key, new, .. }, Some(KvResult::Done)) => self.generator.saw(key, new),
            (KvOp::Cas { key, .. }, Some(KvResult::CasMismatch { current })) => {
                self.generator.saw(key, current)
            }
            _ => {}
        }
        ctx.output(P::client_output(ClientEvent::Complete {
            client: self.client,
            outcome,
            result,
        }));
        if matches!(self.config.arrival, Arrival::Closed { .. }) {
            let gap = self.next_gap(ctx);
            ctx.set_timer(gap, P::client_timer(ClientTimer::Issue));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// See `ClientRequest`: past 96 bytes its events cross 128.
    #[test]
    fn a_client_request_stays_at_96_bytes() {
        assert_eq!(std::mem::size_of::<ClientRequest>(), 96);
    }
}
