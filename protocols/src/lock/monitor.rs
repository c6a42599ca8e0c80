//! The lock's invariants and metrics, judged in true time.
//!
//! - `mutual-exclusion`: two holders never use the protected resource at
//!   once. A holder's use runs from its first accepted access (its read)
//!   to its last (its write); if the resource accepts an access of a
//!   holder that already used it, after another client's grant used it
//!   in between, the two uses overlapped: the first holder read, the
//!   second read and perhaps wrote, and the first writes back a value
//!   computed before. This is "two writes from holders whose hold periods
//!   overlap", counted where it does harm: a zombie whose write lands
//!   after the next holder's accesses. With fencing the newer holder's
//!   read raises the resource's token, and the zombie's write is refused.
//! - `fenced-writes-ordered`: the resource never accepts a write under a
//!   lower token after one under a higher token, where the design's
//!   tokens are meant to be ordered (not Redlock's, whose independent
//!   counters order nothing). Fencing makes it hold; without fencing it
//!   shows what fencing would have refused.
//! - `fencing-tokens-increase`: where the design promises it (a single
//!   server, or a primary and its standby), every new grant's token is
//!   larger than every earlier one's. A failover that lost a grant, or a
//!   counter that restarts, breaks it. A consensus-replicated lock
//!   promises the log's order: each replica's grants, as it applies them,
//!   carry increasing tokens (a replica that restarts applies the log
//!   again from its start).
//! - With the `Consensus` design, Raft's own invariants too (election
//!   safety, log matching, leader completeness, state machine safety),
//!   judged by the Raft monitor from the lock servers' Raft events.
//!
//! Metrics: the acquisition latency (from a client's start to its entry,
//! true time), the critical sections completed per second (writes
//! accepted over the run's length, one sample per run), how long the lock stayed unavailable after its holder
//! crashed (until another client entered: about the TTL), and counts of
//! acquisitions, give-ups, writes accepted and refused, and zombie writes
//! attempted and accepted (the accepted ones also as one sample per run,
//! `zombie_writes_per_run`, which a sweep charts per group). A zombie write is one under a grant older than
//! another client's newer grant.

use super::messages::LockEvent;
use crate::invariant::{
    push_sample, Monitor, MutexHistory, ProtocolMetrics, Violation, VIOLATIONS_AT_FINISH_MAX,
};
use crate::raft::monitor::{
    RaftMonitor, ELECTION_SAFETY, LEADER_COMPLETENESS, LOG_MATCHING, STATE_MACHINE_SAFETY,
};
use sim_core::history::edn::Edn;
use sim_core::history::jepsen::JepsenOp;
use sim_core::history::Outcome;
use sim_core::{NodeId, SimTime};
use std::collections::{BTreeMap, VecDeque};

/// Operations of the lock's own history kept at most; past it the
/// history is cut and the `mutex` check answers unknown.
pub const MUTEX_OPS_MAX: usize = 100_000;
const PROCESS_STRIDE: u64 = MutexHistory::PROCESS_STRIDE;

/// Grants remembered per client, newest last: an access under an older
/// one (a message delayed past this many of its sender's acquisitions)
/// is counted as a zombie's but cannot be judged for overlap.
pub const GRANTS_PER_CLIENT_MAX: usize = 16;

#[derive(Clone, Copy, Debug)]
struct Grant {
    attempt: u64,
    acquired_at: SimTime,
    /// The resource accepted an access under it.
    used: bool,
}

#[derive(Clone, Copy, Debug)]
struct Use {
    client: NodeId,
    attempt: u64,
    token: u64,
    at: SimTime,
}

#[derive(Debug, Default)]
pub struct LockMonitor {
    grants: BTreeMap<NodeId, VecDeque<Grant>>,
    /// Clients in their critical section, with the attempt they hold.
    holding: BTreeMap<NodeId, u64>,
    /// The latest grant entered: (client, when).
    latest: Option<(NodeId, SimTime)>,
    /// The last accepted access.
    last_use: Option<Use>,
    highest_written: Option<(u64, NodeId)>,
    highest_granted: Option<(u64, NodeId)>,
    /// Consensus: per replica, the highest token it applied a grant under
    /// since it last started, and the client.
    replica_granted: BTreeMap<NodeId, Option<(u64, NodeId)>>,
    acquire_started: BTreeMap<NodeId, SimTime>,
    holder_crashed_at: Option<SimTime>,
    acquire_latency_ms: Vec<f64>,
    unavailable_after_crash_ms: Vec<f64>,
    acquisitions: u64,
    gave_up: u64,
    releases: u64,
    too_little_validity: u64,
    writes_accepted: u64,
    writes_refused: u64,
    zombie_writes_attempted: u64,
    zombie_writes_accepted: u64,
    failovers: u64,
    /// Violations found on an event that already reported one (one event,
    /// one verdict): reported at the end.
    pending: Vec<Violation>,
    /// The lock's own history (`ProtocolMetrics::mutex_history`).
    mutex: MutexRecorder,
    /// Critical sections completed (writes accepted) per second of the
    /// run, known at its end.
    throughput_per_s: Option<f64>,
    /// How many nodes the run has (the Raft monitor's size).
    nodes: u32,
    /// Raft's invariants, made at the first Raft event (Consensus only).
    raft: Option<Box<RaftMonitor>>,
}

/// Records the clients' acquires and releases as Jepsen operations: an
/// acquire from its start to its entry (ok), its give-up (fail) or its
/// client's crash (unknown); a release at the instant the client lets go
/// (it does not wait for an answer, so the lock may free it later, which
/// is within any later acquire's interval). A holder that crashes
/// releases by expiry some time after: an unknown release from the crash.
#[derive(Debug, Default)]
struct MutexRecorder {
    ops: Vec<JepsenOp>,
    cut: u64,
    /// Each client's acquire in progress, by index into `ops`.
    open: BTreeMap<NodeId, usize>,
    /// How many times each client went on as a new process.
    renamed: BTreeMap<NodeId, u64>,
}

impl MutexRecorder {
    fn process(&self, node: NodeId) -> u64 {
        u64::from(node.0) + self.renamed.get(&node).copied().unwrap_or(0) * PROCESS_STRIDE
    }

    fn push(
        &mut self,
        node: NodeId,
        f: &str,
        at: SimTime,
        outcome: Option<Outcome>,
    ) -> Option<usize> {
        if self.ops.len() == MUTEX_OPS_MAX {
            self.cut += 1;
            return None;
        }
        let ns = at.as_nanos();
        self.ops.push(JepsenOp {
            process: self.process(node),
            f: f.to_string(),
            outcome: outcome.unwrap_or(Outcome::Info),
            invoke_value: Edn::Nil,
            complete_value: Edn::Nil,
            invoke_ns: ns,
            complete_ns: outcome.filter(|o| *o != Outcome::Info).map(|_| ns),
            line: self.ops.len() + 1,
        });
        Some(self.ops.len() - 1)
    }

    fn started(&mut self, node: NodeId, at: SimTime) {
        if let Some(index) = self.push(node, "acquire", at, None) {
            self.open.insert(node, index);
        }
    }

    /// The client's acquire in progress ends: ok or fail at `at`.
    fn ended(&mut self, node: NodeId, at: SimTime, outcome: Outcome) {
        debug_assert_ne!(outcome, Outcome::Info);
        if let Some(index) = self.open.remove(&node) {
            let op = &mut self.ops[index];
            op.outcome = outcome;
            op.complete_ns = Some(at.as_nanos());
            debug_assert!(op.invoke_ns <= at.as_nanos());
        }
    }

    fn released(&mut self, node: NodeId, at: SimTime) {
        self.push(node, "release", at, Some(Outcome::Ok));
    }

    /// The client crashed: its acquire in progress stays unknown, a lock
    /// it held is released by expiry later (unknown, from now), and it
    /// goes on as a new process.
    fn crashed(&mut self, node: NodeId, at: SimTime, held: bool) {
        let open = self.open.remove(&node).is_some();
        if held {
            self.push(node, "release", at, None);
        }
        if open || held {
            *self.renamed.entry(node).or_default() += 1;
        }
    }

    fn history(&self) -> MutexHistory {
        MutexHistory {
            ops: self.ops.clone(),
            cut: self.cut,
        }
    }
}

fn ms(d: sim_core::SimDuration) -> f64 {
    d.as_millis_f64()
}

impl LockMonitor {
    fn grant(&self, client: NodeId, attempt: u64) -> Option<&Grant> {
        self.grants
            .get(&client)?
            .iter()
            .find(|g| g.attempt == attempt)
    }

    fn on_acquired(&mut self, time: SimTime, client: NodeId, attempt: u64) {
        self.acquisitions += 1;
        if let Some(started) = self.acquire_started.remove(&client) {
            push_sample(
                &mut self.acquire_latency_ms,
                ms(time.saturating_since(started)),
            );
        }
        if let Some(crashed) = self.holder_crashed_at.take() {
            push_sample(
                &mut self.unavailable_after_crash_ms,
                ms(time.saturating_since(crashed)),
            );
        }
        let grants = self.grants.entry(client).or_default();
        if grants.len() == GRANTS_PER_CLIENT_MAX {
            grants.pop_front();
        }
        grants.push_back(Grant {
            attempt,
            acquired_at: time,
            used: false,
        });
        self.holding.insert(client, attempt);
        self.latest = Some((client, time));
    }

    fn on_access(&mut self, time: SimTime, access: &LockEvent) -> Option<Violation> {
        let LockEvent::Access {
            client,
            attempt,
            token,
            write,
            accepted,
            ordered,
            ..
        } = *access
        else {
            unreachable!("only accesses come here");
        };
        let grant = self.grant(client, attempt).copied();
        // Another client entered under a newer grant than this one.
        let zombie = match (grant, self.latest) {
            (Some(g), Some((newest, at))) => newest != client && at > g.acquired_at,
            (None, _) => true,
            (Some(_), None) => false,
        };
        if write {
            if zombie {
                self.zombie_writes_attempted += 1;
                self.zombie_writes_accepted += u64::from(accepted);
            }
            if accepted {
                self.writes_accepted += 1;
            } else {
                self.writes_refused += 1;
            }
        }
        if !accepted {
            return None;
        }
        let mut out_of_order = None;
        if write && ordered {
            if let Some((highest, by)) = self.highest_written {
                if token < highest {
                    out_of_order = Violation::at(
                        "fenced-writes-ordered",
                        time,
                        Some(client),
                        format!("the resource accepted {client}'s write under token {token} after {by}'s under token {highest}: fencing would have refused it"),
                    );
                }
            }
            if self.highest_written.is_none_or(|(h, _)| token > h) {
                self.highest_written = Some((token, client));
            }
        }
        let mut violation = None;
        if let (Some(g), Some(last)) = (grant, self.last_use) {
            if g.used && last.client != client {
                let what = if write { "write" } else { "read" };
                let other = self.grant(last.client, last.attempt);
                let zombie = if other.is_some_and(|o| o.acquired_at > g.acquired_at) {
                    format!(
                        "{client}'s grant (entered at {}) is the older: the zombie",
                        g.acquired_at
                    )
                } else {
                    format!("{}'s grant is the older: the zombie", last.client)
                };
                violation = Violation::at(
                    "mutual-exclusion",
                    time,
                    Some(client),
                    format!(
                        "{client}'s {what} under token {token} was accepted at {time}, after {}'s access under token {} at {}, though {client} had used the resource before that: two holders used it at once ({zombie})",
                        last.client, last.token, last.at
                    ),
                );
            }
        }
        if let Some(g) = self
            .grants
            .get_mut(&client)
            .and_then(|gs| gs.iter_mut().find(|g| g.attempt == attempt))
        {
            g.used = true;
        }
        self.last_use = Some(Use {
            client,
            attempt,
            token,
            at: time,
        });
        match (violation, out_of_order) {
            (Some(first), Some(second)) => {
                if self.pending.len() < VIOLATIONS_AT_FINISH_MAX {
                    self.pending.push(second);
                }
                Some(first)
            }
            (first, second) => first.or(second),
        }
    }

    /// A replica applied a grant: its token must exceed the ones this
    /// replica applied before.
    fn on_replica_granted(
        &mut self,
        time: SimTime,
        node: NodeId,
        client: NodeId,
        token: u64,
    ) -> Option<Violation> {
        let slot = self.replica_granted.entry(node).or_default();
        let (highest, to) = raise_token(slot, token, client)?;
        Violation::at(
            "fencing-tokens-increase",
            time,
            Some(node),
            format!("{node} applied a grant of the lock to {client} under token {token} after one to {to} under token {highest}: tokens must follow the log, or an old holder's writes get in"),
        )
    }

    fn on_granted(
        &mut self,
        time: SimTime,
        node: NodeId,
        client: NodeId,
        token: u64,
    ) -> Option<Violation> {
        let (highest, to) = raise_token(&mut self.highest_granted, token, client)?;
        Violation::at(
            "fencing-tokens-increase",
            time,
            Some(node),
            format!("{node} granted the lock to {client} under token {token}, but {to} was granted token {highest} before: a fencing token that does not increase lets an old holder's writes in"),
        )
    }
}

/// Records a grant to `client` under `token` against the highest token
/// so far, keeping the larger. Returns that highest (and its client) when
/// `token` does not exceed it: a token that did not increase.
fn raise_token(
    highest: &mut Option<(u64, NodeId)>,
    token: u64,
    client: NodeId,
) -> Option<(u64, NodeId)> {
    match *highest {
        Some((h, to)) if token <= h => Some((h, to)),
        _ => {
            *highest = Some((token, client));
            None
        }
    }
}

impl Monitor<LockEvent> for LockMonitor {
    const INVARIANTS: &'static [&'static str] = &[
        "mutual-exclusion",
        "fenced-writes-ordered",
        "fencing-tokens-increase",
        ELECTION_SAFETY,
        LOG_MATCHING,
        LEADER_COMPLETENESS,
        STATE_MACHINE_SAFETY,
    ];

    fn new(nodes: u32) -> Self {
        LockMonitor {
            nodes,
            ..LockMonitor::default()
        }
    }

    fn observe(&mut self, time: SimTime, node: NodeId, event: &LockEvent) -> Option<Violation> {
        match *event {
            LockEvent::AcquireStarted => {
                self.acquire_started.insert(node, time);
                self.mutex.started(node, time);
                None
            }
            LockEvent::Acquired { attempt, .. } => {
                self.on_acquired(time, node, attempt);
                self.mutex.ended(node, time, Outcome::Ok);
                None
            }
            LockEvent::GaveUp => {
                self.gave_up += 1;
                self.acquire_started.remove(&node);
                self.mutex.ended(node, time, Outcome::Fail);
                None
            }
            LockEvent::TooLittleValidity => {
                // Granted, and let go at once: its work would not fit.
                self.too_little_validity += 1;
                self.mutex.ended(node, time, Outcome::Ok);
                self.mutex.released(node, time);
                None
            }
            LockEvent::Released { attempt } => {
                self.releases += 1;
                self.mutex.released(node, time);
                if self.holding.get(&node) == Some(&attempt) {
                    self.holding.remove(&node);
                }
                None
            }
            LockEvent::Granted {
                client,
                token,
                monotonic,
            } => {
                if monotonic {
                    self.on_granted(time, node, client, token)
                } else {
                    None
                }
            }
            LockEvent::Promoted { .. } => {
                self.failovers += 1;
                None
            }
            LockEvent::Access { .. } => self.on_access(time, event),
            LockEvent::ReplicaGranted { client, token } => {
                self.on_replica_granted(time, node, client, token)
            }
            LockEvent::Raft(ref raft) => {
                // Sized by every node: the lock servers are ids 0..n and
                // the others never report a Raft event.
                let nodes = self.nodes;
                self.raft
                    .get_or_insert_with(|| Box::new(RaftMonitor::new(nodes)))
                    .observe(time, node, raft)
            }
        }
    }

    fn node_crashed(&mut self, time: SimTime, node: NodeId) {
        self.acquire_started.remove(&node);
        let held = self.holding.remove(&node).is_some();
        if held && self.holder_crashed_at.is_none() {
            self.holder_crashed_at = Some(time);
        }
        self.mutex.crashed(node, time, held);
        // A replica starts the log again from its start.
        self.replica_granted.remove(&node);
        if let Some(raft) = self.raft.as_mut() {
            raft.node_crashed(time, node);
        }
    }

    fn finish(&mut self, time: SimTime) -> Vec<Violation> {
        let seconds = time.as_secs_f64();
        if seconds > 0.0 {
            self.throughput_per_s = Some(self.writes_accepted as f64 / seconds);
        }
        std::mem::take(&mut self.pending)
    }

    fn metrics(&self) -> ProtocolMetrics {
        ProtocolMetrics {
            samples: vec![
                ("acquire_latency_ms", self.acquire_latency_ms.clone()),
                (
                    "unavailable_after_crash_ms",
                    self.unavailable_after_crash_ms.clone(),
                ),
                // One sample per run, so that a sweep draws the zombie
                // risk per group (its mean, its worst run) beside the
                // unavailability: the TTL's trade-off.
                (
                    "zombie_writes_per_run",
                    vec![self.zombie_writes_accepted as f64],
                ),
                (
                    "critical_sections_per_s",
                    self.throughput_per_s.into_iter().collect(),
                ),
            ],
            counts: vec![
                ("acquisitions", self.acquisitions),
                ("acquire_gave_up", self.gave_up),
                ("releases", self.releases),
                ("too_little_validity", self.too_little_validity),
                ("writes_accepted", self.writes_accepted),
                ("writes_refused", self.writes_refused),
                ("zombie_writes_attempted", self.zombie_writes_attempted),
                ("zombie_writes_accepted", self.zombie_writes_accepted),
                ("failovers", self.failovers),
            ],
            mutex_history: Some(self.mutex.history()),
            ..ProtocolMetrics::default()
        }
    }

    fn heap_bytes(&self) -> usize {
        let grants: usize = self.grants.values().map(|g| g.capacity() * 40 + 64).sum();
        grants
            + (self.holding.len() + self.acquire_started.len()) * 48
            + (self.acquire_latency_ms.capacity() + self.unavailable_after_crash_ms.capacity()) * 8
            // Each operation's `f` is one short string ("acquire").
            + self.mutex.ops.capacity() * (std::mem::size_of::<JepsenOp>() + 8)
            + self.raft.as_ref().map_or(0, |r| r.heap_bytes())
    }
}
