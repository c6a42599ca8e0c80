//! Driving the engine through a run: build the cluster, schedule the
//! faults, bind "@leader" and friends as their times come, feed the
//! history recorder and the protocol's monitor, and judge convergence
//! while the servers still exist.
//!
//! Generic over the protocol's service, so that the event loop is
//! monomorphised; everything it reads of the scenario comes through the
//! `Plan`, and what it leaves for the checks (`Driven`) is not generic.

use crate::convergence::{self, EVENTUAL};
use crate::convert::{self, fault_names, names_must_differ};
use crate::metrics::FaultBinding;
use crate::names::{follower_rank, node_by_name, LEADER, OLD_LEADER};
use crate::outcome::{
    panic_message, CheckResult, Inconclusive, PanicProgress, RunWatcher, Skipped,
};
use crate::plan::Plan;
use crate::recorder::HistoryRecorder;
use crate::run_error::RunError;
use crate::schema::FaultSpec;
use protocols::cluster::{Cluster, ClusterOutput, Service};
use protocols::invariant::{Monitor, ProtocolMetrics, Violation};
use sim_core::checker::Verdict;
use sim_core::SimDuration;
use sim_core::{NodeId, SimConfig, SimTime, Simulation, Stats, Stop, StopReason, TraceRecord};

/// Outputs the engine may hold before the runner drains them. Small, so
/// that the runner reports the history's and monitor's memory to the
/// engine often (`Simulation::set_external_bytes`).
const OUTPUTS_PENDING_MAX: usize = 4_096;

/// Events the engine runs between two calls of the watcher at most, so
/// progress is told, and a run can be stopped, however long it spends at
/// one simulated instant (about a tenth of a second of the engine).
const SLICE_EVENTS: u64 = 1 << 20;

/// The inconclusive reason of a run whose fault schedule was cut at its cap.
pub const SCHEDULE_FULL: &str = "schedule_full";

/// Invariant violations kept per run (the first ones matter most).
pub const VIOLATIONS_KEPT_MAX: usize = 100;

/// What the driven part of a run leaves for the checks.
pub struct Driven {
    pub stop_reason: StopReason,
    pub inconclusive: Option<Inconclusive>,
    pub recorder: HistoryRecorder,
    pub violations: Vec<Violation>,
    /// The invariants the protocol's monitor checked.
    pub invariants: &'static [&'static str],
    /// What the monitor measured, and the heap it held at the end.
    pub protocol_metrics: ProtocolMetrics,
    pub monitor_heap_bytes: u64,
    pub faults_without_leader: u64,
    /// The roles faults named, bound when they happened.
    pub fault_bindings: Vec<FaultBinding>,
    pub end: SimTime,
    pub stats: Stats,
    pub trace_hash: u64,
    pub trace: Vec<TraceRecord>,
    /// The `eventual` check, or why it did not apply (`None`: not asked for).
    pub convergence: Option<Result<CheckResult, Skipped>>,
    /// Each node that synced, by name, with its sync latencies.
    pub disks: Vec<(String, sim_core::histogram::LatencyHistogram)>,
    pub memory_peak_bytes: u64,
}

/// Runs the engine with `make_server`'s servers (and `make_agent`'s
/// agents at the client nodes, if any) through `plan`. The
/// engine's memory is freed before this returns.
pub fn drive<S: Service>(
    plan: &Plan<'_>,
    mut config: SimConfig,
    watcher: &mut dyn RunWatcher,
    make_server: impl FnMut(NodeId) -> S + 'static,
    make_agent: Option<protocols::cluster::MakeAgent<S>>,
    routing: protocols::client::ClientRouting,
) -> Result<Driven, RunError> {
    // Only a run that judges convergence pays for sampling the network.
    let network_repair = convergence::judged(plan)
        .then(|| convergence::network_repair(&config.topology, plan.servers));
    config.limits.memory_bytes_max = plan.memory.0;
    config.limits.events_max = plan.events_max;
    config.limits.events_per_instant_max = plan.events_per_instant_max;
    config.limits.outputs_pending_max = OUTPUTS_PENDING_MAX;
    let mut sim = Simulation::new(
        config,
        Cluster::factory(
            plan.servers,
            make_server,
            make_agent,
            plan.workload.clone(),
            routing,
        ),
    )?;
    // A panic in protocol code unwinds through here: re-raise it carrying
    // how far the run got (the catcher reports it; see `PanicProgress`).
    let driven = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        drive_engine(plan, &mut sim, watcher, network_repair)
    }));
    match driven {
        Ok(driven) => driven,
        Err(payload) => std::panic::resume_unwind(Box::new(PanicProgress {
            message: panic_message(payload.as_ref()),
            simulated_ns: sim.now().as_nanos(),
            events: sim.events(),
            trace_hash: sim.trace_hash(),
            trace: sim.trace_records().to_vec(),
        })),
    }
}

/// Runs the engine through the scenario: schedules the faults, binds
/// "@leader" and friends as their times come, and collects the outputs.
fn drive_engine<S: Service>(
    plan: &Plan<'_>,
    sim: &mut Simulation<Cluster<S>>,
    watcher: &mut dyn RunWatcher,
    network_repair: Option<SimDuration>,
) -> Result<Driven, RunError> {
    let (names, servers) = (plan.names.as_slice(), plan.servers);
    let lookup = |name: &str| node_by_name(names, name);
    // Faults naming "@leader" are bound when they happen; the rest now.
    let mut bound_later = Vec::new();
    let mut crashes: Vec<(SimTime, NodeId)> = Vec::new();
    for (index, entry) in plan.schedule.iter().enumerate() {
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
        recorder: HistoryRecorder::new(plan.clients as usize),
        monitor: S::Monitor::new(servers),
        violations: Vec::new(),
        crashes,
        crashes_told: 0,
        cancelled: None,
    };
    let mut old_leader: Option<NodeId> = None;
    let mut faults_without_leader = 0u64;
    let mut bindings: Vec<FaultBinding> = Vec::new();
    let mut stop_reason = None;
    let until = SimTime::ZERO.saturating_add(plan.duration.0);
    let until = plan.stop_at.map_or(until, |stop| stop.min(until));
    // A schedule cut short by its cap is complete only before the cut.
    let until = plan.schedule_cut_at.map_or(until, |cut| cut.min(until));
    for (index, at, spec) in bound_later {
        if at > until {
            break;
        }
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
            return Err(RunError::Binding {
                index,
                message: format!(
                    "faults.schedule[{index}].fault: at {at}, {problem}; partition groups must not overlap. Name only bindings that cannot coincide (\"@leader\" with \"@followerK\"), or use Isolate(\"@leader\") (`faultline validate` warns of this)"
                ),
            });
        }
        for role in fault_names(spec).into_iter().filter(|n| n.starts_with('@')) {
            if let Ok(node) = bind(&role) {
                if !bindings
                    .iter()
                    .any(|b: &FaultBinding| b.index == index && b.role == role)
                {
                    bindings.push(FaultBinding {
                        index,
                        role,
                        node: names[node.0 as usize].clone(),
                    });
                }
            }
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
            .map_err(|e| RunError::Binding {
                index,
                message: format!("faults.schedule[{index}].fault: at {at}: {e}"),
            })?;
    }
    // Convergence is judged only of replicas that have settled: their
    // data as it stood `SETTLED_FOR` before the end, to compare.
    let mut settled_from = None;
    let stop_reason = match stop_reason {
        Some(reason) => Some(reason),
        None if network_repair.is_some() => {
            let at = SimTime::ZERO
                .saturating_add(until.since_start().saturating_sub(convergence::SETTLED_FOR));
            let reason = observer.run(sim, Stop::at(at.max(sim.now())), watcher);
            if reason == StopReason::TimeReached || reason == StopReason::QueueEmpty {
                settled_from = Some(convergence::Settle {
                    replicas: convergence::snapshot(sim, servers),
                    stragglers: sim.messages_arriving_after(until, |n| n.0 < servers),
                });
                None
            } else {
                Some(reason)
            }
        }
        None => None,
    };
    let stop_reason = match stop_reason {
        Some(reason) => reason,
        None => observer.run(sim, Stop::at(until), watcher),
    };
    let end = sim.now();
    let mut inconclusive = (!stop_reason.is_complete()).then(|| Inconclusive {
        reason: stop_reason.name(),
        detail: match (stop_reason, &observer.cancelled) {
            (StopReason::Cancelled, Some(why)) => format!(
                "stopped at {} of {} simulated: {why}",
                sim.now(),
                plan.duration
            ),
            _ => limit_detail(plan, sim, stop_reason),
        },
        simulated_ns: end.as_nanos(),
        duration_ns: plan.duration.0.as_nanos(),
    });
    if let Some(cut) = plan.schedule_cut_at {
        if inconclusive.is_none() && cut < SimTime::ZERO.saturating_add(plan.duration.0) {
            inconclusive = Some(Inconclusive {
                reason: SCHEDULE_FULL,
                detail: format!(
                    "stopped at {cut} of {} simulated: the outages or the nemesis drew more faults than the schedule holds ({} entries), so it is complete only before {cut} (faults.cut_at). Raise up_mean and down_mean, or the nemesis's intervals, or shorten their window",
                    plan.duration,
                    crate::schema::SCHEDULE_MAX
                ),
                simulated_ns: end.as_nanos(),
                duration_ns: plan.duration.0.as_nanos(),
            });
        }
    }
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
    let named = plan.checks.iter().any(|c| c == EVENTUAL);
    let mut judged = None;
    if let Some(network_repair) = network_repair {
        let check = match &inconclusive {
            Some(_) => Ok(CheckResult {
                name: EVENTUAL.into(),
                verdict: Verdict::Unknown,
                detail: "not judged: the run was cut short before its end".into(),
                violations: Vec::new(),
                counterexample: None,
            }),
            None => convergence::judge(plan, sim, end, settled_from.as_ref(), network_repair),
        };
        // Among the default checks, a run that does not allow judging
        // leaves this one out rather than listing it on every such run.
        if named || check.is_ok() {
            judged = Some(check);
        }
    }
    let protocol_metrics = monitor.metrics();
    let monitor_heap_bytes = monitor.heap_bytes() as u64;
    Ok(Driven {
        stop_reason,
        inconclusive,
        recorder,
        violations,
        invariants: S::Monitor::INVARIANTS,
        protocol_metrics,
        monitor_heap_bytes,
        faults_without_leader,
        fault_bindings: bindings,
        end,
        stats: sim.stats(),
        trace_hash: sim.trace_hash(),
        trace: sim.trace_records().to_vec(),
        convergence: judged,
        disks: (0..plan.names.len())
            .map(|i| (i, sim.sync_latencies(NodeId(i as u32))))
            .filter(|(_, h)| h.count() > 0)
            .map(|(i, h)| (plan.names[i].clone(), h.clone()))
            .collect(),
        memory_peak_bytes: sim.memory_peak_bytes(),
    })
}

/// For a run cut short: which limit, in words, and how to lift it.
fn limit_detail<P: sim_core::Protocol>(
    plan: &Plan<'_>,
    sim: &Simulation<P>,
    reason: StopReason,
) -> String {
    let reached = format!("stopped at {} of {} simulated", sim.now(), plan.duration);
    match reason {
        StopReason::MemoryLimit => format!(
            "{reached}: the run's memory estimate reached its budget of {} (limits.memory); {} events were pending. Raise it with --memory or limits.memory, or look for what floods the run",
            plan.memory,
            sim.pending_events()
        ),
        StopReason::QueueLimit => format!(
            "{reached}: more than {} events were pending (a protocol flooding the network?)",
            sim_core::Limits::default().queue_len_max
        ),
        StopReason::EventLimit => format!(
            "{reached}: the run processed its maximum of {} events (limits.events_max). Raise it, or look for what never lets the run end",
            plan.events_max
        ),
        StopReason::InstantLimit => format!(
            "{reached}: {} events happened at simulated time {} without time passing (limits.events_per_instant_max): a protocol looping at one instant, e.g. a zero-delay timer that re-arms itself",
            plan.events_per_instant_max,
            sim.now()
        ),
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
    /// Why the watcher stopped the run, if it did.
    cancelled: Option<String>,
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
            let reason = sim.run(stop.pausing_at_events(sim.events().saturating_add(SLICE_EVENTS)));
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
            if let Some(why) = watcher.cancel() {
                self.cancelled = Some(why);
                return StopReason::Cancelled;
            }
            if reason != StopReason::OutputsPending && reason != StopReason::EventsReached {
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
