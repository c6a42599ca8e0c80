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
