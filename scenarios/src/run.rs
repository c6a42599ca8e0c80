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
    all_node_names, follower_rank, server_names, CLIENT_PREFIX, LEADER, OLD_LEADER,
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

/// Everything a run produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub resolved: Scenario,
    pub stop_reason: StopReason,
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
        let mut names = Vec::new();
        for check in self.checks.iter().filter(|c| c.verdict == Verdict::Fail) {
            if check.violations.is_empty() {
                names.push(check.name.clone());
            } else {
                for violation in &check.violations {
                    if !names.iter().any(|n| n == violation.invariant) {
                        names.push(violation.invariant.to_string());
                    }
                }
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
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.verdict == Verdict::Pass)
    }
}

/// Whether a failed check `name` counts as one the scenario expects.
pub fn expected_violation(expect: &Expect, name: &str) -> bool {
    match expect {
        Expect::Pass => false,
        Expect::Violation(names) => names.iter().any(|n| n == name),
    }
}

/// Runs a resolved scenario (see `resolve`). Errors are input errors the
/// validator could not see; a protocol bug panics.
pub fn run(resolved: &Scenario) -> Result<RunOutcome, String> {
    match &resolved.protocol {
        ProtocolSpec::PingPong(spec) => {
            let panic_probability = spec.panic_probability;
            drive(resolved, move |_| PingPongService {
                pongs: 0,
                panic_probability,
            })
        }
        ProtocolSpec::KvSingle(spec) => {
            let params = spec.params();
            drive(resolved, move |_| KvSingle::new(params.clone()))
        }
        ProtocolSpec::Raft(spec) => {
            let params = Arc::new(spec.params());
            drive(resolved, move |_| Raft::new(params.clone()))
        }
        ProtocolSpec::RingElection(spec) => {
            let params = Arc::new(spec.params(server_names(&resolved.nodes).len()));
            drive(resolved, move |_| RingElection::new(params.clone()))
        }
        ProtocolSpec::BullyElection(spec) => {
            let params = Arc::new(spec.params(server_names(&resolved.nodes).len()));
            drive(resolved, move |_| Bully::new(params.clone()))
        }
        ProtocolSpec::TwoPhaseCommit(_) | ProtocolSpec::ThreePhaseCommit(_) => {
            let (variant, spec) = resolved.protocol.commit().expect("a commit protocol");
            let params = Arc::new(spec.params(variant, resolved.workload.keys));
            drive(resolved, move |_| AtomicCommit::new(params.clone()))
        }
        ProtocolSpec::Saga(spec) => {
            let params = Arc::new(spec.params(resolved.workload.keys));
            drive(resolved, move |_| Saga::new(params.clone()))
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

fn drive<S: Service>(
    scenario: &Scenario,
    make_server: impl FnMut(NodeId) -> S + 'static,
) -> Result<RunOutcome, String> {
    let servers = server_names(&scenario.nodes).len() as u32;
    let workload = Arc::new(convert::workload(&scenario.workload, scenario.duration)?);
    let config = sim_config(scenario)?;
    let names = all_node_names(scenario);
    let mut sim = Simulation::new(config, Cluster::factory(servers, make_server, workload))?;
    let lookup = |name: &str| node_by_name(&names, name);
    // Faults naming "@leader" are bound when they happen; the rest now.
    let mut bound_later = Vec::new();
    let mut crashes: Vec<(SimTime, NodeId)> = Vec::new();
    for entry in &scenario.faults.schedule {
        let at = SimTime::ZERO.saturating_add(entry.at.0);
        if names_leader(&entry.fault) {
            bound_later.push((at, &entry.fault));
            continue;
        }
        let fault = convert::fault(&entry.fault, &lookup)?;
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
    for (at, spec) in bound_later {
        let reason = observer.run(&mut sim, Stop::at(at));
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
        let Ok(fault) = convert::fault(spec, &bind) else {
            // No server leads right now (or none was crashed as leader):
            // the fault has no target, and the metrics count it.
            faults_without_leader += 1;
            continue;
        };
        if leader.is_some() && fault_mentions(spec, |n| n == LEADER) {
            old_leader = leader;
        }
        let at = at.max(sim.now());
        if let sim_core::Fault::Crash { node, .. } = fault {
            if node.0 < servers {
                observer.tell_crash(at, node);
            }
        }
        sim.schedule_fault(at, fault)?;
    }
    let stop_reason = match stop_reason {
        Some(reason) => reason,
        None => observer.run(&mut sim, Stop::after(scenario.duration.0)),
    };
    let end = sim.now();
    observer.tell_crashes_until(end);
    let Observer {
        recorder,
        mut monitor,
        mut violations,
        ..
    } = observer;
    violations.extend(
        monitor
            .finish(end)
            .into_iter()
            .take(VIOLATIONS_KEPT_MAX.saturating_sub(violations.len())),
    );
    let shed = recorder.shed;
    let history = recorder.finish();
    let stats = sim.stats();
    let mut checks = run_checks(scenario, &history, violations, S::Monitor::INVARIANTS);
    let named = scenario.checks.iter().any(|c| c == "eventual");
    if scenario.protocol.serves_registers() && (named || scenario.checks.is_empty()) {
        let check = convergence_check(scenario, &sim, &names, servers, end);
        // Among the default checks, a run too short to be judged leaves this
        // one out rather than making every such run inconclusive.
        if named || check.verdict != Verdict::Unknown {
            checks.push(check);
        }
    }
    let mut protocol_metrics = monitor.metrics();
    if faults_without_leader > 0 {
        protocol_metrics
            .counts
            .push(("faults_without_leader", faults_without_leader));
    }
    let metrics = metrics::compute(
        &history,
        &stats,
        shed,
        scenario.duration.0,
        &protocol_metrics,
    );
    Ok(RunOutcome {
        resolved: scenario.clone(),
        stop_reason,
        simulated_ns: end.as_nanos(),
        trace_hash: sim.trace_hash(),
        stats: Stats {
            per_node: Vec::new(),
            ..stats
        },
        history,
        checks,
        metrics,
        protocol_samples: protocol_metrics.samples,
        trace: sim.trace_records().to_vec(),
    })
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
    fn run<S>(&mut self, sim: &mut Simulation<Cluster<S>>, stop: Stop) -> StopReason
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
    let found = std::cell::Cell::new(false);
    let probe = |n: &str| {
        found.set(found.get() || matches(n));
        Ok(NodeId(0))
    };
    let _ = convert::fault(spec, &probe);
    found.get()
}

fn run_checks(
    scenario: &Scenario,
    history: &History,
    violations: Vec<Violation>,
    invariants: &[&'static str],
) -> Vec<CheckResult> {
    let wanted =
        |name: &str| scenario.checks.is_empty() || scenario.checks.iter().any(|c| c == name);
    let mut results = Vec::new();
    if scenario.protocol.serves_registers() && wanted("linearizability") {
        let budget = Budget {
            steps_max: LINEARIZABILITY_STEPS_MAX,
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
        results.push(CheckResult {
            name: "linearizability".into(),
            verdict: report.verdict,
            detail,
            violations: Vec::new(),
            counterexample: report.counterexample,
        });
    }
    if scenario.protocol.serves_registers() && wanted("sequential") {
        results.push(sequential_check(history, &results));
    }
    let guarantees: Vec<&'static str> = session::GUARANTEES
        .iter()
        .copied()
        .filter(|g| wanted("session") || wanted(g))
        .collect();
    if scenario.protocol.serves_registers() && !guarantees.is_empty() {
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
                    format!(
                        "{count} violations; first: process {} read {:?} from {} at {}, older than a write it was obliged to see{}",
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
    let selected: Vec<&'static str> = invariants
        .iter()
        .copied()
        .filter(|name| wanted("invariants") || wanted(name))
        .collect();
    if wanted("invariants") || !selected.is_empty() {
        let kept: Vec<Violation> = violations
            .into_iter()
            .filter(|v| selected.contains(&v.invariant))
            .collect();
        let detail = match kept.first() {
            None if selected.is_empty() => "this protocol declares no invariants".to_string(),
            None => format!(
                "all {} held throughout: {}",
                selected.len(),
                selected.join(", ")
            ),
            Some(first) => format!(
                "{} violations; first: {} at {}: {}",
                kept.len(),
                first.invariant,
                first.time,
                first.message
            ),
        };
        results.push(CheckResult {
            name: "invariants".into(),
            verdict: if kept.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            detail,
            violations: kept,
            counterexample: None,
        });
    }
    results
}

/// Sequential consistency. A linearizable history is sequentially
/// consistent (clients never overlap their own operations and retire after
/// an unknown outcome), so the search runs only when linearizability did
/// not pass.
fn sequential_check(history: &History, earlier: &[CheckResult]) -> CheckResult {
    let implied = earlier
        .iter()
        .any(|c| c.name == "linearizability" && c.verdict == Verdict::Pass);
    let (verdict, detail) = if implied {
        (
            Verdict::Pass,
            "implied: the history is linearizable".to_string(),
        )
    } else {
        let budget = Budget {
            steps_max: LINEARIZABILITY_STEPS_MAX,
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
