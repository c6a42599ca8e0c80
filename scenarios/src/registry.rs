//! The protocols a scenario can name, with their params, and the checks.
//!
//! One enum variant per implemented protocol: RON writes it as
//! `protocol: KvSingle(flush_interval: "5ms")`, and a misspelled protocol or
//! param is a deserialisation error with a position and a hint.

use crate::bully_spec::BullySpec;
use crate::commit_spec::CommitSpec;
use crate::duration::Dur;
use crate::raft_spec::RaftSpec;
use crate::ring_spec::RingSpec;
use crate::saga_spec::SagaSpec;
use protocols::kv_single::KvSingleParams;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ProtocolSpec {
    /// Servers ping random peers; no clients. The engine's hello-world.
    PingPong(PingPongSpec),
    /// A single-copy key-value store on the first server.
    KvSingle(KvSingleSpec),
    /// Raft driving a replicated key-value store.
    Raft(RaftSpec),
    /// Leader election on a ring (Chang–Roberts or LeLann); no clients.
    RingElection(RingSpec),
    /// Leader election by the Bully algorithm (fully connected); no clients.
    BullyElection(BullySpec),
    /// Two-phase commit of bank transfers across shards.
    TwoPhaseCommit(CommitSpec),
    /// Three-phase commit (Skeen) of bank transfers across shards.
    ThreePhaseCommit(CommitSpec),
    /// Orders as sagas (reserve, charge, ship), orchestrated or choreographed.
    Saga(SagaSpec),
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PingPongSpec {
    /// Bug switch: each pong makes the handler panic with this probability,
    /// to show how a sweep reports a crashing protocol.
    #[serde(default)]
    pub panic_probability: f64,
    /// Bug switch: peers are picked from process-wide state, not the node's
    /// stream, so two runs of one seed differ (`--check-determinism`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub peer_from_process_state: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KvSingleSpec {
    #[serde(default = "default_flush")]
    pub flush_interval: Dur,
    /// Bug switch: acknowledge writes before they are synced.
    #[serde(default)]
    pub ack_before_sync: bool,
}

fn default_flush() -> Dur {
    Dur(KvSingleParams::default().flush_interval)
}

impl Default for KvSingleSpec {
    fn default() -> Self {
        KvSingleSpec {
            flush_interval: default_flush(),
            ack_before_sync: false,
        }
    }
}

impl KvSingleSpec {
    pub fn params(&self) -> KvSingleParams {
        KvSingleParams {
            flush_interval: self.flush_interval.0,
            ack_before_sync: self.ack_before_sync,
        }
    }
}

/// What `faultline list` says about a protocol.
#[derive(Clone, Debug, Serialize)]
pub struct ProtocolInfo {
    pub name: &'static str,
    pub summary: &'static str,
    /// (param, default, meaning).
    pub params: Vec<(&'static str, String, &'static str)>,
    /// Params that switch on a known bug.
    pub bug_switches: Vec<&'static str>,
    pub serves_clients: bool,
    pub invariants: Vec<&'static str>,
}

impl ProtocolSpec {
    pub fn name(&self) -> &'static str {
        match self {
            ProtocolSpec::PingPong(_) => "PingPong",
            ProtocolSpec::KvSingle(_) => "KvSingle",
            ProtocolSpec::Raft(_) => "Raft",
            ProtocolSpec::RingElection(_) => "RingElection",
            ProtocolSpec::BullyElection(_) => "BullyElection",
            ProtocolSpec::TwoPhaseCommit(_) => "TwoPhaseCommit",
            ProtocolSpec::ThreePhaseCommit(_) => "ThreePhaseCommit",
            ProtocolSpec::Saga(_) => "Saga",
        }
    }

    /// Whether clients read and write registers, so that the history
    /// checkers (linearizability, session, convergence) apply.
    pub fn serves_registers(&self) -> bool {
        matches!(self, ProtocolSpec::KvSingle(_) | ProtocolSpec::Raft(_))
    }

    /// Whether clients send bank transfers (and nothing else).
    pub fn serves_transfers(&self) -> bool {
        self.commit().is_some()
    }

    /// The commit variant and its params' spec, for the commit protocols.
    pub fn commit(&self) -> Option<(protocols::commit::params::CommitVariant, &CommitSpec)> {
        use protocols::commit::params::CommitVariant;
        match self {
            ProtocolSpec::TwoPhaseCommit(spec) => Some((CommitVariant::TwoPhase, spec)),
            ProtocolSpec::ThreePhaseCommit(spec) => Some((CommitVariant::ThreePhase, spec)),
            _ => None,
        }
    }

    pub fn serves_clients(&self) -> bool {
        !matches!(
            self,
            ProtocolSpec::PingPong(_)
                | ProtocolSpec::RingElection(_)
                | ProtocolSpec::BullyElection(_)
        )
    }

    /// Whether the protocol elects a leader, so faults may name "@leader".
    /// (The commit coordinator counts as the leader.)
    pub fn has_leader(&self) -> bool {
        matches!(
            self,
            ProtocolSpec::Raft(_)
                | ProtocolSpec::RingElection(_)
                | ProtocolSpec::BullyElection(_)
                | ProtocolSpec::TwoPhaseCommit(_)
                | ProtocolSpec::ThreePhaseCommit(_)
                | ProtocolSpec::Saga(_)
        )
    }

    /// The invariant names this protocol checks as the run goes.
    pub fn invariants(&self) -> &'static [&'static str] {
        match self {
            ProtocolSpec::PingPong(_) => invariants_of::<protocols::pingpong::PingPongService>(),
            ProtocolSpec::KvSingle(_) => invariants_of::<protocols::kv_single::KvSingle>(),
            ProtocolSpec::Raft(_) => invariants_of::<protocols::raft::Raft>(),
            ProtocolSpec::RingElection(_) => invariants_of::<protocols::ring::RingElection>(),
            ProtocolSpec::BullyElection(_) => invariants_of::<protocols::bully::Bully>(),
            ProtocolSpec::TwoPhaseCommit(_) | ProtocolSpec::ThreePhaseCommit(_) => {
                invariants_of::<protocols::commit::AtomicCommit>()
            }
            ProtocolSpec::Saga(_) => invariants_of::<protocols::saga::Saga>(),
        }
    }

    pub fn validate(&self, servers: usize) -> Result<(), (String, String)> {
        match self {
            ProtocolSpec::PingPong(spec) => {
                let p = spec.panic_probability;
                if (0.0..=1.0).contains(&p) {
                    Ok(())
                } else {
                    Err((
                        "panic_probability".into(),
                        format!("must be a probability in [0, 1], got {p}"),
                    ))
                }
            }
            ProtocolSpec::KvSingle(spec) => spec.params().validate().map_err(|e| split_field(&e)),
            ProtocolSpec::Raft(spec) => {
                spec.params().validate(servers).map_err(|e| split_field(&e))
            }
            ProtocolSpec::RingElection(spec) => spec
                .params(servers)
                .validate(servers)
                .map_err(|e| split_field(&e)),
            ProtocolSpec::BullyElection(spec) => spec
                .params(servers)
                .validate(servers)
                .map_err(|e| split_field(&e)),
            ProtocolSpec::TwoPhaseCommit(spec) | ProtocolSpec::ThreePhaseCommit(spec) => {
                let (variant, _) = self.commit().expect("a commit protocol");
                // Accounts are validated with the workload.
                spec.params(variant, 0)
                    .validate(servers)
                    .map_err(|e| split_field(&e))
            }
            ProtocolSpec::Saga(spec) => spec
                .params(0)
                .validate(servers)
                .map_err(|e| split_field(&e)),
        }
    }
}

fn invariants_of<S: protocols::cluster::Service>() -> &'static [&'static str] {
    <S::Monitor as protocols::invariant::Monitor<S::Event>>::INVARIANTS
}

/// Splits "field: message" into its parts.
fn split_field(error: &str) -> (String, String) {
    match error.split_once(": ") {
        Some((field, message)) => (field.to_string(), message.to_string()),
        None => (String::new(), error.to_string()),
    }
}

/// Every protocol, for `faultline list`.
pub fn protocols() -> Vec<ProtocolInfo> {
    let kv = KvSingleSpec::default();
    vec![
        ProtocolInfo {
            name: "PingPong",
            summary: "servers keep one ping outstanding to a random peer; no clients",
            params: vec![
                (
                    "panic_probability",
                    "0.0".into(),
                    "BUG SWITCH: each pong panics the handler with this probability",
                ),
                (
                    "peer_from_process_state",
                    "false".into(),
                    "BUG SWITCH: pick peers from process-wide state, so two runs of one seed differ (caught by --check-determinism)",
                ),
            ],
            bug_switches: vec!["panic_probability", "peer_from_process_state"],
            serves_clients: false,
            invariants: ProtocolSpec::PingPong(PingPongSpec::default()).invariants().to_vec(),
        },
        ProtocolInfo {
            name: "KvSingle",
            summary: "single-copy key-value store on the first server, group-committed to durable storage",
            params: vec![
                ("flush_interval", format!("\"{}\"", kv.flush_interval), "how often the primary syncs; \"0s\" syncs every operation"),
                ("ack_before_sync", "false".into(), "BUG SWITCH: reply before the write is synced (lost writes after PowerLoss)"),
            ],
            bug_switches: vec!["ack_before_sync"],
            serves_clients: true,
            invariants: ProtocolSpec::KvSingle(KvSingleSpec::default()).invariants().to_vec(),
        },
        raft_info(),
        ring_info(),
        bully_info(),
        commit_info("TwoPhaseCommit"),
        commit_info("ThreePhaseCommit"),
        saga_info(),
    ]
}

fn saga_info() -> ProtocolInfo {
    let spec = SagaSpec::default();
    ProtocolInfo {
        name: "Saga",
        summary: "orders as sagas (reserve inventory, charge payment, ship; compensations on failure), orchestrated or choreographed; servers: orders, inventory, payment, shipping",
        params: vec![
            ("style", "Orchestration".into(), "Orchestration (a durable orchestrator) or Choreography (services react to events)"),
            ("initial_stock", spec.initial_stock.to_string(), "units of every item (the workload's keys) at the start"),
            ("initial_credit", spec.initial_credit.to_string(), "every customer's (client's) credit at the start"),
            ("unit_price", spec.unit_price.to_string(), "what one unit costs"),
            ("shipping_failure_probability", spec.shipping_failure_probability.to_string(), "shipping refuses an order with this probability"),
            ("retry_interval", format!("\"{}\"", spec.retry_interval), "unacknowledged commands and events are resent this often"),
            ("step_timeout", format!("\"{}\"", spec.step_timeout), "orchestration: a step unanswered this long is compensated"),
            ("skip_refund", "false".into(), "BUG SWITCH: a failed saga does not refund the payment"),
            ("no_dedup", "false".into(), "BUG SWITCH: services apply retried or duplicated commands again"),
        ],
        bug_switches: SagaSpec::BUG_SWITCHES.to_vec(),
        serves_clients: true,
        invariants: ProtocolSpec::Saga(spec).invariants().to_vec(),
    }
}

fn commit_info(name: &'static str) -> ProtocolInfo {
    let spec = CommitSpec::default();
    let (summary, protocol) = if name == "TwoPhaseCommit" {
        (
            "two-phase commit of bank transfers across shards (coordinator n1, shards n2..); blocks while the coordinator is down",
            ProtocolSpec::TwoPhaseCommit(spec.clone()),
        )
    } else {
        (
            "three-phase commit (Skeen) of bank transfers; a termination protocol finishes without the coordinator, but a partition can split the outcome",
            ProtocolSpec::ThreePhaseCommit(spec.clone()),
        )
    };
    ProtocolInfo {
        name,
        summary,
        params: vec![
            (
                "initial_balance",
                spec.initial_balance.to_string(),
                "every account's balance at the start (accounts are the workload's keys)",
            ),
            (
                "vote_timeout",
                format!("\"{}\"", spec.vote_timeout),
                "the coordinator aborts when votes are missing after this",
            ),
            (
                "decision_timeout",
                format!("\"{}\"", spec.decision_timeout),
                "an uncertain participant asks (2PC) or terminates (3PC) after this",
            ),
            (
                "resend_interval",
                format!("\"{}\"", spec.resend_interval),
                "how often an unacknowledged decision is resent",
            ),
            (
                "round_timeout",
                format!("\"{}\"", spec.round_timeout),
                "3PC: a termination round, or the wait for pre-commit acks",
            ),
            (
                "cooperative_termination",
                "false".into(),
                "2PC: uncertain participants ask each other too",
            ),
            (
                "commit_on_timeout",
                "false".into(),
                "BUG SWITCH: an uncertain participant commits on its own at decision_timeout",
            ),
            (
                "decide_before_sync",
                "false".into(),
                "BUG SWITCH: the decision is sent before its record is synced",
            ),
        ],
        bug_switches: CommitSpec::BUG_SWITCHES.to_vec(),
        serves_clients: true,
        invariants: protocol.invariants().to_vec(),
    }
}

fn ring_info() -> ProtocolInfo {
    let ring = RingSpec::default();
    ProtocolInfo {
        name: "RingElection",
        summary: "leader election on a unidirectional ring (Chang-Roberts, or LeLann), re-electing when the leader dies; no clients",
        params: vec![
            ("variant", "ChangRoberts".into(), "ChangRoberts or LeLann (LeLann needs FIFO links)"),
            ("ids", "Random".into(), "Increasing, Decreasing, Random (a permutation drawn from the seed) or Explicit([..])"),
            ("heartbeat_interval", format!("\"{}\"", ring.heartbeat_interval), "how often the leader says it is alive"),
            ("failure_timeout", format!("\"{}\"", ring.failure_timeout), "silence after which a server suspects the leader"),
            ("hop_timeout", format!("\"{}\"", ring.hop_timeout), "an unacknowledged ring hop skips the successor after this"),
            ("election_timeout", format!("\"{}\"", ring.election_timeout), "an election that elects no one starts over after this"),
            ("forward_smaller_ids", "false".into(), "BUG SWITCH: forward smaller ids instead of swallowing them"),
        ],
        bug_switches: RingSpec::BUG_SWITCHES.to_vec(),
        serves_clients: false,
        invariants: ProtocolSpec::RingElection(ring).invariants().to_vec(),
    }
}

fn bully_info() -> ProtocolInfo {
    let bully = BullySpec::default();
    ProtocolInfo {
        name: "BullyElection",
        summary: "leader election by the Bully algorithm on a fully connected network: the largest live id wins and takes over when it comes back; no clients",
        params: vec![
            ("ids", "Random".into(), "Increasing, Decreasing, Random (a permutation drawn from the seed) or Explicit([..])"),
            ("first_election", "All".into(), "who stands at boot: All, Lowest (n²−1 messages) or Highest (n−1)"),
            ("heartbeat_interval", format!("\"{}\"", bully.heartbeat_interval), "how often the leader says it is alive"),
            ("failure_timeout", format!("\"{}\"", bully.failure_timeout), "silence after which a follower suspects the leader"),
            ("answer_timeout", format!("\"{}\"", bully.answer_timeout), "a candidate no larger id answers within this wins (keep above a round trip)"),
            ("coordinator_timeout", format!("\"{}\"", bully.coordinator_timeout), "a candidate that was answered stands again if no winner speaks within this"),
            ("accept_lower_leader", "false".into(), "BUG SWITCH: follow a smaller leader; no election on restart"),
            ("declare_without_election", "false".into(), "BUG SWITCH: declare leadership without asking the larger ids"),
        ],
        bug_switches: BullySpec::BUG_SWITCHES.to_vec(),
        serves_clients: false,
        invariants: ProtocolSpec::BullyElection(bully).invariants().to_vec(),
    }
}

fn raft_info() -> ProtocolInfo {
    let raft = RaftSpec::default();
    ProtocolInfo {
        name: "Raft",
        summary: "Raft (Figure 2 of the paper) replicating the key-value store, with PreVote, CheckQuorum and four read modes",
        params: vec![
            ("election_timeout", format!("(\"{}\", \"{}\")", raft.election_timeout.0, raft.election_timeout.1), "range of the randomized election timeout"),
            ("heartbeat_interval", "half the minimum election timeout".into(), "how often a leader sends AppendEntries"),
            ("pre_vote", "false".into(), "ask for votes before raising the term (dissertation 9.6)"),
            ("check_quorum", "false".into(), "a leader without a majority for an election timeout steps down"),
            ("read_mode", "Log".into(), "Log, ReadIndex, Lease (needs bounded drift) or Follower (stale by design)"),
            ("lease_drift_bound_ppm", raft.lease_drift_bound_ppm.to_string(), "the clock drift a lease assumes at most"),
            ("leader_noop", "true".into(), "a new leader appends an empty entry of its term"),
            ("batch_entries_max", raft.batch_entries_max.to_string(), "entries per AppendEntries at most"),
            ("preload_log_lengths", "[]".into(), "experiment setup: entries each server starts with"),
            ("commit_previous_terms", "false".into(), "BUG SWITCH: commit earlier terms' entries by counting replicas (Figure 8)"),
            ("vote_without_persist", "false".into(), "BUG SWITCH: vote without persisting votedFor"),
            ("vote_without_log_check", "false".into(), "BUG SWITCH: grant votes without the log up-to-date check"),
            ("lease_without_drift_bound", "false".into(), "BUG SWITCH: leases that assume clocks never drift"),
        ],
        bug_switches: RaftSpec::BUG_SWITCHES.to_vec(),
        serves_clients: true,
        invariants: ProtocolSpec::Raft(raft).invariants().to_vec(),
    }
}

/// History checkers a scenario can name in `checks` and `expect`.
pub const CHECKERS: &[(&str, &str)] = &[
    (
        "linearizability",
        "the client history is linearizable (key-value model, per key)",
    ),
    (
        "sequential",
        "the client history is sequentially consistent (each client's order, not real time)",
    ),
    ("session", "the four session guarantees below, per client"),
    (
        "read-your-writes",
        "a client's reads see its own earlier writes",
    ),
    (
        "monotonic-reads",
        "a client never reads an older version than it read before",
    ),
    (
        "monotonic-writes",
        "whoever sees a client's write also sees its earlier writes",
    ),
    (
        "writes-follow-reads",
        "whoever sees a write also sees what its writer had read before it",
    ),
    (
        "eventual",
        "after faults heal and the system is quiet, live replicas hold the same data",
    ),
    (
        "invariants",
        "every invariant of the protocol (each can also be named alone)",
    ),
    (
        "panic",
        "no protocol handler panicked (always on: a panic ends the run as a failure)",
    ),
];

/// The fault kinds a schedule can use.
pub const FAULT_KINDS: &[(&str, &str)] = &[
    (
        "Crash(node)",
        "process crash: volatile state lost, storage kept",
    ),
    (
        "PowerLoss(node)",
        "machine crash: also loses writes not yet synced",
    ),
    (
        "Restart(node)",
        "start a crashed node; it recovers from storage",
    ),
    (
        "Pause(node, duration)",
        "stop-the-world pause; inputs wait, timers fire late",
    ),
    ("Resume(node)", "end a pause early"),
    (
        "Partition([[a, b], [c]])",
        "symmetric groups; unlisted nodes form one more group",
    ),
    (
        "OneWay(from: [..], to: [..])",
        "messages from -> to are dropped",
    ),
    ("Isolate(node)", "the node talks to no one"),
    (
        "Bridge(left: [..], right: [..], bridge: node)",
        "sides cut apart, the bridge sees both",
    ),
    ("Heal", "remove every partition"),
    (
        "Clog(from, to)",
        "hold messages on a link (\"*\" = any node) until Release",
    ),
    ("Release(from, to)", "deliver what a clog held"),
    ("ClockJump(node, \"-300ms\")", "step a node's clock"),
    ("SetLoss(p)", "every link loses messages with probability p"),
    ("RestoreLoss", "links go back to their own loss"),
];
