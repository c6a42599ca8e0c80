//! Built-in benchmarks. `pingpong` measures raw engine throughput: N nodes,
//! each with one ping outstanding, uniform 1-10 ms links, no faults, until M
//! messages have been delivered. The trace hash is on; recording is off.

use protocols::pingpong::PingPong;
use serde::Serialize;
use sim_core::{LinkConfig, SimConfig, Simulation, Stop, Topology};

/// Bench parameters are bounded so a typo cannot exhaust memory.
pub const BENCH_NODES_MAX: usize = 5_000_000;

#[derive(Debug, Serialize)]
pub struct PingPongReport {
    pub benchmark: &'static str,
    pub nodes: usize,
    pub seed: u64,
    pub delivered_messages: u64,
    pub events: u64,
    pub simulated_seconds: f64,
    pub wall_seconds: f64,
    pub messages_per_second: f64,
    pub events_per_second: f64,
    pub peak_rss_bytes: Option<u64>,
    pub trace_hash: String,
}

pub fn pingpong(nodes: usize, messages: u64, seed: u64) -> Result<PingPongReport, String> {
    if !(2..=BENCH_NODES_MAX).contains(&nodes) {
        return Err(format!(
            "--nodes must be between 2 and {BENCH_NODES_MAX}, got {nodes}"
        ));
    }
    let topology = Topology::uniform(nodes, LinkConfig::default())?;
    let mut sim = Simulation::new(SimConfig::new(seed, topology), |_| PingPong::default())
        .map_err(|e| e.to_string())?;
    // Wall-clock time is measured here, in the CLI, never inside simulation code.
    let started = std::time::Instant::now();
    sim.run(Stop::after_delivered(messages));
    let wall_seconds = started.elapsed().as_secs_f64();
    let stats = sim.stats();
    Ok(PingPongReport {
        benchmark: "pingpong",
        nodes,
        seed,
        delivered_messages: stats.delivered,
        events: stats.events,
        simulated_seconds: sim.now().as_secs_f64(),
        wall_seconds,
        messages_per_second: stats.delivered as f64 / wall_seconds.max(1e-9),
        events_per_second: stats.events as f64 / wall_seconds.max(1e-9),
        peak_rss_bytes: peak_rss_bytes(),
        trace_hash: sim_core::trace::format_hash(sim.trace_hash()),
    })
}

/// The process's peak resident set size, from /proc (Linux only).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// One measurement of `linearizability`: a generated register history's
/// check, its time and memory.
#[derive(Debug, Serialize)]
pub struct CheckRow {
    pub operations: usize,
    pub processes: usize,
    pub violation: bool,
    pub verdict: sim_core::checker::Verdict,
    pub decided_by: sim_core::checker::linearizability::DecidedBy,
    pub check_seconds: f64,
    /// The process's peak resident memory during the check (the history
    /// included), where the kernel can reset the peak (Linux).
    pub peak_rss_bytes: Option<u64>,
    /// What the check itself added to the resident memory at its peak.
    pub check_bytes: Option<u64>,
}

/// The resident set size now, from /proc (Linux only).
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Resets the kernel's peak resident size to the current one, so that the
/// next `peak_rss_bytes` is the peak since now (Linux: `clear_refs` 5).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// `faultline bench linearizability`: for each size, process count and
/// with and without a planted stale read, a register history from
/// `history::generate::register` (seeded), checked by
/// `linearizability::check` with the register model. The wall clock is
/// read here, around the library call, never inside it.
pub fn linearizability(
    operations: &[usize],
    processes: &[usize],
    seed: u64,
) -> Result<Vec<CheckRow>, String> {
    use sim_core::checker::linearizability;
    use sim_core::checker::model::KvModel;
    use sim_core::checker::Budget;
    use sim_core::history::generate::{register, RegisterShape, OPERATIONS_MAX};
    if let Some(n) = operations
        .iter()
        .find(|&&n| !(1..=OPERATIONS_MAX).contains(&n))
    {
        return Err(format!(
            "--operations {n}: give 1 to {OPERATIONS_MAX} per size"
        ));
    }
    if let Some(p) = processes.iter().find(|&&p| !(1..=100_000).contains(&p)) {
        return Err(format!("--processes {p}: give 1 to 100000"));
    }
    let mut rows = Vec::new();
    for &n in operations {
        for &p in processes {
            for violation in [false, true] {
                let shape = RegisterShape {
                    operations: n,
                    processes: p,
                    violation,
                };
                let (history, _) = register(&shape, seed);
                sim_core::memory::return_freed_memory();
                let before = rss_bytes();
                let reset = reset_peak_rss();
                let started = std::time::Instant::now();
                let report =
                    linearizability::check(&history, &KvModel::default(), &Budget::default());
                let check_seconds = started.elapsed().as_secs_f64();
                let peak = reset.then(peak_rss_bytes).flatten();
                rows.push(CheckRow {
                    operations: n,
                    processes: p,
                    violation,
                    verdict: report.verdict,
                    decided_by: report.decided_by,
                    check_seconds,
                    peak_rss_bytes: peak,
                    check_bytes: peak
                        .zip(before)
                        .map(|(peak, before)| peak.saturating_sub(before)),
                });
            }
        }
    }
    Ok(rows)
}
