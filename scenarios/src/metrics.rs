//! Run metrics: message counts, operation outcomes, latency percentiles and
//! availability over time windows.

use crate::side_counts::SideCounts;
use protocols::invariant::ProtocolMetrics;
use serde::{Deserialize, Serialize};
use sim_core::checker::staleness::{self, Staleness};
use sim_core::histogram::LatencyHistogram;
use sim_core::history::{Function, History, Outcome};
use sim_core::stats::DropCounts;
use sim_core::{SimDuration, Stats};
use std::collections::BTreeMap;

/// Availability windows per run at most.
const METRIC_WINDOWS_MAX: u64 = 200;

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Metrics {
    pub messages_sent: u64,
    pub messages_delivered: u64,
    pub messages_duplicated: u64,
    pub messages_dropped: DropCounts,
    pub operations: u64,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
    /// Open-loop arrivals dropped because the client was busy.
    pub shed: u64,
    /// Latency of `ok` operations, milliseconds.
    pub latency_ms: Option<Percentiles>,
    /// Latency of `ok` reads, and of `ok` writes (puts), milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_latency_ms: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_latency_ms: Option<Percentiles>,
    /// The same reads' and writes' latencies as histograms, which a sweep
    /// merges across runs (`UnitConsistency`): computed here, once.
    #[serde(skip)]
    pub read_latency: LatencyHistogram,
    #[serde(skip)]
    pub write_latency: LatencyHistogram,
    /// Messages sent per `ok` operation (protocol cost).
    pub messages_per_ok_operation: Option<f64>,
    pub window_ms: f64,
    /// Per window: the requests begun in it by how they ended, and the
    /// share of those open in it that were served (`availability`).
    pub availability: Vec<crate::availability::Window>,
    /// How far reads lagged behind completed writes.
    pub staleness: Staleness,
    /// What the protocol's monitor measured (e.g. Raft's `leaderless_ms`).
    pub protocol: BTreeMap<String, SampleSummary>,
    pub protocol_counts: BTreeMap<String, u64>,
    /// What the monitor measured over time: (ms, value) points per series
    /// (`replication_lag_ms/server2`), which the run report draws.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub protocol_series: BTreeMap<String, Vec<(f64, f64)>>,
    /// Messages sent per command the protocol committed (if it counts them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages_per_committed_command: Option<f64>,
    /// Each server that synced: its syncs and how long they took.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub disks: BTreeMap<String, DiskMetrics>,
    /// Per side of each partition that names clients: how their operations
    /// fared while it lasted (CAP's choice, side by side).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partition_sides: Vec<SideAvailability>,
    /// Each fault that named a role ("@leader", "@old-leader",
    /// "@followerK"), with the node the role was bound to when it happened.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fault_bindings: Vec<FaultBinding>,
    /// With crashes in the schedule: index k is the share of the run during
    /// which at least k servers were up (what a quorum of k could have
    /// served, at best).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub servers_up: Vec<f64>,
    /// The `SIDE_WINDOW_MS` windows until the workload stopped, and those
    /// in which some write completed ok: how often the system served a write.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_windows: Option<(u64, u64)>,
    /// Each read's t-visibility threshold, from the protocol's monitor,
    /// which a sweep sums (`UnitConsistency`).
    #[serde(skip)]
    pub visibility: Option<sim_core::checker::visibility::Thresholds>,
    /// A lock's own acquires and releases, from a protocol that records
    /// them: a run writes them as `mutex.edn`.
    #[serde(skip)]
    pub mutex_history: Option<protocols::invariant::MutexHistory>,
}

/// The share of `[0, duration)` during which at least k servers were up,
/// for k = 0..=servers, from the schedule's crashes, power losses and
/// restarts. Faults that name a binding ("@leader") are left out: which
/// server they hit is known only as the run goes.
pub fn servers_up(
    schedule: &[crate::schema::TimedFault],
    names: &[String],
    servers: u32,
    duration: SimDuration,
) -> Vec<f64> {
    use crate::schema::FaultSpec;
    let server = |name: &str| {
        names
            .iter()
            .position(|n| n == name)
            .filter(|i| (*i as u32) < servers)
    };
    let changes: Vec<(u64, usize, bool)> = schedule
        .iter()
        .filter_map(|f| match &f.fault {
            FaultSpec::Crash(n) | FaultSpec::PowerLoss(n) => {
                Some((f.at.0.as_nanos(), server(n)?, false))
            }
            FaultSpec::Restart(n) => Some((f.at.0.as_nanos(), server(n)?, true)),
            _ => None,
        })
        .collect();
    if changes.is_empty() || duration == SimDuration::ZERO {
        return Vec::new();
    }
    let end = duration.as_nanos();
    let mut up = vec![true; servers as usize];
    let mut at_least_ns = vec![0u64; servers as usize + 1];
    let mut last = 0u64;
    let mut account = |from: u64, to: u64, up: &[bool]| {
        let count = up.iter().filter(|u| **u).count();
        for slot in &mut at_least_ns[..=count] {
            *slot += to.saturating_sub(from);
        }
    };
    for (at, who, is_up) in changes {
        let at = at.min(end);
        account(last, at, &up);
        last = at;
        up[who] = is_up;
    }
    account(last, end, &up);
    at_least_ns
        .iter()
        .map(|ns| *ns as f64 / end as f64)
        .collect()
}

/// The windows until `until` and those in which a write completed ok.
pub fn write_windows(history: &History, until: SimDuration) -> Option<(u64, u64)> {
    let window_ns = SIDE_WINDOW_MS * 1_000_000;
    let windows = until.as_nanos().div_ceil(window_ns);
    if windows == 0 || !history.operations.iter().any(|op| op.f == Function::Write) {
        return None;
    }
    let mut served = vec![false; windows as usize];
    for op in &history.operations {
        if let (Function::Write, Outcome::Ok, Some(done)) = (op.f, op.outcome, op.complete_ns) {
            if done < until.as_nanos() {
                served[(done / window_ns) as usize] = true;
            }
        }
    }
    Some((windows, served.iter().filter(|s| **s).count() as u64))
}

/// One side of a partition, and the operations its clients invoked while
/// the partition lasted (from its fault to the next partition or heal, or
/// the run's end). Only clients a partition names are on a side; the
/// others keep reaching every server.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SideAvailability {
    pub from_ms: f64,
    pub until_ms: f64,
    #[serde(flatten)]
    pub counts: SideCounts,
    /// `counts.availability()`, written for readers of metrics.json.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<f64>,
}

pub use crate::side_counts::SIDE_WINDOW_MS;

/// A role a fault named, and the node it was bound to when the fault came.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FaultBinding {
    /// The fault's place in `faults.schedule`.
    pub index: usize,
    pub role: String,
    pub node: String,
}

/// The sides of every partition in `schedule` that names clients.
/// `names` holds every node's name by id (servers, then `clients` clients).
pub fn partition_sides(
    history: &History,
    schedule: &[crate::schema::TimedFault],
    names: &[String],
    servers: u32,
    duration: SimDuration,
) -> Vec<SideAvailability> {
    let clients = (names.len() as u64)
        .saturating_sub(u64::from(servers))
        .max(1);
    use crate::schema::FaultSpec;
    let ends_partition = |f: &FaultSpec| {
        matches!(
            f,
            FaultSpec::Partition(_)
                | FaultSpec::Heal
                | FaultSpec::Isolate(_)
                | FaultSpec::Bridge { .. }
                | FaultSpec::OneWay { .. }
        )
    };
    // Judging reads is a pass over the whole history: only for a run
    // whose schedule has a partition to attribute them to.
    if !schedule
        .iter()
        .any(|f| matches!(f.fault, FaultSpec::Partition(_)))
    {
        return Vec::new();
    }
    let judged = staleness::judge(history, "").0;
    let stale: std::collections::BTreeSet<usize> = judged
        .iter()
        .filter(|r| r.behind > 0)
        .map(|r| r.op)
        .collect();
    let judged: std::collections::BTreeSet<usize> = judged.iter().map(|r| r.op).collect();
    let mut sides = Vec::new();
    for (index, entry) in schedule.iter().enumerate() {
        let FaultSpec::Partition(groups) = &entry.fault else {
            continue;
        };
        let from = entry.at.0.as_nanos();
        let until = schedule[index + 1..]
            .iter()
            .find(|later| ends_partition(&later.fault))
            .map_or(duration.as_nanos(), |later| later.at.0.as_nanos());
        for group in groups {
            let processes: Vec<u64> = group
                .iter()
                .filter_map(|name| names.iter().position(|n| n == name))
                .filter(|id| *id as u32 >= servers)
                .map(|id| (id as u32 - servers) as u64)
                .collect();
            if processes.is_empty() {
                continue;
            }
            let (mut ok, mut fail, mut info, mut gave_up) = (0, 0, 0, 0);
            let (mut reads, mut stale_reads) = (0, 0);
            let window_ns = SIDE_WINDOW_MS * 1_000_000;
            let windows = until.saturating_sub(from).div_ceil(window_ns);
            let mut served = vec![false; windows as usize];
            for (i, op) in history.operations.iter().enumerate() {
                // A client goes on as a new process after an unknown
                // outcome (`process = client + clients * k`).
                let client = op.process % clients;
                if processes.contains(&client) && (from..until).contains(&op.invoke_ns) {
                    reads += u64::from(judged.contains(&i));
                    stale_reads += u64::from(stale.contains(&i));
                }
                if let (Some(done), true) = (op.complete_ns, op.served()) {
                    if processes.contains(&client) && (from..until).contains(&done) {
                        served[((done - from) / window_ns) as usize] = true;
                    }
                }
                if processes.contains(&client) && (from..until).contains(&op.invoke_ns) {
                    match op.outcome {
                        Outcome::Ok => ok += 1,
                        Outcome::Fail => fail += 1,
                        Outcome::Info => info += 1,
                    }
                    gave_up += u64::from(op.outcome == Outcome::Fail && !op.served());
                }
            }
            let counts = SideCounts {
                side: group.join("+"),
                ok,
                fail,
                info,
                gave_up,
                reads,
                stale_reads,
                windows,
                windows_served: served.iter().filter(|s| **s).count() as u64,
            };
            sides.push(SideAvailability {
                from_ms: from as f64 / 1e6,
                until_ms: until as f64 / 1e6,
                availability: counts.availability(),
                counts,
            });
        }
    }
    sides
}

/// One node's syncs: how many, how often, and how long they took (from
/// asked to completed, stalls and slow-downs included). Percentiles come
/// from a log histogram: at most 6.25% below the exact value.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DiskMetrics {
    pub syncs: u64,
    pub syncs_per_second: f64,
    pub sync_ms_p50: f64,
    pub sync_ms_p95: f64,
    pub sync_ms_p99: f64,
    pub sync_ms_max: f64,
}

impl DiskMetrics {
    pub fn of(latencies: &LatencyHistogram, duration: SimDuration) -> DiskMetrics {
        let seconds = duration.as_nanos() as f64 / 1e9;
        DiskMetrics {
            syncs: latencies.count(),
            syncs_per_second: if seconds > 0.0 {
                latencies.count() as f64 / seconds
            } else {
                0.0
            },
            sync_ms_p50: latencies.quantile_ms(0.5),
            sync_ms_p95: latencies.quantile_ms(0.95),
            sync_ms_p99: latencies.quantile_ms(0.99),
            sync_ms_max: latencies.max_ms(),
        }
    }
}

/// A summary of a metric's samples.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SampleSummary {
    pub count: u64,
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl SampleSummary {
    /// `None` for no samples. Percentiles are nearest-rank on the sorted samples.
    pub fn of(samples: &[f64]) -> Option<SampleSummary> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let pick = |q: f64| sorted[((sorted.len() as f64 - 1.0) * q).round() as usize];
        Some(SampleSummary {
            count: sorted.len() as u64,
            min: sorted[0],
            p50: pick(0.5),
            p90: pick(0.9),
            p99: pick(0.99),
            max: sorted[sorted.len() - 1],
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
        })
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// The `ok` operations' latencies, ns, whose function `keep` accepts, sorted.
fn ok_latencies_ns(history: &History, keep: impl Fn(Function) -> bool) -> Vec<u64> {
    let mut latencies: Vec<u64> = history
        .operations
        .iter()
        .filter(|op| op.outcome == Outcome::Ok && keep(op.f))
        .filter_map(|op| op.complete_ns.map(|c| c - op.invoke_ns))
        .collect();
    latencies.sort_unstable();
    latencies
}

/// Nearest-rank percentiles of sorted latencies; `None` when there are none.
fn percentiles_ms(latencies: &[u64]) -> Option<Percentiles> {
    debug_assert!(latencies.windows(2).all(|w| w[0] <= w[1]));
    let pick = |q: f64| {
        let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies[index] as f64 / 1e6
    };
    (!latencies.is_empty()).then(|| Percentiles {
        p50: pick(0.5),
        p90: pick(0.9),
        p99: pick(0.99),
        max: pick(1.0),
    })
}

fn histogram(latencies: &[u64]) -> LatencyHistogram {
    // Fine: a sweep reads p99.9 from the merged runs', to better than 1%.
    let mut h = LatencyHistogram::fine();
    for &ns in latencies {
        h.record(SimDuration::from_nanos(ns));
    }
    h
}

pub fn compute(
    history: &History,
    stats: &Stats,
    shed: u64,
    duration: SimDuration,
    protocol: &ProtocolMetrics,
    disks: &[(String, LatencyHistogram)],
) -> Metrics {
    let count = |o: Outcome| {
        history
            .operations
            .iter()
            .filter(|op| op.outcome == o)
            .count() as u64
    };
    let reads = ok_latencies_ns(history, |f| f == Function::Read);
    let writes = ok_latencies_ns(history, |f| f == Function::Write);
    // Windows of a round size: at most METRIC_WINDOWS_MAX over the run, at least 1 ms.
    let window_ns = (duration.as_nanos() / METRIC_WINDOWS_MAX).max(1_000_000);
    let availability =
        crate::availability::windows(history, duration.as_nanos(), window_ns as f64 / 1e6);
    let ok = count(Outcome::Ok);
    Metrics {
        messages_sent: stats.sent,
        messages_delivered: stats.delivered,
        messages_duplicated: stats.duplicated,
        messages_dropped: stats.dropped,
        operations: history.len() as u64,
        ok,
        fail: count(Outcome::Fail),
        info: count(Outcome::Info),
        shed,
        latency_ms: percentiles_ms(&ok_latencies_ns(history, |_| true)),
        read_latency_ms: percentiles_ms(&reads),
        write_latency_ms: percentiles_ms(&writes),
        read_latency: histogram(&reads),
        write_latency: histogram(&writes),
        messages_per_ok_operation: (ok > 0).then(|| stats.sent as f64 / ok as f64),
        window_ms: window_ns as f64 / 1e6,
        availability,
        staleness: staleness::measure(history, ""),
        protocol: protocol
            .samples
            .iter()
            .filter_map(|(name, samples)| Some((name.to_string(), SampleSummary::of(samples)?)))
            .collect(),
        protocol_counts: protocol
            .counts
            .iter()
            .map(|(name, n)| (name.to_string(), *n))
            .collect(),
        protocol_series: protocol
            .series
            .iter()
            .map(|(name, points)| (name.to_string(), points.clone()))
            .collect(),
        messages_per_committed_command: protocol
            .counts
            .iter()
            .find(|(name, n)| *name == "committed_commands" && *n > 0)
            .map(|(_, n)| stats.sent as f64 / *n as f64),
        disks: disks
            .iter()
            .map(|(name, latencies)| (name.clone(), DiskMetrics::of(latencies, duration)))
            .collect(),
        partition_sides: Vec::new(),
        fault_bindings: Vec::new(),
        servers_up: Vec::new(),
        write_windows: None,
        visibility: protocol.visibility.clone(),
        mutex_history: protocol.mutex_history.clone(),
    }
}
