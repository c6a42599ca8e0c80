//! Running a resolved scenario: build the cluster, inject the faults, run
//! the engine, collect the history and protocol events, and check them.
//!
//! Library use: `run(&resolve(&scenario, seed))` gives verdicts, metrics,
//! the history and the trace hash. No wall clock is read here; callers time
//! runs themselves.

use crate::convert;
use crate::metrics::{self, Metrics};
use crate::registry::ProtocolSpec;
use crate::schema::{Expect, FaultSpec, Scenario};
use crate::validate::{
    all_node_names, fault_names, follower_rank, names_must_differ, server_names, CLIENT_PREFIX,
    LEADER, OLD_LEADER,
};
use protocols::bully::Bully;
use protocols::client::ClientEvent;
use protocols::cluster::{Cluster, ClusterOutput, Service};
use protocols::commit::AtomicCommit;
use protocols::invariant::{Monitor, Violation};
use protocols::kv::{KvOp, KvResult};
use protocols::kv_single::KvSingle;
use protocols::pingpong::PingPongService;
use protocols::raft::Raft;
use protocols::ring::RingElection;
use protocols::saga::Saga;
use serde::Serialize;
use sim_core::checker::convergence::{diverging_key, Replica};
use sim_core::checker::linearizability::{self, Counterexample};
use sim_core::checker::model::KvModel;
use sim_core::checker::{session, Budget, Verdict};
use sim_core::history::{Function, History, Operation, Outcome, HISTORY_OPS_MAX};
use sim_core::SimDuration;
use sim_core::{
    ClockConfig, NodeId, SimConfig, SimTime, Simulation, Stats, Stop, StopReason, TopologyBuilder,
    TraceConfig, TraceRecord,
};
use std::sync::Arc;

/// Search steps the linearizability check may take per run; past it the
/// verdict is Unknown. A step count, not a time, so verdicts reproduce.
pub const LINEARIZABILITY_STEPS_MAX: u64 = 20_000_000;
/// Search steps the sequential-consistency check may take per run. It runs
/// only when linearizability did not pass, and proving that no legal order
/// exists is the exhaustive case.
pub const SEQUENTIAL_STEPS_MAX: u64 = 20_000_000;
/// Invariant violations kept per run (the first ones matter most).
pub const VIOLATIONS_KEPT_MAX: usize = 100;

/// One check's result.
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub name: String,
    pub verdict: Verdict,
    /// One line for people.
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Counterexample>,
}

impl CheckResult {
    /// What failed, by name: each violated invariant, or the check itself;
    /// nothing if it did not fail.
    pub fn failed_names(&self) -> Vec<&str> {
        match self.verdict {
            Verdict::Fail if self.violations.is_empty() => vec![self.name.as_str()],
            Verdict::Fail => self.violations.iter().map(|v| v.invariant).collect(),
            Verdict::Pass | Verdict::Unknown => Vec::new(),
        }
    }
}

/// Why a run's verdict is inconclusive: it stopped before its end, at a limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Inconclusive {
    /// The stop reason's name: `memory_limit`, `queue_limit`, `event_limit`
    /// or `protocol_limit`.
    pub reason: &'static str,
    /// For people: which limit, and how to lift it.
    pub detail: String,
    /// Simulated time reached, against the scenario's duration.
    pub simulated_ns: u64,
    pub duration_ns: u64,
}

/// A check that did not run, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub name: String,
    pub why: String,
}

/// The verdict of a run as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunVerdict {
    /// The run went to its end and every check passed.
    Pass,
    /// A check failed. A failure found before a limit cut the run short is
    /// still a failure: what was seen happened.
    Fail,
    /// Nothing failed, but the run was cut short or a check ran out of budget.
    Inconclusive,
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

/// What a run had reached when protocol code panicked: carried as the panic
/// payload (the run re-raises the panic with it), so that whoever catches
/// the panic can say how far the run got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanicProgress {
    /// The panic's own message.
    pub message: String,
    pub simulated_ns: u64,
    pub events: u64,
    /// The trace hash up to the panicking event (that event included).
    pub trace_hash: u64,
}

/// A panic payload's text (for a `PanicProgress`, the panic's own message).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else if let Some(progress) = payload.downcast_ref::<PanicProgress>() {
        progress.message.clone()
    } else {
        "a panic with a non-text payload".to_string()
    }
}

/// Whether a failed check `name` counts as one the scenario expects.
pub fn expected_violation(expect: &Expect, name: &str) -> bool {
    match expect {
        Expect::Pass => false,
        Expect::Violation(names) => names.iter().any(|n| n == name),
    }
}

/// What the runner tells its caller as a run goes, for progress and timing.
/// The caller may read a wall clock here; the runner never does
/// (ARCHITECTURE.md, invariant 2), and nothing a watcher does changes the
/// run.
pub trait RunWatcher {
    /// The engine is running: simulated time and events so far. Called
    /// after each batch of outputs (at most `OUTPUTS_PENDING_MAX` apart).
    fn running(&mut self, _simulated_ns: u64, _events: u64) {}
    /// The engine has stopped; the checks start.
    fn engine_done(&mut self) {}
}

/// A watcher that does nothing.
impl RunWatcher for () {}

/// Runs a resolved scenario (see `resolve`). Errors are input errors the
/// validator could not see; a protocol bug panics.
pub fn run(resolved: &Scenario) -> Result<RunOutcome, String> {
    run_watched(resolved, &mut ())
}

/// `run`, telling `watcher` how it goes.
pub fn run_watched(
    resolved: &Scenario,
    watcher: &mut dyn RunWatcher,
) -> Result<RunOutcome, String> {
    match &resolved.protocol {
        ProtocolSpec::PingPong(spec) => {
            let (panic_probability, peer_from_process_state) =
                (spec.panic_probability, spec.peer_from_process_state);
            drive(resolved, watcher, move |_| PingPongService {
                pongs: 0,
                panic_probability,
                peer_from_process_state,
            })
        }
        ProtocolSpec::KvSingle(spec) => {
            let params = spec.params();
            drive(resolved, watcher, move |_| KvSingle::new(params.clone()))
        }
        ProtocolSpec::Raft(spec) => {
            let params = Arc::new(spec.params());
            drive(resolved, watcher, move |_| Raft::new(params.clone()))
        }
        ProtocolSpec::RingElection(spec) => {
            let params = Arc::new(spec.params(server_names(&resolved.nodes).len()));
            drive(resolved, watcher, move |_| {
                RingElection::new(params.clone())
            })
        }
        ProtocolSpec::BullyElection(spec) => {
            let params = Arc::new(spec.params(server_names(&resolved.nodes).len()));
            drive(resolved, watcher, move |_| Bully::new(params.clone()))
        }
        ProtocolSpec::TwoPhaseCommit(_) | ProtocolSpec::ThreePhaseCommit(_) => {
            let (variant, spec) = resolved.protocol.commit().expect("a commit protocol");
            let params = Arc::new(spec.params(variant, resolved.workload.keys));
            drive(resolved, watcher, move |_| {
                AtomicCommit::new(params.clone())
            })
        }
        ProtocolSpec::Saga(spec) => {
            let params = Arc::new(spec.params(resolved.workload.keys));
            drive(resolved, watcher, move |_| Saga::new(params.clone()))
        }
    }
}

/// The id of the node called `name` (servers, then clients).
fn node_by_name(names: &[String], name: &str) -> Result<NodeId, String> {
    names
        .iter()
        .position(|n| n == name)
        .map(|i| NodeId(i as u32))
        .ok_or(format!("unknown node {name}"))
}

/// Builds the engine configuration a scenario describes.
pub fn sim_config(scenario: &Scenario) -> Result<SimConfig, String> {
    let mut builder = TopologyBuilder::new(convert::link(&scenario.network.default)?);
    let mut regions = Vec::new();
    for region in &scenario.regions {
        regions.push((region.name.clone(), builder.region(&region.name)?));
    }
    let default_region = match regions.iter().find(|(name, _)| name == "default") {
        Some((_, id)) => *id,
        None => builder.region("default")?,
    };
    let region_of = |node: &str| {
        scenario
            .regions
            .iter()
            .zip(&regions)
            .find(|(spec, _)| spec.nodes.iter().any(|n| n == node))
            .map(|(_, (_, id))| *id)
            .unwrap_or(default_region)
    };
    let names = all_node_names(scenario);
    for name in &names {
        let region = if name.starts_with(CLIENT_PREFIX) {
            default_region
        } else {
            region_of(name)
        };
        builder.node(name.clone(), region)?;
    }
    let find_region = |name: &str| {
        regions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
            .ok_or(format!("unknown region {name}"))
    };
    for over in &scenario.network.regions {
        let (from, to, link) = (
            find_region(&over.from)?,
            find_region(&over.to)?,
            convert::link(&over.link)?,
        );
        builder.region_link(from, to, link.clone())?;
        if over.both_ways && from != to {
            builder.region_link(to, from, link)?;
        }
    }
    let node_id = |name: &str| node_by_name(&names, name);
    for over in &scenario.network.links {
        let (from, to, link) = (
            node_id(&over.from)?,
            node_id(&over.to)?,
            convert::link(&over.link)?,
        );
        builder.link_override(from, to, link.clone())?;
        if over.both_ways && from != to {
            builder.link_override(to, from, link)?;
        }
    }
    let topology = builder.build()?;
    let mut clocks = vec![ClockConfig::default(); names.len()];
    for clock in &scenario.clocks.nodes {
        clocks[node_id(&clock.node)?.index()] = ClockConfig {
            offset_ns: clock.offset.0,
            drift_ppm: clock.drift_ppm,
        };
    }
    let mut config = SimConfig::new(scenario.seed, topology);
    config.clocks = clocks;
    if scenario.outputs.trace {
        config.trace = TraceConfig {
            record: true,
            detail: true,
            records_max: scenario.outputs.trace_events_max.min(usize::MAX as u64) as usize,
        };
    }
    Ok(config)
}

/// Outputs the engine may hold before the runner drains them. Small, so
/// that the runner reports the history's and monitor's memory to the
/// engine often (`Simulation::set_external_bytes`).
const OUTPUTS_PENDING_MAX: usize = 4_096;

/// What the driven part of a run leaves for the checks.
struct Driven<M> {
    stop_reason: StopReason,
    inconclusive: Option<Inconclusive>,
    recorder: HistoryRecorder,
    monitor: M,
    violations: Vec<Violation>,
    faults_without_leader: u64,
    end: SimTime,
    stats: Stats,
    trace_hash: u64,
    trace: Vec<TraceRecord>,
    convergence: Option<CheckResult>,
    memory_peak_bytes: u64,
}

fn drive<S: Service>(
    scenario: &Scenario,
    watcher: &mut dyn RunWatcher,
    make_server: impl FnMut(NodeId) -> S + 'static,
) -> Result<RunOutcome, String> {
    let servers = server_names(&scenario.nodes).len() as u32;
    let workload = Arc::new(convert::workload(&scenario.workload, scenario.duration)?);
    let mut config = sim_config(scenario)?;
    config.limits.memory_bytes_max = scenario.limits.memory.0;
    config.limits.outputs_pending_max = OUTPUTS_PENDING_MAX;
    let names = all_node_names(scenario);
    let mut sim = Simulation::new(config, Cluster::factory(servers, make_server, workload))?;
    // A panic in protocol code unwinds through here: re-raise it carrying
    // how far the run got (the catcher reports it; see `PanicProgress`).
    let driven = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        drive_engine(scenario, &mut sim, &names, servers, watcher)
    }));
    let driven = match driven {
        Ok(driven) => driven?,
        Err(payload) => std::panic::resume_unwind(Box::new(PanicProgress {
            message: panic_message(payload.as_ref()),
            simulated_ns: sim.now().as_nanos(),
            events: sim.events(),
            trace_hash: sim.trace_hash(),
        })),
    };
    // The engine's memory is given back before the checks search.
    drop(sim);
    watcher.engine_done();
    sim_core::memory::return_freed_memory();
    let recorder = driven.recorder;
    let shed = recorder.shed;
    let history_bytes = recorder.bytes;
    let history = recorder.finish();
    // The checks may use what the history and monitor leave of the budget.
    let memo_bytes = scenario
        .limits
        .memory
        .0
        .saturating_sub(history_bytes)
        .saturating_sub(driven.monitor.heap_bytes() as u64);
    let plan = ChecksPlan {
        memo_bytes_max: memo_bytes.min(usize::MAX as u64) as usize,
        cut_short: driven.inconclusive.is_some(),
    };
    let (mut checks, skipped) = run_checks(
        scenario,
        &history,
        driven.violations,
        S::Monitor::INVARIANTS,
        &plan,
    );
    checks.extend(driven.convergence);
    let mut protocol_metrics = driven.monitor.metrics();
    if driven.faults_without_leader > 0 {
        protocol_metrics
            .counts
            .push(("faults_without_leader", driven.faults_without_leader));
    }
    let metrics = metrics::compute(
        &history,
        &driven.stats,
        shed,
        scenario.duration.0,
        &protocol_metrics,
    );
    Ok(RunOutcome {
        resolved: scenario.clone(),
        stop_reason: driven.stop_reason,
        inconclusive: driven.inconclusive,
        skipped,
        memory_peak_bytes: driven.memory_peak_bytes.max(history_bytes),
        memory_budget_bytes: scenario.limits.memory.0,
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

/// Runs the engine through the scenario: schedules the faults, binds
/// "@leader" and friends as their times come, and collects the outputs.
fn drive_engine<S: Service>(
    scenario: &Scenario,
    sim: &mut Simulation<Cluster<S>>,
    names: &[String],
    servers: u32,
    watcher: &mut dyn RunWatcher,
) -> Result<Driven<S::Monitor>, String> {
    let lookup = |name: &str| node_by_name(names, name);
    // Faults naming "@leader" are bound when they happen; the rest now.
    let mut bound_later = Vec::new();
    let mut crashes: Vec<(SimTime, NodeId)> = Vec::new();
    for (index, entry) in scenario.faults.schedule.iter().enumerate() {
        let at = SimTime::ZERO.saturating_add(entry.at.0);
        if names_leader(&entry.fault) {
            bound_later.push((index, at, &entry.fault));
            continue;
        }
        let fault = spare_clients(convert::fault(&entry.fault, &lookup)?, servers, names.len());
        if let sim_core::Fault::Crash { node, .. } = fault {
            crashes.push((at, node));
        }
        sim.schedule_fault(at, fault)?;
    }
    // The monitor hears of server crashes in time order with the events
    // (the leaderless-time metric starts at a leader's crash).
    crashes.retain(|(_, node)| node.0 < servers);
    crashes.sort();
    let mut observer = Observer {
        recorder: HistoryRecorder::new(scenario.workload.clients as usize),
        monitor: S::Monitor::new(servers),
        violations: Vec::new(),
        crashes,
        crashes_told: 0,
    };
    let mut old_leader: Option<NodeId> = None;
    let mut faults_without_leader = 0u64;
    let mut stop_reason = None;
    for (index, at, spec) in bound_later {
        let reason = observer.run(sim, Stop::at(at), watcher);
        if reason != StopReason::TimeReached && reason != StopReason::QueueEmpty {
            stop_reason = Some(reason);
            break;
        }
        let leader = (0..servers)
            .filter_map(|id| {
                let term = sim.node(NodeId(id))?.as_server()?.leader_term()?;
                Some((term, NodeId(id)))
            })
            .max()
            .map(|(_, id)| id);
        let followers: Vec<NodeId> = (0..servers)
            .map(NodeId)
            .filter(|id| Some(*id) != leader && sim.node(*id).is_some())
            .collect();
        let bind = |name: &str| match name {
            LEADER => leader.ok_or_else(|| "no leader".to_string()),
            OLD_LEADER => old_leader.ok_or_else(|| "no leader".to_string()),
            _ => match follower_rank(name) {
                Some(rank) if leader.is_some() => followers
                    .get(rank - 1)
                    .copied()
                    .ok_or_else(|| "too few followers".to_string()),
                Some(_) => Err("no leader".to_string()),
                None => lookup(name),
            },
        };
        let Ok(fault) = convert::fault(spec, &bind).map(|f| spare_clients(f, servers, names.len()))
        else {
            // No server leads right now (or none was crashed as leader):
            // the fault has no target, and the metrics count it.
            faults_without_leader += 1;
            continue;
        };
        if let Some(problem) = bound_overlap(spec, &bind, names) {
            return Err(format!(
                "faults.schedule[{index}].fault: at {at}, {problem}; partition groups must not overlap. Name only bindings that cannot coincide (\"@leader\" with \"@followerK\"), or use Isolate(\"@leader\") (`faultline validate` warns of this)"
            ));
        }
        if leader.is_some() && fault_mentions(spec, |n| n == LEADER) {
            old_leader = leader;
        }
        let at = at.max(sim.now());
        if let sim_core::Fault::Crash { node, .. } = fault {
            if node.0 < servers {
                observer.tell_crash(at, node);
            }
        }
        sim.schedule_fault(at, fault)
            .map_err(|e| format!("faults.schedule[{index}].fault: at {at}: {e}"))?;
    }
    let stop_reason = match stop_reason {
        Some(reason) => reason,
        None => observer.run(sim, Stop::after(scenario.duration.0), watcher),
    };
    let end = sim.now();
    let inconclusive = (!stop_reason.is_complete()).then(|| Inconclusive {
        reason: stop_reason.name(),
        detail: limit_detail(scenario, sim, stop_reason),
        simulated_ns: end.as_nanos(),
        duration_ns: scenario.duration.0.as_nanos(),
    });
    observer.tell_crashes_until(end);
    let Observer {
        recorder,
        mut monitor,
        mut violations,
        ..
    } = observer;
    let at_end = monitor.finish(end);
    // End-of-run invariants judge a finished run: a run cut short is not at
    // its end, so what they would say does not count.
    if inconclusive.is_none() {
        violations.extend(
            at_end
                .into_iter()
                .take(VIOLATIONS_KEPT_MAX.saturating_sub(violations.len())),
        );
    }
    let named = scenario.checks.iter().any(|c| c == "eventual");
    let mut convergence = None;
    if scenario.protocol.serves_registers() && (named || scenario.checks.is_empty()) {
        let check = match &inconclusive {
            Some(_) => CheckResult {
                name: "eventual".into(),
                verdict: Verdict::Unknown,
                detail: "not judged: the run was cut short before its end".into(),
                violations: Vec::new(),
                counterexample: None,
            },
            None => convergence_check(scenario, sim, names, servers, end),
        };
        // Among the default checks, a run too short to be judged leaves this
        // one out rather than making every such run inconclusive.
        if named || check.verdict != Verdict::Unknown {
            convergence = Some(check);
        }
    }
    Ok(Driven {
        stop_reason,
        inconclusive,
        recorder,
        monitor,
        violations,
        faults_without_leader,
        end,
        stats: sim.stats(),
        trace_hash: sim.trace_hash(),
        trace: sim.trace_records().to_vec(),
        convergence,
        memory_peak_bytes: sim.memory_peak_bytes(),
    })
}

/// For a run cut short: which limit, in words, and how to lift it.
fn limit_detail<P: sim_core::Protocol>(
    scenario: &Scenario,
    sim: &Simulation<P>,
    reason: StopReason,
) -> String {
    let reached = format!(
        "stopped at {} of {} simulated",
        sim.now(),
        scenario.duration
    );
    match reason {
        StopReason::MemoryLimit => format!(
            "{reached}: the run's memory estimate reached its budget of {} (limits.memory); {} events were pending. Raise it with --memory or limits.memory, or look for what floods the run",
            scenario.limits.memory,
            sim.pending_events()
        ),
        StopReason::QueueLimit => format!(
            "{reached}: more than {} events were pending (a protocol flooding the network?)",
            sim_core::Limits::default().queue_len_max
        ),
        StopReason::EventLimit => format!("{reached}: the run processed its maximum of events"),
        StopReason::ProtocolLimit => format!(
            "{reached}: {}",
            sim.limit_detail().unwrap_or("a protocol bound was reached")
        ),
        other => format!("{reached}: {}", other.name()),
    }
}

/// For a partition-like fault after binding: two names that landed on the
/// same server, in words naming both and the server.
fn bound_overlap(
    spec: &FaultSpec,
    bind: &dyn Fn(&str) -> Result<NodeId, String>,
    names: &[String],
) -> Option<String> {
    if !names_must_differ(spec) {
        return None;
    }
    let mentioned: Vec<(String, NodeId)> = fault_names(spec)
        .into_iter()
        .filter_map(|name| Some((name.clone(), bind(&name).ok()?)))
        .collect();
    for (i, (a, node)) in mentioned.iter().enumerate() {
        if let Some((b, _)) = mentioned[i + 1..].iter().find(|(_, n)| n == node) {
            let server = &names[node.index()];
            return Some(if a == server || b == server {
                let binding = if a == server { b } else { a };
                format!("\"{binding}\" is {server}, which the same fault also names")
            } else {
                format!("\"{a}\" and \"{b}\" are both {server}")
            });
        }
    }
    None
}

/// What the runner collects while the engine runs: the history, the
/// monitor's verdicts, and which crashes the monitor has been told of.
struct Observer<M> {
    recorder: HistoryRecorder,
    monitor: M,
    violations: Vec<Violation>,
    /// Server crashes, in time order; the first `crashes_told` were told.
    crashes: Vec<(SimTime, NodeId)>,
    crashes_told: usize,
}

impl<M> Observer<M> {
    /// Runs the engine to `stop`, handing every output on as it comes.
    fn run<S>(
        &mut self,
        sim: &mut Simulation<Cluster<S>>,
        stop: Stop,
        watcher: &mut dyn RunWatcher,
    ) -> StopReason
    where
        S: Service<Monitor = M>,
        M: Monitor<S::Event>,
    {
        loop {
            let reason = sim.run(stop);
            for emitted in sim.drain_outputs() {
                match emitted.output {
                    ClusterOutput::Client(event) => self.recorder.record(emitted.time, event),
                    ClusterOutput::Server(event) => {
                        self.tell_crashes_before(emitted.time);
                        let found = self.monitor.observe(emitted.time, emitted.node, &event);
                        if let Some(violation) = found {
                            if self.violations.len() < VIOLATIONS_KEPT_MAX {
                                self.violations.push(violation);
                            }
                        }
                    }
                }
            }
            // What the runner holds counts against the run's budget too.
            let held = self.recorder.bytes
                + self.monitor.heap_bytes() as u64
                + (self.violations.len() * std::mem::size_of::<Violation>()) as u64;
            sim.set_external_bytes(held);
            watcher.running(sim.now().as_nanos(), sim.events());
            if reason != StopReason::OutputsPending {
                return reason;
            }
        }
    }

    fn tell_crashes_before<E>(&mut self, time: SimTime)
    where
        M: Monitor<E>,
    {
        while let Some(&(at, node)) = self.crashes.get(self.crashes_told) {
            if at >= time {
                break;
            }
            self.crashes_told += 1;
            self.monitor.node_crashed(at, node);
        }
    }

    fn tell_crashes_until<E>(&mut self, time: SimTime)
    where
        M: Monitor<E>,
    {
        self.tell_crashes_before(time.saturating_add(SimDuration::from_nanos(1)));
    }

    /// A crash bound at run time, at `at` (now): earlier ones go first.
    fn tell_crash<E>(&mut self, at: SimTime, node: NodeId)
    where
        M: Monitor<E>,
    {
        self.tell_crashes_until(at);
        self.monitor.node_crashed(at, node);
    }
}

/// Whether a fault names "@leader" or "@old-leader".
fn names_leader(spec: &FaultSpec) -> bool {
    fault_mentions(spec, |n| n.starts_with('@'))
}

fn fault_mentions(spec: &FaultSpec, matches: impl Fn(&str) -> bool) -> bool {
    fault_names(spec).iter().any(|n| matches(n))
}

/// How the checks of one run are to be run.
struct ChecksPlan {
    /// Memory the search memos may use (what the budget leaves).
    memo_bytes_max: usize,
    /// The run stopped before its end.
    cut_short: bool,
}

/// The searches (linearizability, sequential) are skipped once a check the
/// scenario does not expect to fail has failed: the seed fails whatever they
/// find, and on a broken history they are the slow part. The cheap checks
/// (invariants, session guarantees) run first.
fn run_checks(
    scenario: &Scenario,
    history: &History,
    violations: Vec<Violation>,
    invariants: &[&'static str],
    plan: &ChecksPlan,
) -> (Vec<CheckResult>, Vec<Skipped>) {
    let wanted =
        |name: &str| scenario.checks.is_empty() || scenario.checks.iter().any(|c| c == name);
    let registers = scenario.protocol.serves_registers();
    let names = all_node_names(scenario);
    let invariants_check = invariants_check(&wanted, violations, invariants, plan, &names);
    let session_checks = if registers {
        session_checks(&wanted, history)
    } else {
        Vec::new()
    };
    // A failure the scenario does not expect decides the seed.
    let decided_by = |done: &[&CheckResult]| -> Option<String> {
        done.iter()
            .flat_map(|check| check.failed_names())
            .find(|name| !expected_violation(&scenario.expect, name))
            .map(str::to_string)
    };
    let mut skipped = Vec::new();
    let mut skip = |name: &str, by: String| {
        skipped.push(Skipped {
            name: name.to_string(),
            why: format!("{by} failed, which the scenario does not expect, so the seed fails whatever this search finds"),
        });
    };
    let cheap: Vec<&CheckResult> = invariants_check.iter().chain(&session_checks).collect();
    let mut linearizability = None;
    if registers && wanted("linearizability") {
        match decided_by(&cheap) {
            Some(by) => skip("linearizability", by),
            None => linearizability = Some(linearizability_check(history, plan)),
        }
    }
    let mut sequential = None;
    if registers && wanted("sequential") {
        let done: Vec<&CheckResult> = cheap
            .iter()
            .copied()
            .chain(linearizability.as_ref())
            .collect();
        match decided_by(&done) {
            Some(by) => skip("sequential", by),
            None => sequential = Some(sequential_check(history, linearizability.as_ref(), plan)),
        }
    }
    let results = linearizability
        .into_iter()
        .chain(sequential)
        .chain(session_checks)
        .chain(invariants_check)
        .collect();
    (results, skipped)
}

fn linearizability_check(history: &History, plan: &ChecksPlan) -> CheckResult {
    let budget = Budget {
        steps_max: LINEARIZABILITY_STEPS_MAX,
        memo_bytes_max: plan.memo_bytes_max.min(Budget::default().memo_bytes_max),
        ..Budget::default()
    };
    let report = linearizability::check(history, &KvModel::default(), &budget);
    let detail = match report.verdict {
        Verdict::Pass => format!(
            "{} operations on {} keys are linearizable",
            history.len(),
            report.keys_checked
        ),
        Verdict::Fail => {
            let cx = report
                .counterexample
                .as_ref()
                .expect("a failure has a counterexample");
            let culprit = match cx.culprit.map(|i| &history.operations[i]) {
                    Some(op) => format!(
                        "; {:?} by process {} invoked at {} saw {:?} but the longest linearizable prefix ({} ops) leaves {}",
                        op.f,
                        op.process,
                        SimTime::from_nanos(op.invoke_ns),
                        op.value.as_deref().unwrap_or("nothing"),
                        cx.longest_prefix.len(),
                        cx.state_after_prefix
                    ),
                    None => String::new(),
                };
            format!(
                "key {} is not linearizable ({} operations){culprit}",
                cx.key,
                cx.sub_history.len()
            )
        }
        Verdict::Unknown => report.unknown_reason.clone().unwrap_or_default(),
    };
    CheckResult {
        name: "linearizability".into(),
        verdict: report.verdict,
        detail,
        violations: Vec::new(),
        counterexample: report.counterexample,
    }
}

fn session_checks(wanted: &dyn Fn(&str) -> bool, history: &History) -> Vec<CheckResult> {
    let mut results = Vec::new();
    let guarantees: Vec<&'static str> = session::GUARANTEES
        .iter()
        .copied()
        .filter(|g| wanted("session") || wanted(g))
        .collect();
    if !guarantees.is_empty() {
        let report = session::check(history, "");
        for guarantee in guarantees {
            let count = report.counts.get(guarantee).copied().unwrap_or(0);
            let first = report.violations.iter().find(|v| v.guarantee == guarantee);
            let detail = match first {
                None => format!(
                    "held for every client ({} keys checked, {} skipped)",
                    report.keys_checked, report.keys_skipped
                ),
                Some(v) => {
                    let read = &history.operations[v.read];
                    let at_least = if report.counts_capped {
                        "at least "
                    } else {
                        ""
                    };
                    format!(
                        "{at_least}{count} violations; first: process {} read {:?} from {} at {}, older than a write it was obliged to see{}",
                        read.process,
                        read.value.as_deref().unwrap_or(""),
                        read.key,
                        SimTime::from_nanos(read.invoke_ns),
                        v.obliged.map(|w| format!(" ({:?})", history.operations[w].value.as_deref().unwrap_or(""))).unwrap_or_default()
                    )
                }
            };
            let verdict = if count == 0 {
                Verdict::Pass
            } else {
                Verdict::Fail
            };
            results.push(CheckResult {
                name: guarantee.into(),
                verdict,
                detail,
                violations: Vec::new(),
                counterexample: None,
            });
        }
    }
    results
}

fn invariants_check(
    wanted: &dyn Fn(&str) -> bool,
    violations: Vec<Violation>,
    invariants: &[&'static str],
    plan: &ChecksPlan,
    names: &[String],
) -> Option<CheckResult> {
    let selected: Vec<&'static str> = invariants
        .iter()
        .copied()
        .filter(|name| wanted("invariants") || wanted(name))
        .collect();
    if !(wanted("invariants") || !selected.is_empty()) {
        return None;
    }
    {
        let kept: Vec<Violation> = violations
            .into_iter()
            .filter(|v| selected.contains(&v.invariant))
            .map(|v| Violation {
                message: with_node_names(&v.message, names),
                ..v
            })
            .collect();
        let detail = match kept.first() {
            None if selected.is_empty() => "this protocol declares no invariants".to_string(),
            None if plan.cut_short => format!(
                "all {} held until the run was cut short (end-of-run invariants not judged): {}",
                selected.len(),
                selected.join(", ")
            ),
            None => format!(
                "all {} held throughout: {}",
                selected.len(),
                selected.join(", ")
            ),
            Some(first) => format!(
                "{} violations; first: {} at {}{}: {}",
                kept.len(),
                first.invariant,
                first.time,
                first
                    .node
                    .and_then(|n| names.get(n.index()))
                    .map(|name| format!(" on {name}"))
                    .unwrap_or_default(),
                first.message
            ),
        };
        Some(CheckResult {
            name: "invariants".into(),
            verdict: if kept.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            detail,
            violations: kept,
            counterexample: None,
        })
    }
}

/// The partition rule for clients: a client that a partition does not
/// name keeps reaching every server (as in Jepsen, where a client talks to
/// its node unless the test cuts it); naming a client in a group places it
/// on that side. Without this, unlisted clients formed a group of their
/// own and a partition of the servers silently cut off every client.
fn spare_clients(fault: sim_core::Fault, servers: u32, node_count: usize) -> sim_core::Fault {
    use sim_core::{Fault, Partition};
    match fault {
        Fault::Partition(partition @ (Partition::Groups(_) | Partition::Bridge { .. })) => {
            Fault::Partition(Partition::Sparing {
                partition: Box::new(partition),
                spared: (servers..node_count as u32).map(NodeId).collect(),
            })
        }
        other => other,
    }
}

/// A monitor's message with each node id (`#3`, as `NodeId` prints) replaced
/// by the node's name in the scenario (`n4`): monitors are sans-IO and know
/// ids only, and users know names only. Also used for `trace.jsonl`.
pub fn with_node_names(message: &str, names: &[String]) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find('#') {
        out.push_str(&rest[..at]);
        let digits: String = rest[at + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        match digits.parse::<usize>().ok().and_then(|id| names.get(id)) {
            Some(name) => out.push_str(name),
            None => out.push_str(&rest[at..at + 1 + digits.len()]),
        }
        rest = &rest[at + 1 + digits.len()..];
    }
    out.push_str(rest);
    out
}

/// Sequential consistency. A linearizable history is sequentially
/// consistent (clients never overlap their own operations and retire after
/// an unknown outcome), so the search runs only when linearizability did
/// not pass.
fn sequential_check(
    history: &History,
    linearizability: Option<&CheckResult>,
    plan: &ChecksPlan,
) -> CheckResult {
    let implied = linearizability.is_some_and(|c| c.verdict == Verdict::Pass);
    let (verdict, detail) = if implied {
        (
            Verdict::Pass,
            "implied: the history is linearizable".to_string(),
        )
    } else {
        let budget = Budget {
            steps_max: SEQUENTIAL_STEPS_MAX,
            memo_bytes_max: plan.memo_bytes_max.min(Budget::default().memo_bytes_max),
            ..Budget::default()
        };
        let report = sim_core::checker::sequential::check(history, &KvModel::default(), &budget);
        let detail = match report.verdict {
            Verdict::Pass => format!("{} operations have a legal order respecting each client's order", history.len()),
            Verdict::Fail => format!(
                "no legal order respects each client's order; the longest has {} operations, then none of {} operations can follow",
                report.longest_prefix.as_ref().map_or(0, Vec::len),
                report.blocked.len()
            ),
            Verdict::Unknown => report.unknown_reason.clone().unwrap_or_default(),
        };
        (report.verdict, detail)
    };
    CheckResult {
        name: "sequential".into(),
        verdict,
        detail,
        violations: Vec::new(),
        counterexample: None,
    }
}

/// How long the system must have been quiet (no fault, no new client
/// operation) before the end for convergence to be judged.
pub const QUIET_BEFORE_END: SimDuration = SimDuration::from_millis(200);

/// Eventual consistency: the live replicas' final data agree, provided the
/// last fault and the last client operation lie `QUIET_BEFORE_END` before the end.
fn convergence_check<S: Service>(
    scenario: &Scenario,
    sim: &Simulation<Cluster<S>>,
    names: &[String],
    servers: u32,
    end: SimTime,
) -> CheckResult {
    let last_fault = scenario
        .faults
        .schedule
        .last()
        .map_or(SimDuration::ZERO, |f| f.at.0);
    let last_op = convert::workload(&scenario.workload, scenario.duration)
        .map_or(SimDuration::ZERO, |w| w.stop_after);
    let quiet_from = last_fault.max(last_op).min(scenario.duration.0);
    let result = |verdict, detail: String| CheckResult {
        name: "eventual".into(),
        verdict,
        detail,
        violations: Vec::new(),
        counterexample: None,
    };
    if end.since_start().saturating_sub(quiet_from) < QUIET_BEFORE_END {
        return result(
            Verdict::Unknown,
            format!("not judged: the run ends {} after its last fault or operation; convergence needs {QUIET_BEFORE_END} of quiet", end.since_start().saturating_sub(quiet_from)),
        );
    }
    let replicas: Vec<Replica<'_>> = (0..servers)
        .filter_map(|id| {
            let node = sim.node(NodeId(id))?;
            let data = node.as_server()?.replica_data()?;
            Some(Replica {
                name: names[id as usize].as_str(),
                data,
            })
        })
        .collect();
    match diverging_key(&replicas) {
        None => result(
            Verdict::Pass,
            format!(
                "{} live replicas hold the same data at the end",
                replicas.len()
            ),
        ),
        Some(d) => {
            let values: Vec<String> = d
                .values
                .iter()
                .map(|(r, v)| format!("{r}={}", v.as_deref().unwrap_or("(absent)")))
                .collect();
            result(
                Verdict::Fail,
                format!("replicas differ on key {}: {}", d.key, values.join(", ")),
            )
        }
    }
}

/// Pairs client invocations with completions into operations.
struct HistoryRecorder {
    open: Vec<Option<(SimTime, KvOp)>>,
    operations: Vec<Operation>,
    shed: u64,
    /// Memory the history holds (for the run's budget): each operation's
    /// size twice (a growing vector's spare capacity) plus its strings.
    bytes: u64,
    /// Unknown outcomes per client so far. As in Jepsen, a client whose
    /// operation ended unknown goes on as a new process (number
    /// `client + clients * retirements`), because the old one may still
    /// have an operation in flight.
    retirements: Vec<u64>,
}

impl HistoryRecorder {
    fn new(clients: usize) -> Self {
        HistoryRecorder {
            open: vec![None; clients],
            operations: Vec::new(),
            shed: 0,
            bytes: (clients * std::mem::size_of::<Option<(SimTime, KvOp)>>()) as u64,
            retirements: vec![0; clients],
        }
    }

    fn process(&self, client: u64) -> u64 {
        client + self.open.len() as u64 * self.retirements[client as usize]
    }

    fn record(&mut self, time: SimTime, event: ClientEvent) {
        match event {
            ClientEvent::Invoke { client, op } => {
                let slot = &mut self.open[client as usize];
                assert!(
                    slot.is_none(),
                    "client {client} invoked while an operation was open"
                );
                *slot = Some((time, op));
            }
            ClientEvent::Complete {
                client,
                outcome,
                result,
            } => {
                let (invoked, op) = self.open[client as usize]
                    .take()
                    .expect("a completion follows an invocation");
                let complete = if outcome == Outcome::Info {
                    None
                } else {
                    Some(time)
                };
                self.push(client, invoked, complete, outcome, op, result);
                if outcome == Outcome::Info {
                    self.retirements[client as usize] += 1;
                }
            }
            ClientEvent::Shed { .. } => self.shed += 1,
        }
    }

    fn push(
        &mut self,
        client: u64,
        invoked: SimTime,
        complete: Option<SimTime>,
        outcome: Outcome,
        op: KvOp,
        result: Option<KvResult>,
    ) {
        if self.operations.len() >= HISTORY_OPS_MAX {
            return;
        }
        let (f, key, value, expected) = match op {
            KvOp::Get { key } => {
                let seen = match result {
                    Some(KvResult::Value(v)) => Some(v),
                    _ => None,
                };
                (Function::Read, key, seen, None)
            }
            KvOp::Put { key, value } => (Function::Write, key, Some(value), None),
            KvOp::Cas { key, expected, new } => (Function::Cas, key, Some(new), Some(expected)),
            KvOp::Append { key, value } => (Function::Append, key, Some(value), None),
            KvOp::Order { item, quantity } => {
                (Function::Order, item, Some(quantity.to_string()), None)
            }
            KvOp::Transfer { from, to, amount } => (
                Function::Transfer,
                format!("{from}->{to}"),
                Some(amount.to_string()),
                None,
            ),
        };
        let process = self.process(client);
        self.bytes += (2 * std::mem::size_of::<Operation>()
            + key.capacity()
            + value.as_ref().map_or(0, String::capacity)
            + expected.as_ref().map_or(0, String::capacity)) as u64;
        self.operations.push(Operation {
            process,
            f,
            key,
            value,
            expected,
            outcome,
            invoke_ns: invoked.as_nanos(),
            complete_ns: complete.map(SimTime::as_nanos),
        });
    }

    /// Operations still open at the end become `Info`: they may have taken effect.
    fn finish(mut self) -> History {
        for client in 0..self.open.len() {
            if let Some((invoked, op)) = self.open[client].take() {
                self.push(client as u64, invoked, None, Outcome::Info, op, None);
            }
        }
        self.operations.sort_by_key(|op| (op.invoke_ns, op.process));
        History {
            operations: self.operations,
        }
    }
}
