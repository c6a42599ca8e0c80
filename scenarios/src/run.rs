//! Running a resolved scenario: plan it, drive the engine with its
//! protocol, check the history and the monitor's verdicts, and gather the
//! metrics into a `RunOutcome`.
//!
//! Library use: `run(&resolve(&scenario, seed))` gives verdicts, metrics,
//! the history and the trace hash. No wall clock is read here; callers time
//! runs themselves.
//!
//! The parts: `plan.rs` (what a run reads), `topology.rs` (the engine's
//! configuration), `drive.rs` (the engine loop, generic over the
//! protocol), `recorder.rs` (the history), `checks.rs` (the verdicts) and
//! `outcome.rs` (the result types).

use crate::checks::{run_checks, ChecksPlan};
use crate::convert;
use crate::metrics::{self, Metrics};
use crate::names::server_names;
use crate::plan::Plan;
pub use crate::run_error::RunError;
use crate::scenario::{all_node_names, Scenario};
use sim_core::checker::Verdict;
use sim_core::history::History;
use sim_core::{Stats, StopReason, TraceRecord};
use std::sync::Arc;

pub use crate::checks::{LINEARIZABILITY_STEPS_MAX, SEQUENTIAL_STEPS_MAX};
pub use crate::convergence::QUIET_BEFORE_END;
pub use crate::drive::VIOLATIONS_KEPT_MAX;
pub use crate::names::with_node_names;
pub use crate::outcome::{
    expected_violation, panic_message, CheckResult, Inconclusive, PanicProgress, RunVerdict,
    RunWatcher, Skipped,
};
pub use crate::topology::sim_config;

/// Whether clients run transactions (`mix: (txn: ..)`).
pub fn transactional(scenario: &Scenario) -> bool {
    scenario.workload.mix.txn > 0.0
        || scenario
            .workload
            .client_mixes
            .iter()
            .any(|m| m.mix.txn > 0.0)
}

/// Everything a run produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub resolved: Scenario,
    pub stop_reason: StopReason,
    /// Set when the run stopped before its end (see `StopReason::is_complete`).
    pub inconclusive: Option<Inconclusive>,
    /// Checks left out because the seed's verdict was already decided.
    pub skipped: Vec<Skipped>,
    /// The memory estimate's peak and the budget (`limits.memory`), in bytes.
    pub memory_peak_bytes: u64,
    pub memory_budget_bytes: u64,
    pub simulated_ns: u64,
    pub trace_hash: u64,
    pub stats: Stats,
    pub history: History,
    pub checks: Vec<CheckResult>,
    pub metrics: Metrics,
    /// Every sample the protocol's monitor measured, by metric name.
    pub protocol_samples: Vec<(&'static str, Vec<f64>)>,
    pub trace: Vec<TraceRecord>,
}

impl RunOutcome {
    /// Names of failed checks (invariants by their own names).
    pub fn failed(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for name in self.checks.iter().flat_map(CheckResult::failed_names) {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        names
    }
    pub fn unknown(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| c.verdict == Verdict::Unknown)
            .map(|c| c.name.clone())
            .collect()
    }
    /// Whether the run went to its end and every check passed.
    pub fn passed(&self) -> bool {
        self.verdict() == RunVerdict::Pass
    }
    pub fn verdict(&self) -> RunVerdict {
        if self.checks.iter().any(|c| c.verdict == Verdict::Fail) {
            RunVerdict::Fail
        } else if self.inconclusive.is_some()
            || self.checks.iter().any(|c| c.verdict == Verdict::Unknown)
        {
            RunVerdict::Inconclusive
        } else {
            RunVerdict::Pass
        }
    }
}

/// Runs a resolved scenario (see `resolve`). Errors are input errors the
/// validator could not see; a protocol bug panics.
pub fn run(resolved: &Scenario) -> Result<RunOutcome, RunError> {
    run_watched(resolved, &mut ())
}

/// `run`, telling `watcher` how it goes.
pub fn run_watched(
    resolved: &Scenario,
    watcher: &mut dyn RunWatcher,
) -> Result<RunOutcome, RunError> {
    let plan = plan(resolved)?;
    let config = sim_config(resolved)?;
    let driven = resolved.protocol.drive(&plan, config, watcher)?;
    watcher.engine_done();
    // The engine's memory is given back before the checks search.
    sim_core::memory::return_freed_memory();
    let recorder = driven.recorder;
    let shed = recorder.shed;
    let history_bytes = recorder.bytes;
    let history = recorder.finish();
    let memo_bytes = checks_memory_bytes(
        plan.memory.0,
        driven.memory_peak_bytes,
        history_bytes.saturating_add(driven.monitor_heap_bytes),
    );
    let checks_plan = ChecksPlan {
        checks: plan.checks,
        expect: plan.expect,
        registers: plan.registers,
        transactions: plan.transactions.clone(),
        bank_total: plan.bank_total,
        names: &plan.names,
        clients: resolved.workload.clients as usize,
        memo_bytes_max: memo_bytes.min(usize::MAX as u64) as usize,
        cut_short: driven.inconclusive.is_some(),
        mutex: driven.protocol_metrics.mutex_history.as_ref(),
    };
    let (mut checks, mut skipped) =
        run_checks(&history, driven.violations, driven.invariants, &checks_plan);
    match driven.convergence {
        Some(Ok(check)) => checks.push(check),
        Some(Err(not_applicable)) => skipped.push(not_applicable),
        None => {}
    }
    let mut protocol_metrics = driven.protocol_metrics;
    if driven.faults_without_leader > 0 {
        protocol_metrics
            .counts
            .push(("faults_without_leader", driven.faults_without_leader));
    }
    let mut metrics = metrics::compute(
        &history,
        &driven.stats,
        shed,
        plan.duration.0,
        &protocol_metrics,
        &driven.disks,
    );
    metrics.servers_up =
        metrics::servers_up(plan.schedule, &plan.names, plan.servers, plan.duration.0);
    metrics.write_windows =
        metrics::write_windows(&history, plan.workload.stop_after.min(plan.duration.0));
    metrics.fault_bindings = driven.fault_bindings;
    metrics.partition_sides = metrics::partition_sides(
        &history,
        plan.schedule,
        &plan.names,
        plan.servers,
        plan.duration.0,
    );
    Ok(RunOutcome {
        resolved: resolved.clone(),
        stop_reason: driven.stop_reason,
        inconclusive: driven.inconclusive,
        skipped,
        memory_peak_bytes: driven.memory_peak_bytes.max(history_bytes),
        memory_budget_bytes: plan.memory.0,
        simulated_ns: driven.end.as_nanos(),
        trace_hash: driven.trace_hash,
        stats: Stats {
            per_node: Vec::new(),
            ..driven.stats
        },
        history,
        checks,
        metrics,
        protocol_samples: protocol_metrics.samples,
        trace: driven.trace,
    })
}

/// What the checks' searches may hold: the budget less what the engine
/// held at its peak (never less than what is still held: the history and
/// the monitor). The engine's memory is freed before the checks run, but
/// the allocator keeps part of it, and how much depends on the machine and
/// its allocator; so the bound assumes it kept all of it, and the run and
/// its checks together stay within one budget. The share depends only on
/// counts, never on the machine, so neither does the verdict.
pub fn checks_memory_bytes(budget_bytes: u64, engine_peak_bytes: u64, held_bytes: u64) -> u64 {
    let memo_bytes = budget_bytes.saturating_sub(engine_peak_bytes.max(held_bytes));
    debug_assert!(memo_bytes <= budget_bytes);
    memo_bytes
}

/// What a run of `resolved` reads, converted once.
pub(crate) fn plan(resolved: &Scenario) -> Result<Plan<'_>, String> {
    let servers = server_names(&resolved.nodes).len();
    Ok(Plan {
        names: all_node_names(resolved),
        servers: servers as u32,
        clients: resolved.workload.clients,
        setup: resolved.protocol_setup(),
        workload: Arc::new(convert::workload(&resolved.workload, resolved.duration)?),
        schedule: &resolved.faults.schedule,
        duration: resolved.duration,
        memory: resolved.limits.memory,
        events_max: resolved.limits.events_max,
        events_per_instant_max: resolved.limits.events_per_instant_max,
        schedule_cut_at: resolved
            .faults
            .cut_at
            .map(|at| sim_core::SimTime::ZERO.saturating_add(at.0)),
        checks: &resolved.checks,
        expect: &resolved.expect,
        registers: resolved.protocol.serves_registers() && !transactional(resolved),
        transactions: transactional(resolved).then(|| {
            let t = resolved.workload.transactions.clone().unwrap_or_default();
            (
                t.kind == crate::schema::TxnKindSpec::ListAppend,
                t.models()
                    .iter()
                    .filter_map(|m| sim_core::txn::models::Model::parse(m))
                    .collect(),
            )
        }),
        bank_total: {
            let audits = resolved.workload.mix.audit > 0.0
                || resolved
                    .workload
                    .client_mixes
                    .iter()
                    .any(|m| m.mix.audit > 0.0);
            if audits {
                resolved.protocol.bank_total(&resolved.protocol_setup())
            } else {
                None
            }
        },
        stop_at: None,
    })
}
