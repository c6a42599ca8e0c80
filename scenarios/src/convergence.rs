//! The `eventual` check: whether the live replicas hold the same data at
//! the end, and whether the run gave them the chance to.
//!
//! Eventual consistency promises agreement only once the network is whole
//! again and has been quiet (no fault, no new client operation) for long
//! enough for the protocol's repair to run. A run that ends partitioned,
//! clogged, lossy or paused, or that ends too soon after its last fault,
//! cannot show a violation of that promise: `eventual` is then not
//! applicable, with the reason, and never a failure. (Judging such a run
//! failed it for what the promise excludes, and a shrinker, told to keep
//! the failure, would drop the very `Heal` that made the original run a
//! real counterexample.)

use crate::outcome::{CheckResult, Skipped};
use crate::plan::Plan;
use crate::schema::{FaultSpec, TimedFault};
use protocols::cluster::{Cluster, Service};
use sim_core::checker::convergence::{diverging_key, Replica};
use sim_core::checker::Verdict;
use sim_core::{NodeId, SimDuration, SimTime, Simulation};

pub const EVENTUAL: &str = "eventual";

/// Whether the run judges convergence: clients of registers, and
/// `eventual` named or the default checks.
pub fn judged(plan: &Plan<'_>) -> bool {
    plan.registers && (plan.checks.is_empty() || plan.checks.iter().any(|c| c == EVENTUAL))
}

/// A fault still in force at the end that keeps replicas apart, by its
/// schedule entry: a partition between servers never healed, a clog
/// between servers never released, loss never restored, or a server's
/// pause or disk stall that outlasts the run. `servers` are the servers'
/// names: a partition that cuts off only clients keeps no replica apart.
pub fn unhealed_at_end(
    schedule: &[TimedFault],
    duration: SimDuration,
    servers: &[String],
) -> Option<String> {
    let server = |name: &str| name == "*" || servers.iter().any(|s| s == name);
    let any_server = |names: &[String]| names.iter().any(|n| server(n));
    let mut partition: Option<&TimedFault> = None;
    let mut clogs: Vec<(&str, &str, &TimedFault)> = Vec::new();
    let mut loss: Option<&TimedFault> = None;
    let mut outlasting: Option<&TimedFault> = None;
    for timed in schedule {
        match &timed.fault {
            FaultSpec::Partition(groups) => {
                // Unlisted nodes form one more group.
                let group_of = |s: &String| groups.iter().position(|g| g.contains(s));
                let mut sides: Vec<Option<usize>> = servers.iter().map(group_of).collect();
                sides.dedup();
                sides.sort_unstable();
                sides.dedup();
                if sides.len() > 1 {
                    partition.get_or_insert(timed);
                }
            }
            FaultSpec::OneWay { from, to }
            | FaultSpec::Bridge {
                left: from,
                right: to,
                ..
            } if any_server(from) && any_server(to) => {
                partition.get_or_insert(timed);
            }
            FaultSpec::Isolate(node) if server(node) && servers.len() > 1 => {
                partition.get_or_insert(timed);
            }
            FaultSpec::Heal => partition = None,
            FaultSpec::Clog(from, to) if server(from) && server(to) => {
                clogs.push((from, to, timed))
            }
            FaultSpec::Release(from, to) => clogs.retain(|(f, t, _)| (*f, *t) != (from, to)),
            FaultSpec::SetLoss(p) if *p > 0.0 => {
                loss.get_or_insert(timed);
            }
            FaultSpec::SetLoss(_) | FaultSpec::RestoreLoss => loss = None,
            FaultSpec::Pause(node, length) | FaultSpec::DiskStall(node, length)
                if server(node) && timed.at.0.saturating_add(length.0) >= duration =>
            {
                outlasting.get_or_insert(timed);
            }
            _ => {}
        }
    }
    let describe = |t: &TimedFault, what: &str| {
        format!("{} at {} is {what}", crate::to_ron_inline(&t.fault), t.at)
    };
    partition
        .map(|t| describe(t, "never healed"))
        .or_else(|| clogs.first().map(|(_, _, t)| describe(t, "never released")))
        .or_else(|| loss.map(|t| describe(t, "never restored")))
        .or_else(|| outlasting.map(|t| describe(t, "still in force at the end")))
}

/// When the last fault's effect ends (a pause or a disk stall ends after
/// its length; a slowed disk after its window), or the run's start.
pub fn last_fault_end(schedule: &[TimedFault]) -> SimDuration {
    schedule
        .iter()
        .map(|t| match &t.fault {
            FaultSpec::Pause(_, length)
            | FaultSpec::DiskStall(_, length)
            | FaultSpec::DiskSlow(_, _, length) => t.at.0.saturating_add(length.0),
            _ => t.at.0,
        })
        .max()
        .unwrap_or(SimDuration::ZERO)
}

/// How long before the end every live replica's data must have stood
/// still for convergence to be judged. A replica still changing then is
/// still being repaired (a follower catching up a long log behind a slow
/// disk, messages queued behind a heavy-tailed one): the run ended before
/// "eventually", and says nothing against it. Replicas that have settled
/// and still differ are stuck apart: that is a violation.
pub const SETTLED_FOR: SimDuration = SimDuration::from_millis(200);

/// Each live server's repair progress (`Service::repair_progress`) and
/// replica data, by server id.
pub type Snapshot = Vec<(u32, u64, std::collections::BTreeMap<String, String>)>;

/// What the check compares at the end: the replicas as they stood
/// `SETTLED_FOR` before it, and how many messages between servers, sent
/// by then, would arrive only after the end.
pub struct Settle {
    pub replicas: Snapshot,
    pub stragglers: usize,
}

/// The live servers' replica data and progress now.
pub fn snapshot<S: Service>(sim: &Simulation<Cluster<S>>, servers: u32) -> Snapshot {
    (0..servers)
        .filter_map(|id| {
            let server = sim.node(NodeId(id))?.as_server()?;
            Some((id, server.repair_progress(), server.replica_data()?.clone()))
        })
        .collect()
}

/// Round trips repair takes at least, each as long as the links' p99.9
/// latency: a request and its answer, a refusal and the retry from the
/// right place, and the commit that follows. The 99.9th percentile, not a
/// lower one: a repair sends hundreds of messages, and on a FIFO link one
/// slow message holds up every message behind it.
const REPAIR_ROUND_TRIPS: u64 = 5;

/// The network's part of a repair: `REPAIR_ROUND_TRIPS` round trips at
/// the 99.9th percentile of the servers' link latencies (drawn from a fixed
/// stream; the first 16 servers' links stand for the rest). A heavy tail
/// makes repair slow, and a run must give it that long.
pub fn network_repair(topology: &sim_core::Topology, servers: u32) -> SimDuration {
    const DRAWS: usize = 2_048;
    let sampled = servers.min(16);
    // Most networks have one latency for every link: each distinct one is
    // sampled once.
    let mut latencies: Vec<&sim_core::latency::Latency> = Vec::new();
    for from in 0..sampled {
        for to in (0..sampled).filter(|to| *to != from) {
            let latency = &topology.link(NodeId(from), NodeId(to)).latency;
            if !latencies.contains(&latency) {
                latencies.push(latency);
            }
        }
    }
    let mut rng = sim_core::rng::stream(0, "convergence/latency");
    let tail_max = latencies
        .into_iter()
        .map(|latency| {
            let mut draws: Vec<SimDuration> =
                (0..DRAWS).map(|_| latency.sample(&mut rng)).collect();
            draws.sort_unstable();
            draws[DRAWS * 999 / 1_000]
        })
        .max()
        .unwrap_or(SimDuration::ZERO);
    SimDuration::from_nanos(tail_max.as_nanos().saturating_mul(2 * REPAIR_ROUND_TRIPS))
}

/// Judges convergence at `end`: a check, or why it does not apply.
/// `settled_from` is the replicas `SETTLED_FOR` before the end, and the
/// messages then in flight that outlast the run;
/// `network` the network's part of a repair (`network_repair`).
pub fn judge<S: Service>(
    plan: &Plan<'_>,
    sim: &Simulation<Cluster<S>>,
    end: SimTime,
    settled_from: Option<&Settle>,
    network: SimDuration,
) -> Result<CheckResult, Skipped> {
    let (names, servers) = (plan.names.as_slice(), plan.servers);
    let not_applicable = |why: String| Skipped {
        name: EVENTUAL.into(),
        why: format!("not applicable: {why}"),
    };
    if let Some(fault) = unhealed_at_end(plan.schedule, plan.duration.0, &names[..servers as usize])
    {
        return Err(not_applicable(format!(
            "{fault}; convergence is promised only once the network heals and goes quiet"
        )));
    }
    let quiet_needed = (0..servers)
        .filter_map(|id| sim.node(NodeId(id))?.as_server())
        .map(S::convergence_quiet)
        .max()
        .unwrap_or(QUIET_BEFORE_END)
        .max(QUIET_BEFORE_END)
        .saturating_add(network);
    let quiet_from = last_fault_end(plan.schedule)
        .max(plan.workload.stop_after)
        .min(plan.duration.0);
    let quiet = end.since_start().saturating_sub(quiet_from);
    if quiet < quiet_needed {
        return Err(not_applicable(format!(
            "the run ends {quiet} after its last fault or operation; this protocol's repair needs {quiet_needed} of quiet"
        )));
    }
    if let Some(Settle { stragglers, .. }) = settled_from.filter(|s| s.stragglers > 0) {
        return Err(not_applicable(format!(
            "{stragglers} messages between servers sent before the run's last {SETTLED_FOR} were still on their way at the end (a heavy tail, or a queue behind a slow message); convergence is judged once the network has delivered"
        )));
    }
    if let Some(before) = settled_from.map(|s| &s.replicas) {
        let now = snapshot(sim, servers);
        let moving: Vec<&str> = now
            .iter()
            .filter(|(id, progress, data)| {
                before
                    .iter()
                    .find(|(b, _, _)| b == id)
                    .is_none_or(|(_, p, d)| p != progress || d != data)
            })
            .map(|(id, _, _)| names[*id as usize].as_str())
            .collect();
        if !moving.is_empty() {
            return Err(not_applicable(format!(
                "{} still changed in the run's last {SETTLED_FOR} (repair was still under way at the end); convergence is judged once replicas settle",
                moving.join(", ")
            )));
        }
    }
    let held: Vec<(u32, &S)> = (0..servers)
        .filter_map(|id| Some((id, sim.node(NodeId(id))?.as_server()?)))
        .collect();
    type Holds<'a> = Box<dyn Fn(&str) -> bool + 'a>;
    let holds: Vec<Holds<'_>> = held
        .iter()
        .map(|(_, service)| {
            Box::new(move |key: &str| service.holds_key(key)) as Box<dyn Fn(&str) -> bool>
        })
        .collect();
    let replicas: Vec<Replica<'_>> = held
        .iter()
        .zip(&holds)
        .filter_map(|((id, service), holds)| {
            Some(Replica {
                name: names[*id as usize].as_str(),
                data: service.replica_data()?,
                holds: Some(holds.as_ref()),
            })
        })
        .collect();
    let result = |verdict, detail: String| CheckResult {
        name: EVENTUAL.into(),
        verdict,
        detail,
        violations: Vec::new(),
        counterexample: None,
    };
    Ok(match diverging_key(&replicas) {
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
    })
}

/// How long the system must have been quiet (no fault, no new client
/// operation) before the end for convergence to be judged, at least; a
/// protocol whose repair is periodic asks for more
/// (`Service::convergence_quiet`).
pub const QUIET_BEFORE_END: SimDuration = SimDuration::from_millis(200);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::Dur;

    fn at(ms: u64, fault: FaultSpec) -> TimedFault {
        TimedFault {
            at: Dur::ms(ms),
            jitter: None,
            fault,
        }
    }

    fn servers() -> Vec<String> {
        vec!["n1".into(), "n2".into(), "n3".into()]
    }

    fn unhealed(schedule: &[TimedFault], end: SimDuration) -> Option<String> {
        unhealed_at_end(schedule, end, &servers())
    }

    #[test]
    fn a_partition_never_healed_is_named_and_a_healed_one_is_not() {
        let end = SimDuration::from_secs(5);
        let isolate = at(100, FaultSpec::Isolate("n3".into()));
        let reason = unhealed(std::slice::from_ref(&isolate), end).unwrap();
        assert!(reason.contains("Isolate(\"n3\")"), "{reason}");
        assert!(reason.contains("never healed"), "{reason}");
        let healed = [isolate, at(900, FaultSpec::Heal)];
        assert_eq!(unhealed(&healed, end), None);
        assert_eq!(last_fault_end(&healed), SimDuration::from_millis(900));
    }

    #[test]
    fn a_partition_that_cuts_off_only_clients_or_a_client_keeps_no_replica_apart() {
        let end = SimDuration::from_secs(5);
        let clients = at(
            100,
            FaultSpec::Partition(vec![vec!["client1".into(), "client2".into()]]),
        );
        assert_eq!(unhealed(std::slice::from_ref(&clients), end), None);
        assert_eq!(
            unhealed(&[at(100, FaultSpec::Isolate("client1".into()))], end),
            None
        );
        let split = at(
            100,
            FaultSpec::Partition(vec![vec!["n1".into(), "client1".into()]]),
        );
        assert!(unhealed(&[clients, split], end).is_some());
        let one_way = FaultSpec::OneWay {
            from: vec!["n1".into()],
            to: vec!["client1".into()],
        };
        assert_eq!(unhealed(&[at(100, one_way)], end), None);
    }

    #[test]
    fn clogs_loss_and_long_pauses_keep_replicas_apart_until_undone() {
        let end = SimDuration::from_secs(5);
        let clog = at(10, FaultSpec::Clog("n1".into(), "n2".into()));
        let other = at(20, FaultSpec::Release("n2".into(), "n1".into()));
        let reason = unhealed(&[clog.clone(), other], end).unwrap();
        assert!(reason.contains("never released"), "{reason}");
        let release = at(30, FaultSpec::Release("n1".into(), "n2".into()));
        assert_eq!(unhealed(&[clog, release], end), None);
        let loss = at(10, FaultSpec::SetLoss(0.5));
        assert!(unhealed(std::slice::from_ref(&loss), end).is_some());
        assert_eq!(unhealed(&[loss, at(40, FaultSpec::RestoreLoss)], end), None);
        let pause = at(4_000, FaultSpec::Pause("n1".into(), Dur::ms(1_500)));
        assert!(unhealed(std::slice::from_ref(&pause), end).is_some());
        let short = at(4_000, FaultSpec::Pause("n1".into(), Dur::ms(500)));
        assert_eq!(unhealed(std::slice::from_ref(&short), end), None);
        assert_eq!(last_fault_end(&[short]), SimDuration::from_millis(4_500));
    }
}
