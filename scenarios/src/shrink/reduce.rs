//! The reductions, coarse to fine. Each pass proposes candidates in a fixed
//! order, every one strictly smaller in `Complexity` than the scenario it
//! came from; the search takes the first that still fails.
//!
//! Which reductions keep the rest of a run's draws where they were: every
//! fault is written out in the resolved schedule, and each node, clients
//! included, draws from a stream of its own ("node/<name>"), so removing a
//! fault or a client leaves the other faults, the other clients' choices
//! and every node's own draws (timers, ids) as they were. The network and the disks draw latencies from one stream each
//! ("network", "disk"), in the order messages are sent and syncs asked
//! for, so any change that alters the traffic (a fault removed, a client
//! gone) shifts the latencies drawn after it. Making latencies constant
//! (the environment pass) takes that dependence away, which is one reason
//! it is tried.

use super::simplify;
use super::trial::Trial;
use super::units::{self, Unit, STEP_MIN_NS};
use crate::duration::Dur;
use crate::names::{server_names, CLIENT_PREFIX};
use crate::scenario::Scenario;
use crate::schema::{FaultSpec, KeyDistributionSpec, Nodes, TimedFault};
use sim_core::SimDuration;

/// A reduction pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Remove faults with their undo: all, then halves, quarters, ..., one.
    FaultUnits,
    /// Remove single entries: an undo without its fault, or the reverse.
    FaultEntries,
    /// End the run earlier.
    Duration,
    /// Stop starting operations earlier (`workload.stop_after`).
    StopAfter,
    Clients,
    Servers,
    /// Fewer operations per client (`workload.ops_per_client_max`).
    Operations,
    Keys,
    /// Fewer kinds of operation, per-client mixes and key skew.
    WorkloadShape,
    /// Constant latencies, no loss or duplication, perfect clocks.
    Environment,
    FaultLengths,
    FaultTimes,
}

/// Every pass, in the order the search tries them.
pub const PASSES: [Pass; 12] = [
    Pass::FaultUnits,
    Pass::FaultEntries,
    Pass::Duration,
    Pass::StopAfter,
    Pass::Clients,
    Pass::Servers,
    Pass::Operations,
    Pass::Keys,
    Pass::WorkloadShape,
    Pass::Environment,
    Pass::FaultLengths,
    Pass::FaultTimes,
];

impl Pass {
    pub fn name(self) -> &'static str {
        match self {
            Pass::FaultUnits => "faults",
            Pass::FaultEntries => "fault entries",
            Pass::Duration => "duration",
            Pass::StopAfter => "stop_after",
            Pass::Clients => "clients",
            Pass::Servers => "servers",
            Pass::Operations => "operations",
            Pass::Keys => "keys",
            Pass::WorkloadShape => "workload",
            Pass::Environment => "environment",
            Pass::FaultLengths => "fault lengths",
            Pass::FaultTimes => "fault times",
        }
    }
}

/// A proposed smaller scenario and what changed, in words.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub scenario: Scenario,
    pub what: String,
}

/// Candidates one pass proposes, made one at a time as the search asks:
/// a pass over a long schedule proposes thousands, each a copy of it.
pub type Candidates<'a> = Box<dyn Iterator<Item = Candidate> + 'a>;

/// The pass's candidates from `current` (whose run was `trial`), in order.
pub fn candidates<'a>(pass: Pass, current: &'a Scenario, trial: &Trial) -> Candidates<'a> {
    let few = |list: Vec<Candidate>| -> Candidates<'a> { Box::new(list.into_iter()) };
    match pass {
        Pass::FaultUnits => fault_units(current),
        Pass::FaultEntries => fault_entries(current),
        Pass::Duration => few(duration(current)),
        Pass::StopAfter => few(stop_after(current)),
        Pass::Clients => few(clients(current)),
        Pass::Servers => few(servers(current)),
        Pass::Operations => few(operations(current, trial)),
        Pass::Keys => few(keys(current)),
        Pass::WorkloadShape => few(workload_shape(current)),
        Pass::Environment => few(environment(current)),
        Pass::FaultLengths => fault_lengths(current),
        Pass::FaultTimes => fault_times(current),
    }
}

fn with_schedule(current: &Scenario, schedule: Vec<TimedFault>, what: String) -> Candidate {
    let mut scenario = current.clone();
    scenario.faults.schedule = schedule;
    Candidate { scenario, what }
}

/// A fault in words, as a schedule writes it: `Pause("n2", "10ms") at 1.5s`.
pub fn describe(entry: &TimedFault) -> String {
    format!("{} at {}", crate::to_ron_inline(&entry.fault), entry.at)
}

fn describe_units(schedule: &[TimedFault], removed: &[Unit]) -> String {
    const SHOWN: usize = 3;
    let words: Vec<String> = removed
        .iter()
        .flat_map(|u| u.entries())
        .map(|i| describe(&schedule[i]))
        .collect();
    let mut text = format!(
        "removed {}",
        words
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    if words.len() > SHOWN {
        text.push_str(&format!(" and {} more", words.len() - SHOWN));
    }
    text
}

/// Delta debugging over units: remove all, then each half, each quarter,
/// and so on down to each single unit.
fn fault_units(current: &Scenario) -> Candidates<'_> {
    let schedule = &current.faults.schedule;
    let all = units::units(schedule);
    let m = all.len();
    // The chunks (as ranges of units), coarse to fine; the candidates are
    // made from them as asked.
    let mut chunks: Vec<std::ops::Range<usize>> = Vec::new();
    // Chunk counts 1, 2, 4, ... until the chunks are single units.
    let (mut count, mut size) = (1, m);
    while size > 0 && (count == 1 || size > 1) {
        size = m.div_ceil(count);
        chunks.extend(
            (0..m)
                .step_by(size)
                .map(|start| start..(start + size).min(m)),
        );
        count *= 2;
    }
    Box::new(chunks.into_iter().map(move |chunk| {
        let removed = &all[chunk];
        with_schedule(
            current,
            units::without(schedule, removed),
            describe_units(schedule, removed),
        )
    }))
}

/// Each entry of a paired unit alone (lone entries were tried as units).
fn fault_entries(current: &Scenario) -> Candidates<'_> {
    let schedule = &current.faults.schedule;
    let mut entries: Vec<usize> = units::units(schedule)
        .iter()
        .filter(|u| u.end.is_some())
        .flat_map(|u| u.entries())
        .collect();
    entries.sort_unstable();
    Box::new(entries.into_iter().map(move |i| {
        let alone = Unit {
            start: i,
            end: None,
        };
        with_schedule(
            current,
            units::without(schedule, &[alone]),
            format!("removed {}", describe(&schedule[i])),
        )
    }))
}

/// Fractions of a time to try, smallest first.
const FRACTIONS: [(u64, u64); 6] = [(1, 8), (1, 4), (1, 2), (3, 4), (7, 8), (15, 16)];

/// `ns` scaled by each fraction, rounded, each at least `STEP_MIN_NS` less
/// than `ns` and above 0, without repeats.
fn shorter_times(ns: u64) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    for (num, den) in FRACTIONS {
        let t = units::round_ns((ns as u128 * num as u128 / den as u128) as u64);
        if t > 0 && ns - t >= STEP_MIN_NS && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

fn duration(current: &Scenario) -> Vec<Candidate> {
    let old = current.duration.0.as_nanos();
    shorter_times(old)
        .into_iter()
        .map(|ns| {
            let mut scenario = current.clone();
            let end = Dur(SimDuration::from_nanos(ns));
            scenario.duration = end;
            scenario.faults.schedule.retain(|e| e.at <= end);
            if let Some(stop) = &mut scenario.workload.stop_after {
                // The same share of the run as before, so the end stays quiet.
                let share = stop.0.as_nanos() as u128 * ns as u128 / old as u128;
                *stop = Dur(SimDuration::from_nanos(units::round_ns(share as u64)));
            }
            Candidate {
                scenario,
                what: format!("duration {} → {end}", current.duration),
            }
        })
        .collect()
}

fn stop_after(current: &Scenario) -> Vec<Candidate> {
    let Some(stop) = current.workload.stop_after else {
        return Vec::new();
    };
    if current.workload.clients == 0 {
        return Vec::new();
    }
    shorter_times(stop.0.as_nanos())
        .into_iter()
        .map(|ns| {
            let mut scenario = current.clone();
            let to = Dur(SimDuration::from_nanos(ns));
            scenario.workload.stop_after = Some(to);
            Candidate {
                scenario,
                what: format!("workload.stop_after {stop} → {to}"),
            }
        })
        .collect()
}

/// Smaller counts than `n` to try, smallest first: `floor`, then `n`
/// times each of `FRACTIONS`, then n - 1.
fn smaller_counts(n: u64, floor: u64) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    let scaled = FRACTIONS
        .iter()
        .map(|(num, den)| (u128::from(n) * u128::from(*num) / u128::from(*den)) as u64);
    for k in std::iter::once(floor)
        .chain(scaled)
        .chain([n.saturating_sub(1)])
    {
        if k >= floor && k < n && !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// The client number in a name such as "client3".
fn client_number(name: &str) -> Option<u32> {
    name.strip_prefix(CLIENT_PREFIX)?.parse().ok()
}

fn clients(current: &Scenario) -> Vec<Candidate> {
    let n = current.workload.clients;
    smaller_counts(u64::from(n), 0)
        .into_iter()
        .map(|k| {
            let k = k as u32;
            let mut scenario = current.clone();
            scenario.workload.clients = k;
            scenario
                .workload
                .client_mixes
                .retain(|m| client_number(&m.client).is_some_and(|i| i <= k));
            Candidate {
                scenario,
                what: format!("clients {n} → {k}"),
            }
        })
        .collect()
}

/// `current` without the server `name` and everything that names it: its
/// clock, disk, links, region membership, what the protocol keeps per
/// server (an explicit id), and the faults that name it (a partition just
/// loses it from its group).
fn without_server(current: &Scenario, name: &str) -> Scenario {
    let mut out = current.clone();
    if let Some(index) = server_names(&current.nodes).iter().position(|n| n == name) {
        out.protocol.without_server(index);
    }
    out.nodes = match &current.nodes {
        Nodes::Count(n) => Nodes::Count(n - 1),
        Nodes::Names(names) => Nodes::Names(names.iter().filter(|n| *n != name).cloned().collect()),
    };
    for region in &mut out.regions {
        region.nodes.retain(|n| n != name);
    }
    out.network.links.retain(|l| l.from != name && l.to != name);
    out.clocks.nodes.retain(|c| c.node != name);
    out.disks.nodes.retain(|d| d.node != name);
    out.faults
        .schedule
        .retain_mut(|entry| match &mut entry.fault {
            FaultSpec::Partition(groups) => {
                for group in groups.iter_mut() {
                    group.retain(|n| n != name);
                }
                groups.retain(|g| !g.is_empty());
                !groups.is_empty()
            }
            fault => !units::names(fault, name),
        });
    out
}

fn servers(current: &Scenario) -> Vec<Candidate> {
    let names = server_names(&current.nodes);
    let n = names.len();
    if n <= 1 {
        return Vec::new();
    }
    // A count drops its last server (the others keep their names); named
    // servers may each go, the last first.
    let victims: Vec<&String> = match &current.nodes {
        Nodes::Count(_) => vec![&names[n - 1]],
        Nodes::Names(_) => names.iter().rev().collect(),
    };
    victims
        .into_iter()
        .map(|name| Candidate {
            scenario: without_server(current, name),
            what: format!("servers {n} → {} (without {name})", n - 1),
        })
        .collect()
}

fn operations(current: &Scenario, trial: &Trial) -> Vec<Candidate> {
    if current.workload.clients == 0 {
        return Vec::new();
    }
    let most = trial.operations_per_client_max;
    let cap = current.workload.ops_per_client_max.unwrap_or(u64::MAX);
    smaller_counts(most, 1)
        .into_iter()
        .filter(|k| *k < cap)
        .map(|k| {
            let mut scenario = current.clone();
            scenario.workload.ops_per_client_max = Some(k);
            Candidate {
                scenario,
                what: format!("at most {k} operations per client (the busiest issued {most})"),
            }
        })
        .collect()
}

fn keys(current: &Scenario) -> Vec<Candidate> {
    let n = current.workload.keys;
    smaller_counts(u64::from(n), 1)
        .into_iter()
        .map(|k| {
            let mut scenario = current.clone();
            scenario.workload.keys = k as u32;
            Candidate {
                scenario,
                what: format!("keys {n} → {k}"),
            }
        })
        .collect()
}

fn workload_shape(current: &Scenario) -> Vec<Candidate> {
    let mut out = Vec::new();
    let workload = &current.workload;
    if workload.clients == 0 {
        // Nobody draws from it.
        return out;
    }
    if workload.key_distribution != KeyDistributionSpec::Uniform {
        let mut scenario = current.clone();
        scenario.workload.key_distribution = KeyDistributionSpec::Uniform;
        out.push(Candidate {
            scenario,
            what: "workload.key_distribution: Uniform".into(),
        });
    }
    for i in (0..workload.client_mixes.len()).rev() {
        let mut scenario = current.clone();
        let gone = scenario.workload.client_mixes.remove(i);
        out.push(Candidate {
            scenario,
            what: format!("{} draws from the common mix", gone.client),
        });
    }
    let mix = workload.mix;
    let weights = [
        ("read", mix.read),
        ("write", mix.write),
        ("cas", mix.cas),
        ("append", mix.append),
        ("transfer", mix.transfer),
        ("order", mix.order),
    ];
    if weights.iter().filter(|(_, w)| *w > 0.0).count() > 1 {
        for (kind, weight) in weights {
            if weight <= 0.0 {
                continue;
            }
            let mut scenario = current.clone();
            let m = &mut scenario.workload.mix;
            match kind {
                "read" => m.read = 0.0,
                "write" => m.write = 0.0,
                "cas" => m.cas = 0.0,
                "append" => m.append = 0.0,
                "transfer" => m.transfer = 0.0,
                _ => m.order = 0.0,
            }
            out.push(Candidate {
                scenario,
                what: format!("workload.mix: no {kind}"),
            });
        }
    }
    out
}

fn environment(current: &Scenario) -> Vec<Candidate> {
    let items = simplify::items(current);
    let mut out = Vec::new();
    if items.len() > 1 {
        out.push(Candidate {
            scenario: simplify::all(current),
            what: "constant latencies, no loss or duplication, perfect clocks".into(),
        });
    }
    for item in items {
        let (scenario, what) = simplify::apply(current, item);
        out.push(Candidate { scenario, what });
    }
    out
}

fn fault_lengths(current: &Scenario) -> Candidates<'_> {
    let schedule = &current.faults.schedule;
    Box::new(units::units(schedule).into_iter().filter_map(move |unit| {
        let shorter = units::shortened(schedule, unit)?;
        let length = unit.length_ns(schedule);
        let what = format!(
            "{} lasts {} instead of {}",
            describe(&schedule[unit.start]),
            SimDuration::from_nanos(units::round_ns(length / 2)),
            SimDuration::from_nanos(length)
        );
        Some(with_schedule(current, shorter, what))
    }))
}

fn fault_times(current: &Scenario) -> Candidates<'_> {
    let schedule = &current.faults.schedule;
    let Some(first) = schedule.first() else {
        return Box::new(std::iter::empty());
    };
    let lead = first.at.0.as_nanos();
    // Everything earlier by the quiet lead-in, keeping the gaps.
    let together = (lead >= STEP_MIN_NS).then(|| {
        let mut earlier = schedule.clone();
        for entry in &mut earlier {
            entry.at = Dur(SimDuration::from_nanos(entry.at.0.as_nanos() - lead));
        }
        with_schedule(
            current,
            earlier,
            format!("every fault {} earlier", first.at),
        )
    });
    let alone = units::units(schedule).into_iter().flat_map(move |unit| {
        let at = schedule[unit.start].at.0.as_nanos();
        let mut targets = vec![0, units::round_ns(at / 2), units::round_ns(at / 4 * 3)];
        targets.dedup();
        // The first fault moved to 0 is the lead-in candidate again.
        targets.retain(|&to| at - to >= STEP_MIN_NS && !(to == 0 && unit.start == 0));
        targets.into_iter().map(move |to| {
            with_schedule(
                current,
                units::moved(schedule, unit, to),
                format!(
                    "{} moved to {}",
                    describe(&schedule[unit.start]),
                    SimDuration::from_nanos(to)
                ),
            )
        })
    });
    Box::new(together.into_iter().chain(alone))
}
