//! The scenario file format: the serde types a `.ron` file deserialises
//! into, but for the top-level `Scenario` (in `scenario.rs`, beside the
//! protocol it names) and the protocol's own params (in its folder).
//!
//! `scenarios/README.md` documents every field with examples. Every struct
//! rejects unknown fields, so a typo is an error with a position and a
//! "did you mean" hint rather than a silently ignored setting. Node and
//! region names are strings and are checked in `validate.rs`, which reports
//! the field path.

use crate::bytes::Bytes;
use crate::duration::{Dur, SignedDur};
use serde::{Deserialize, Serialize};

/// Scheduled faults at most: the schedule a file gives, and what outages
/// and the nemesis add to it when resolved (`FaultsSpec::cut_at`). Here,
/// in the file format, so the runner can name it without importing the
/// validator.
pub const SCHEDULE_MAX: usize = 100_000;

/// The servers: a count (named n1..nN) or explicit names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Nodes {
    Count(u32),
    Names(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSpec {
    pub name: String,
    pub nodes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(Default)]
pub struct NetworkSpec {
    /// Every link not overridden below.
    #[serde(default)]
    pub default: LinkSpec,
    /// Links between (or, with `from == to`, within) regions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<LinkOverride>,
    /// Links between two named nodes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkOverride>,
}

/// An override for the directed link(s) `from` → `to`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkOverride {
    pub from: String,
    pub to: String,
    /// Also set `to` → `from` (the default).
    #[serde(default = "yes")]
    pub both_ways: bool,
    pub link: LinkSpec,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    #[serde(default = "default_latency")]
    pub latency: LatencySpec,
    /// Probability in [0, 1] that a message is lost.
    #[serde(default)]
    pub loss: f64,
    /// Probability in [0, 1] that a message is delivered twice.
    #[serde(default)]
    pub duplicate: f64,
    #[serde(default)]
    pub order: Order,
    /// Latencies of their own for kinds of message on this link: `kinds:
    /// [(kind: "AppendEntries", latency: Constant("5ms"))]`. The kinds are
    /// the protocol's (`faultline list` names them), plus "Request" and
    /// "Response" between clients and servers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<KindLatency>,
}

/// A kind of message and the latency it takes on a link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindLatency {
    pub kind: String,
    pub latency: LatencySpec,
}

fn default_latency() -> LatencySpec {
    LatencySpec::Uniform {
        min: Dur::ms(1),
        max: Dur::ms(10),
    }
}

impl Default for LinkSpec {
    fn default() -> Self {
        LinkSpec {
            latency: default_latency(),
            loss: 0.0,
            duplicate: 0.0,
            order: Order::Unordered,
            kinds: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Order {
    #[default]
    Unordered,
    Fifo,
}

/// A latency distribution (see sim-core's `Latency`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum LatencySpec {
    Constant(Dur),
    Uniform {
        min: Dur,
        max: Dur,
    },
    Normal {
        mean: Dur,
        std_dev: Dur,
    },
    LogNormal {
        median: Dur,
        sigma: f64,
    },
    Exponential {
        mean: Dur,
    },
    Pareto {
        scale: Dur,
        alpha: f64,
    },
    /// (weight, distribution) pairs.
    Mixture(Vec<(f64, LatencySpec)>),
    /// `by` plus a draw of `latency`: `Shifted(by: "75ms", latency: Exponential(mean: "1ms"))`.
    Shifted {
        by: Dur,
        latency: Box<LatencySpec>,
    },
}

/// The servers' disks: how long a sync takes. A node listed in `nodes`
/// takes its own; else its region's (`regions`); else `default`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisksSpec {
    #[serde(default)]
    pub default: DiskSpec,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<RegionDisk>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeDisk>,
}

/// One disk: `(sync_latency: Uniform(min: "1ms", max: "3ms"))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskSpec {
    /// How long a sync takes (the latency family links use). By default
    /// uniform in 0.5-1.5 ms, a datacenter SSD's fsync: slow enough that a
    /// protocol which answers before its sync completes leaves a window a
    /// power loss can find, fast enough to stay out of the way of timeouts.
    #[serde(default = "ssd")]
    pub sync_latency: LatencySpec,
    /// With a throughput, a sync of b bytes (the key and value bytes it
    /// makes durable) takes b / bytes_per_second seconds more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_per_second: Option<u64>,
}

fn ssd() -> LatencySpec {
    LatencySpec::Uniform {
        min: Dur(sim_core::SimDuration::from_micros(500)),
        max: Dur(sim_core::SimDuration::from_micros(1_500)),
    }
}

impl Default for DiskSpec {
    fn default() -> Self {
        DiskSpec {
            sync_latency: ssd(),
            bytes_per_second: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionDisk {
    pub region: String,
    pub disk: DiskSpec,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeDisk {
    pub node: String,
    pub disk: DiskSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClocksSpec {
    /// Explicit clocks; nodes not listed have perfect clocks unless `random` is set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<ClockSpec>,
    /// Draw each unlisted node's clock from the seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random: Option<RandomClocks>,
    /// How late every node's timers fire after their deadline, drawn per
    /// timer (an OS scheduler's wake-up delay); a node listed in `nodes`
    /// with its own takes that. None: timers fire on time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer_lateness: Option<LatencySpec>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSpec {
    pub node: String,
    #[serde(default)]
    pub offset: SignedDur,
    /// Parts per million; positive runs fast.
    #[serde(default)]
    pub drift_ppm: f64,
    /// This node's timer lateness, in place of `clocks.timer_lateness`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer_lateness: Option<LatencySpec>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomClocks {
    /// Offsets are uniform in [-offset_max, offset_max].
    pub offset_max: Dur,
    /// Drifts are uniform in [-drift_ppm_max, drift_ppm_max].
    pub drift_ppm_max: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// Client processes; each runs one operation at a time.
    #[serde(default)]
    pub clients: u32,
    #[serde(default = "default_arrival")]
    pub arrival: ArrivalSpec,
    #[serde(default)]
    pub mix: MixSpec,
    /// Clients that draw from their own mix instead of `mix`, e.g. a pure
    /// reader: `client_mixes: [(client: "client1", mix: (read: 1.0))]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_mixes: Vec<ClientMixSpec>,
    /// Keys are "k0" .. "k{keys-1}".
    #[serde(default = "one_u32")]
    pub keys: u32,
    #[serde(default)]
    pub key_distribution: KeyDistributionSpec,
    #[serde(default = "default_attempt_timeout")]
    pub attempt_timeout: Dur,
    #[serde(default = "default_op_timeout")]
    pub op_timeout: Dur,
    #[serde(default = "default_backoff_base")]
    pub backoff_base: Dur,
    #[serde(default = "default_backoff_max")]
    pub backoff_max: Dur,
    /// No operation starts after this; defaults to 90% of the duration, so
    /// the system is quiet at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_after: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops_per_client_max: Option<u64>,
    /// A transfer moves between 1 and this much money (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_amount_max: Option<u64>,
    /// What a transaction (`mix: (txn: 1.0)`) looks like, and what it is
    /// judged against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transactions: Option<TransactionsSpec>,
}

/// Transactions of micro-ops over the workload's keys, drawn with its key
/// distribution: `transactions: (kind: ListAppend, mops_max: 4, read_share: 0.5)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionsSpec {
    #[serde(default)]
    pub kind: TxnKindSpec,
    /// Micro-ops per transaction: 1 to this (at most 16).
    #[serde(default = "default_mops_max")]
    pub mops_max: u32,
    /// The chance that a micro-op is a read (Random transactions).
    #[serde(default = "default_read_share")]
    pub read_share: f64,
    /// What each transaction does: Random (the default), ReadModifyWrite
    /// (read a key, then write it: lost updates) or WriteSkew (read two
    /// keys, write one: the on-call doctors).
    #[serde(default, skip_serializing_if = "TxnPatternSpec::is_random")]
    pub pattern: TxnPatternSpec,
    /// The consistency models the list-append or rw-register check judges
    /// (`faultline list` names them). Default: strict-serializable for
    /// lists; for registers, whose version order a history shows only in
    /// part, causal (with read atomic and read committed under it), the
    /// strongest it decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
}

impl TransactionsSpec {
    /// The models judged: those given, or the kind's default.
    pub fn models(&self) -> Vec<String> {
        match (&self.models, self.kind) {
            (Some(models), _) => models.clone(),
            (None, TxnKindSpec::ListAppend) => vec!["strict-serializable".to_string()],
            (None, TxnKindSpec::RwRegister) => vec!["causal".to_string()],
        }
    }
}

/// What a transaction of the workload does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnPatternSpec {
    #[default]
    Random,
    ReadModifyWrite,
    WriteSkew,
}

impl TxnPatternSpec {
    pub fn is_random(&self) -> bool {
        *self == TxnPatternSpec::Random
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnKindSpec {
    /// Appends to lists and reads of whole lists (Elle's list-append).
    #[default]
    ListAppend,
    /// Register writes and reads (Elle's rw-register).
    RwRegister,
}

fn default_mops_max() -> u32 {
    4
}
fn default_read_share() -> f64 {
    0.5
}

impl Default for TransactionsSpec {
    fn default() -> Self {
        TransactionsSpec {
            kind: TxnKindSpec::ListAppend,
            mops_max: default_mops_max(),
            read_share: default_read_share(),
            pattern: TxnPatternSpec::Random,
            models: None,
        }
    }
}

fn default_arrival() -> ArrivalSpec {
    ArrivalSpec::Closed {
        think: LatencySpec::Constant(Dur::ms(10)),
    }
}
fn one_u32() -> u32 {
    1
}
fn default_attempt_timeout() -> Dur {
    Dur::ms(100)
}
fn default_op_timeout() -> Dur {
    Dur::secs(1)
}
fn default_backoff_base() -> Dur {
    Dur::ms(10)
}
fn default_backoff_max() -> Dur {
    Dur::ms(200)
}

impl Default for WorkloadSpec {
    fn default() -> Self {
        WorkloadSpec {
            clients: 0,
            arrival: default_arrival(),
            mix: MixSpec::default(),
            client_mixes: Vec::new(),
            keys: 1,
            key_distribution: KeyDistributionSpec::default(),
            attempt_timeout: default_attempt_timeout(),
            op_timeout: default_op_timeout(),
            backoff_base: default_backoff_base(),
            backoff_max: default_backoff_max(),
            stop_after: None,
            ops_per_client_max: None,
            transfer_amount_max: None,
            transactions: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ArrivalSpec {
    /// Closed loop: the next operation starts `think` after the last completes.
    Closed { think: LatencySpec },
    /// Open loop: Poisson arrivals at `rate_per_s` per client.
    Open { rate_per_s: f64 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientMixSpec {
    /// "client1", "client2", ...
    pub client: String,
    pub mix: MixSpec,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixSpec {
    #[serde(default)]
    pub read: f64,
    #[serde(default)]
    pub write: f64,
    #[serde(default)]
    pub cas: f64,
    #[serde(default)]
    pub append: f64,
    /// Bank transfers between two accounts (the keys), for the
    /// atomic-commit protocols.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub transfer: f64,
    /// Orders of one item (a key), run as sagas by the saga protocols.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub order: f64,
    /// Transactions of micro-ops (`workload.transactions`), for the
    /// protocols that apply them through one log (Raft, KvSingle).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub txn: f64,
    /// Audits: one transaction that reads every account's balance, for
    /// the atomic-commit protocols beside `transfer` (the `bank` check).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub audit: f64,
}

fn is_zero(weight: &f64) -> bool {
    *weight == 0.0
}

impl Default for MixSpec {
    fn default() -> Self {
        MixSpec {
            read: 0.5,
            write: 0.5,
            cas: 0.0,
            append: 0.0,
            transfer: 0.0,
            order: 0.0,
            txn: 0.0,
            audit: 0.0,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum KeyDistributionSpec {
    #[default]
    Uniform,
    Zipf {
        exponent: f64,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<TimedFault>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nemesis: Option<NemesisSpec>,
    /// Independent outages of every server (resolved into Crash and
    /// Restart faults, like the nemesis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outages: Option<OutagesSpec>,
    /// Set by resolving, never written by hand: the outages or the nemesis
    /// drew more faults than the schedule holds (`validate::SCHEDULE_MAX`),
    /// so the schedule is complete only before this time. The run stops
    /// here, inconclusive (`schedule_full`), rather than going on without
    /// faults it was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_at: Option<Dur>,
}

/// Each server goes down and comes back on its own, independently of the
/// others: up for an exponential time of mean `up_mean`, then down for an
/// exponential time of mean `down_mean`, and so on (an alternating renewal
/// process). So each is down a fraction `down_mean / (up_mean + down_mean)`
/// of the time, and at `start` each is already down with that probability.
/// `outages: (up_mean: "9s", down_mean: "1s")`: up 90% of the time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutagesSpec {
    pub up_mean: Dur,
    pub down_mean: Dur,
    /// An outage is a power loss (unsynced writes lost), not a process crash.
    #[serde(default)]
    pub power_loss: bool,
    /// No outage before this.
    #[serde(default)]
    pub start: Dur,
    /// Every server is back by this time; defaults to 80% of the duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Dur>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimedFault {
    pub at: Dur,
    /// The fault comes at a time drawn uniformly from [at, at + jitter),
    /// from the seed's "fault-jitter" stream (so it never shifts another
    /// stream's draws). The resolved scenario holds the drawn time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<Dur>,
    pub fault: FaultSpec,
}

/// A fault, by node names. `"*"` in a clog or release means any node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FaultSpec {
    /// A process crash: volatile state is lost, synced and unsynced writes survive.
    Crash(String),
    /// A machine crash: like `Crash`, and writes not yet synced are lost too.
    PowerLoss(String),
    Restart(String),
    /// A stop-the-world pause for the given time.
    Pause(String, Dur),
    Resume(String),
    /// Symmetric groups; unlisted nodes form one more group.
    Partition(Vec<Vec<String>>),
    OneWay {
        from: Vec<String>,
        to: Vec<String>,
    },
    Isolate(String),
    Bridge {
        left: Vec<String>,
        right: Vec<String>,
        bridge: String,
    },
    Heal,
    Clog(String, String),
    Release(String, String),
    ClockJump(String, SignedDur),
    /// Every link loses messages with this probability until `RestoreLoss`.
    SetLoss(f64),
    RestoreLoss,
    /// A server's syncs asked for in the given time take this many times
    /// their drawn latency: `DiskSlow("n1", 10.0, "2s")`.
    DiskSlow(String, f64, Dur),
    /// No sync of the server completes for the given time (a hung
    /// fsync); those due meanwhile complete when it ends.
    DiskStall(String, Dur),
}

fn default_disk_slow_factor() -> f64 {
    10.0
}

/// Generated faults stop at 80% of the run by default, leaving time to recover.
pub fn default_nemesis_stop(duration: Dur) -> Dur {
    Dur(sim_core::SimDuration::from_nanos(
        duration.0.as_nanos() / 10 * 8,
    ))
}

/// Generated faults, drawn from the seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NemesisSpec {
    pub kinds: Vec<NemesisKind>,
    /// Swarm testing: each kind is switched on per seed with probability 1/2
    /// (at least one stays on), so seeds explore different fault mixes.
    #[serde(default)]
    pub swarm: bool,
    /// Quiet time before each fault, uniform in [interval_min, interval_max].
    pub interval_min: Dur,
    pub interval_max: Dur,
    /// How long each fault lasts before it is undone.
    pub fault_min: Dur,
    pub fault_max: Dur,
    /// No fault starts before this.
    #[serde(default)]
    pub start: Dur,
    /// Every fault is undone by this time; defaults to 80% of the duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Dur>,
    /// Largest clock jump, either way.
    #[serde(default = "default_jump_max")]
    pub clock_jump_max: Dur,
    /// How many times slower a `DiskSlow` makes a disk.
    #[serde(default = "default_disk_slow_factor")]
    pub disk_slow_factor: f64,
    /// Loss probability during a `Loss` fault.
    #[serde(default = "default_nemesis_loss")]
    pub loss: f64,
}

fn default_jump_max() -> Dur {
    Dur::ms(500)
}
fn default_nemesis_loss() -> f64 {
    0.3
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NemesisKind {
    /// A random split into two sides.
    Partition,
    /// One random node crashes, then restarts.
    Crash,
    /// One random node loses power (unsynced writes lost), then restarts.
    PowerLoss,
    Pause,
    ClockJump,
    /// A random directed link holds its messages, then releases them.
    Clog,
    /// Network-wide loss.
    Loss,
    /// One random server's disk slows by `disk_slow_factor`.
    DiskSlow,
    /// One random server's disk stalls.
    DiskStall,
}

impl NemesisKind {
    /// Every kind, in the order `faultline list` prints them.
    pub const ALL: [NemesisKind; 9] = [
        NemesisKind::Partition,
        NemesisKind::Crash,
        NemesisKind::PowerLoss,
        NemesisKind::Pause,
        NemesisKind::ClockJump,
        NemesisKind::Clog,
        NemesisKind::Loss,
        NemesisKind::DiskSlow,
        NemesisKind::DiskStall,
    ];

    /// The kind as a scenario file writes it.
    pub fn name(self) -> String {
        format!("{self:?}")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputsSpec {
    #[serde(default = "yes")]
    pub history: bool,
    #[serde(default = "yes")]
    pub metrics: bool,
    /// The event trace as JSON lines (large).
    #[serde(default)]
    pub trace: bool,
    #[serde(default = "default_trace_events_max")]
    pub trace_events_max: u64,
    /// The charts the reports draw, by file name without extension
    /// ("sides-availability", "cdf-commit_latency_ms"); a name ending in
    /// `*` stands for every chart it begins ("cdf-*"). Empty: every chart
    /// that has something to show. A teaching scenario lists those its
    /// lesson needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charts: Vec<String>,
}

impl OutputsSpec {
    /// Whether the reports draw the chart `name` (see `charts`).
    pub fn draws(&self, name: &str) -> bool {
        chart_listed(&self.charts, name)
    }
}

/// Whether `name` is in `charts` (empty: every chart), where an entry
/// ending in `*` stands for every name it begins.
pub fn chart_listed(charts: &[String], name: &str) -> bool {
    charts.is_empty()
        || charts.iter().any(|c| match c.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => c == name,
        })
}

/// A run's limits. Reaching one ends the run as inconclusive (exit 3), with
/// the reason, never as a pass and never as an abort.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// The run's memory budget: pending events, held messages, storage,
    /// protocol state, the history, trace records and the checker's memo
    /// count against it (`sim_core::memory`).
    #[serde(default = "default_memory")]
    pub memory: Bytes,
    /// Events the engine processes at most; past it the run is
    /// inconclusive (`event_limit`). The default ends only a run that
    /// would never end.
    #[serde(default = "default_events_max")]
    pub events_max: u64,
    /// Events at one simulated instant at most; past it the run is
    /// inconclusive (`instant_limit`): a protocol looping without letting
    /// time pass.
    #[serde(default = "default_events_per_instant_max")]
    pub events_per_instant_max: u64,
}

fn default_memory() -> Bytes {
    Bytes(sim_core::memory::MEMORY_BYTES_DEFAULT)
}

fn default_events_max() -> u64 {
    sim_core::engine::EVENTS_MAX_DEFAULT
}

fn default_events_per_instant_max() -> u64 {
    sim_core::engine::EVENTS_PER_INSTANT_MAX_DEFAULT
}

impl Default for LimitsSpec {
    fn default() -> Self {
        LimitsSpec {
            memory: default_memory(),
            events_max: default_events_max(),
            events_per_instant_max: default_events_per_instant_max(),
        }
    }
}

fn default_trace_events_max() -> u64 {
    100_000
}

impl Default for OutputsSpec {
    fn default() -> Self {
        OutputsSpec {
            charts: Vec::new(),
            history: true,
            metrics: true,
            trace: false,
            trace_events_max: default_trace_events_max(),
        }
    }
}

/// What the scenario is meant to show.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Expect {
    /// Every check passes on every seed.
    #[default]
    Pass,
    /// Some seed of the sweep's range violates one of these checks, and no
    /// other check fails: at least once over the whole range (a shard
    /// alone cannot tell, and merged shards judge as one machine would).
    /// A curated file's violation shows in any 20 seeds.
    Violation(Vec<String>),
    /// These checks may fail (what the design does not promise, though
    /// it shows only now and then), and no other check fails. For a
    /// weakness too rare to expect in every range of seeds: a strict
    /// quorum's linearizability on a fast, quiet network.
    Allow(Vec<String>),
}

/// One parameter sweep axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepAxis {
    /// A field path such as "network.default.loss".
    pub path: String,
    pub values: Vec<ron::Value>,
    /// Fields that move in step with this one: the i-th group sets each of
    /// them to its i-th value too (each lists as many values as `values`).
    /// For example a crash's jitter that must follow the heartbeat interval
    /// an election-timeout axis sets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<LockstepPath>,
    /// Short names of the values, one each ("Sync", "R=1 W=2"), which
    /// every chart and table of the sweep uses for its groups instead of
    /// the values' text (`PrimaryBackup(mode: SemiSync(acks: 1, ...))`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// A sweep axis value's short name is at most this long, so that nine of
/// them fit side by side under a chart.
pub const AXIS_NAME_CHARS_MAX: usize = 24;

/// A field that moves in step with a sweep axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockstepPath {
    pub path: String,
    pub values: Vec<ron::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_list_takes_names_and_prefixes_and_empty_takes_all() {
        let list = vec!["verdicts".to_string(), "sides-*".to_string()];
        assert!(chart_listed(&list, "verdicts"));
        assert!(chart_listed(&list, "sides-consistency"));
        assert!(!chart_listed(&list, "cdf-home_keys_per_server"));
        assert!(!chart_listed(&list, "verdicts-2"));
        assert!(chart_listed(&[], "anything"));
    }
}
