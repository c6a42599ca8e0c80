//! Semantic checks of a parsed scenario. Every problem names its field path
//! and says how to fix it; all problems are reported at once (up to a bound).

use crate::catalog::CHECKERS;
use crate::convert;
use crate::duration::Dur;
use crate::error::{suggestion, Problem};
use crate::protocol::ProtocolSpec;
use crate::scenario::Scenario;
use crate::schema::*;
use sim_core::{ClockConfig, NodeId, SimDuration};

/// The longest run a scenario may ask for.
pub const DURATION_MAX: SimDuration = SimDuration::from_secs(7 * 24 * 3600);
/// The smallest memory budget a run may have: tiny budgets are for tests
/// that a limit ends a run cleanly.
pub const MEMORY_BYTES_MIN: u64 = 64 << 10;
/// The largest: more than any machine we expect to run on.
pub const MEMORY_BYTES_MAX: u64 = 1 << 40;
pub use crate::schema::SCHEDULE_MAX;
/// Seeds in one range at most.
pub const SEEDS_MAX: u64 = 1_000_000_000;
/// Values over all sweep axes at most (their product is the number of groups).
pub const SWEEP_GROUPS_MAX: usize = 10_000;
/// Problems reported at most; the rest are summarised.
const PROBLEMS_MAX: usize = 50;
// The names a scenario's nodes go by live in `names.rs`; they are
// re-exported here, where callers have long found them.
pub use crate::convert::{fault_names, names_must_differ};
pub use crate::names::{
    follower_rank, server_names, CLIENT_PREFIX, FOLLOWER_PREFIX, LEADER, NODES_MAX, OLD_LEADER,
};
pub use crate::scenario::all_node_names;
pub use protocols::bully::params::{bully_servers_max, BULLY_BYTES_PER_SERVER_SQUARED};

/// Parses "start..end" (end exclusive) or a single seed.
pub fn parse_seed_range(text: &str) -> Result<(u64, u64), String> {
    let bad = || {
        format!("\"{text}\" is not a seed range; write \"0..1000\" (end exclusive) or one seed such as \"7\"")
    };
    let (start, end) = match text.split_once("..") {
        Some((a, b)) => (
            a.trim().parse::<u64>().map_err(|_| bad())?,
            b.trim().parse::<u64>().map_err(|_| bad())?,
        ),
        None => {
            let seed = text.trim().parse::<u64>().map_err(|_| bad())?;
            (seed, seed.checked_add(1).ok_or_else(bad)?)
        }
    };
    if start >= end {
        return Err(format!(
            "seed range \"{text}\" is empty; the end is exclusive, so write e.g. \"{start}..{}\"",
            start.saturating_add(1)
        ));
    }
    if end - start > SEEDS_MAX {
        return Err(format!(
            "seed range \"{text}\" has more than {SEEDS_MAX} seeds; run several sweeps over consecutive ranges of at most that many (--shard divides one range among machines; it does not lift this limit)"
        ));
    }
    Ok((start, end))
}

struct Checker {
    problems: Vec<Problem>,
    overflow: usize,
}

impl Checker {
    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        if self.problems.len() < PROBLEMS_MAX {
            self.problems.push(Problem {
                path: path.into(),
                message: message.into(),
            });
        } else {
            self.overflow += 1;
        }
    }
    fn check(&mut self, path: impl Into<String>, result: Result<(), String>) {
        if let Err(message) = result {
            self.problem(path, message);
        }
    }
}

/// Every check name valid for `protocol`.
pub fn check_names(protocol: &ProtocolSpec) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = CHECKERS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| match *name {
            "invariants" | "panic" => true,
            "list-append" | "rw-register" => protocol.serves_transactions(),
            "bank" => protocol.serves_transfers(),
            "mutex" => protocol.has_lock_history(),
            _ => protocol.serves_registers(),
        })
        .collect();
    names.extend(protocol.invariants());
    names
}

pub fn validate(scenario: &Scenario) -> Result<(), Vec<Problem>> {
    let mut c = Checker {
        problems: Vec::new(),
        overflow: 0,
    };
    if scenario.name.trim().is_empty() || scenario.name.len() > 100 {
        c.problem("name", "give the scenario a name of 1 to 100 characters");
    }
    if let Some(seeds) = &scenario.seeds {
        c.check("seeds", parse_seed_range(seeds).map(|_| ()));
    }
    let duration = scenario.duration;
    if duration.0 == SimDuration::ZERO || duration.0 > DURATION_MAX {
        c.problem(
            "duration",
            format!("must be above 0s and at most {DURATION_MAX}, got {duration}"),
        );
    }
    let memory = scenario.limits.memory.0;
    if !(MEMORY_BYTES_MIN..=MEMORY_BYTES_MAX).contains(&memory) {
        c.problem(
            "limits.memory",
            format!(
                "must be between {} and {}, got {}",
                crate::bytes::Bytes(MEMORY_BYTES_MIN),
                crate::bytes::Bytes(MEMORY_BYTES_MAX),
                scenario.limits.memory
            ),
        );
    }
    validate_nodes(&mut c, scenario);
    let servers = server_names(&scenario.nodes);
    let all = all_node_names(scenario);
    let server_lookup = |name: &str| lookup(name, &servers, "server");
    let any_lookup = |name: &str| lookup(name, &all, "node");
    validate_regions(&mut c, scenario, &all);
    validate_network(&mut c, scenario, &any_lookup);
    // Any node's clock may be set: a client's matters where it
    // coordinates (TxnStore's `coordinator: Client`).
    validate_clocks(&mut c, scenario, &any_lookup);
    validate_disks(&mut c, scenario, &server_lookup);
    c.check_protocol(&scenario.protocol, &scenario.protocol_setup());
    if scenario.workload.clients > 0 && !scenario.protocol.serves_clients() {
        c.problem(
            "workload.clients",
            format!(
                "{} serves no clients; set `clients: 0`",
                scenario.protocol.name()
            ),
        );
    }
    if scenario.workload.clients > 0 {
        validate_mixes(&mut c, scenario);
    }
    c.check(
        "workload",
        convert::workload(&scenario.workload, duration)
            .map(|_| ())
            .map_err(|e| e.to_string()),
    );
    if let Some(stop) = scenario.workload.stop_after {
        if stop > duration {
            c.problem(
                "workload.stop_after",
                format!("{stop} is after the end of the run ({duration})"),
            );
        }
    }
    validate_faults(&mut c, scenario, &server_lookup, &any_lookup);
    let names = check_names(&scenario.protocol);
    for (index, check) in scenario.checks.iter().enumerate() {
        if !names.contains(&check.as_str()) {
            c.problem(
                format!("checks[{index}]"),
                format!("unknown check \"{check}\"; {}", suggestion(check, &names)),
            );
        }
    }
    if let Expect::Violation(expected) | Expect::Allow(expected) = &scenario.expect {
        let variant = match &scenario.expect {
            Expect::Allow(_) => "Allow",
            _ => "Violation",
        };
        if expected.is_empty() {
            c.problem(
                "expect",
                format!("{variant}([...]) must name at least one check"),
            );
        }
        for (index, check) in expected.iter().enumerate() {
            if !names.contains(&check.as_str()) {
                c.problem(
                    format!("expect.{variant}[{index}]"),
                    format!("unknown check \"{check}\"; {}", suggestion(check, &names)),
                );
            }
        }
    }
    let mut groups: usize = 1;
    for (index, axis) in scenario.sweep.iter().enumerate() {
        if axis.values.is_empty() {
            c.problem(format!("sweep[{index}].values"), "list at least one value");
        }
        groups = groups.saturating_mul(axis.values.len().max(1));
        if let Err(message) = crate::set::apply(
            scenario,
            &axis.path,
            axis.values.first().cloned().unwrap_or(ron::Value::Unit),
        ) {
            c.problem(format!("sweep[{index}].path"), message);
        }
        for (w, lockstep) in axis.with.iter().enumerate() {
            if lockstep.values.len() != axis.values.len() {
                c.problem(
                    format!("sweep[{index}].with[{w}].values"),
                    format!(
                        "list as many values as the axis ({}), got {}",
                        axis.values.len(),
                        lockstep.values.len()
                    ),
                );
            }
            if let Err(message) = crate::set::apply(
                scenario,
                &lockstep.path,
                lockstep.values.first().cloned().unwrap_or(ron::Value::Unit),
            ) {
                c.problem(format!("sweep[{index}].with[{w}].path"), message);
            }
        }
    }
    if groups > SWEEP_GROUPS_MAX {
        c.problem(
            "sweep",
            format!("the axes make {groups} combinations; at most {SWEEP_GROUPS_MAX}"),
        );
    }
    // Each group must be valid too, or a file that validates fails only
    // when swept: plan them as `sweep` does (their sweeps cleared, so this
    // does not recurse).
    if c.problems.is_empty() && !scenario.sweep.is_empty() {
        match crate::sweep::plan_groups(scenario, &[]) {
            Ok(_) => {}
            Err(crate::sweep::PlanError::InvalidGroup { label, problems }) => {
                for problem in problems {
                    c.problem(
                        problem.path,
                        format!("in the sweep's group [{label}]: {}", problem.message),
                    );
                }
            }
            Err(other) => c.problem("sweep", other.to_string()),
        }
    }
    if c.overflow > 0 {
        c.problem("", format!("... and {} more problems", c.overflow));
    }
    if c.problems.is_empty() {
        Ok(())
    } else {
        Err(c.problems)
    }
}

/// Transfers go to the commit protocols, and only transfers.
fn validate_mixes(c: &mut Checker, scenario: &Scenario) {
    let protocol = &scenario.protocol;
    let mixes = std::iter::once(("workload.mix".to_string(), &scenario.workload.mix)).chain(
        scenario
            .workload
            .client_mixes
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("workload.client_mixes[{i}].mix"), &m.mix)),
    );
    if let Some(t) = &scenario.workload.transactions {
        for (index, model) in t.models().iter().enumerate() {
            if sim_core::txn::models::Model::parse(model).is_none() {
                let names: Vec<&str> = sim_core::txn::models::ALL_MODELS
                    .iter()
                    .map(|m| m.name())
                    .collect();
                c.problem(
                    format!("workload.transactions.models[{index}]"),
                    format!(
                        "unknown consistency model \"{model}\"; {}",
                        suggestion(model, &names)
                    ),
                );
            }
        }
    }
    for (path, mix) in mixes {
        if mix.txn != 0.0 {
            let others = mix.read + mix.write + mix.cas + mix.append + mix.order + mix.transfer;
            if !protocol.serves_transactions() {
                let names: Vec<&str> = crate::registry::entries()
                    .into_iter()
                    .filter(|e| e.capabilities().transactions)
                    .map(|e| e.name())
                    .collect();
                c.problem(
                    format!("{path}.txn"),
                    format!(
                        "{} serves no transactions; {} serve them: use one of those, or remove `txn`",
                        protocol.name(),
                        names.join(" and ")
                    ),
                );
            } else if others != 0.0 {
                c.problem(
                    path,
                    "a transactional workload is transactions only (its reads are micro-ops): write `mix: (txn: 1.0)`".to_string(),
                );
            }
            continue;
        }
        let others = mix.read + mix.write + mix.cas + mix.append + mix.order;
        if mix.audit != 0.0 && !protocol.serves_transfers() {
            c.problem(
                format!("{path}.audit"),
                format!(
                    "{} keeps no bank: audits read the accounts of the atomic-commit protocols ({}); remove `audit`",
                    protocol.name(),
                    serving(protocols::plugin::Clients::Transfers)
                ),
            );
            continue;
        }
        if protocol.serves_orders() {
            if mix.write + mix.cas + mix.append + mix.transfer != 0.0 {
                c.problem(
                    path,
                    format!("{} serves orders and stock reads only: write `mix: (order: 1.0)`, optionally with `read`", protocol.name()),
                );
            }
            continue;
        }
        if protocol.serves_registers() && !protocol.serves_conditional_writes() {
            for (field, weight) in [("cas", mix.cas), ("append", mix.append)] {
                if weight != 0.0 {
                    c.problem(
                        format!("{path}.{field}"),
                        format!("{} serves reads and blind writes only: a leaderless store has no single order of a key's writes for `{field}` to build on; remove `{field}`", protocol.name()),
                    );
                }
            }
        }
        if mix.order != 0.0 {
            c.problem(
                format!("{path}.order"),
                format!(
                    "{} serves no orders ({}); remove `order`",
                    protocol.name(),
                    serving(protocols::plugin::Clients::Orders)
                ),
            );
        } else if protocol.serves_transfers() && (others != 0.0 || mix.transfer + mix.audit <= 0.0)
        {
            c.problem(
                path,
                format!(
                    "{} serves bank transfers (and audits of every balance) only: write `mix: (transfer: 1.0)` or `mix: (transfer: 0.9, audit: 0.1)`",
                    protocol.name()
                ),
            );
        } else if !protocol.serves_transfers() && mix.transfer != 0.0 {
            c.problem(
                format!("{path}.transfer"),
                format!(
                    "{} serves no transfers ({}); remove `transfer`",
                    protocol.name(),
                    serving(protocols::plugin::Clients::Transfers)
                ),
            );
        }
    }
}

/// Which registered protocols serve `clients`, for people: "Saga does",
/// "TwoPhaseCommit and ThreePhaseCommit do".
fn serving(clients: protocols::plugin::Clients) -> String {
    let names: Vec<&str> = crate::registry::entries()
        .into_iter()
        .filter(|e| e.clients() == clients)
        .map(|e| e.name())
        .collect();
    match names.split_last() {
        None => "no registered protocol does".to_string(),
        Some((last, [])) => format!("{last} does"),
        Some((last, rest)) => format!("{} and {last} do", rest.join(", ")),
    }
}

impl Checker {
    fn check_protocol(&mut self, protocol: &ProtocolSpec, setup: &protocols::plugin::Setup) {
        use protocols::plugin::InvalidAt;
        if let Err(invalid) = protocol.validate(setup) {
            let path = match invalid.at {
                InvalidAt::Param(field) => format!("protocol.{}.{field}", protocol.name()),
                InvalidAt::Scenario(path) => path,
            };
            self.problem(path, invalid.message);
        }
    }
}

fn lookup(name: &str, names: &[String], what: &str) -> Result<NodeId, String> {
    match names.iter().position(|n| n == name) {
        Some(index) => Ok(NodeId(index as u32)),
        None => {
            let candidates: Vec<&str> = names.iter().map(String::as_str).collect();
            let hint = match crate::error::closest(name, candidates.iter().copied()) {
                Some(best) => format!("did you mean \"{best}\"?"),
                None if names.len() <= 12 => format!("the {what}s are {}", candidates.join(", ")),
                None => format!(
                    "there are {} {what}s: {} .. {}",
                    names.len(),
                    names[0],
                    names[names.len() - 1]
                ),
            };
            Err(format!("unknown {what} \"{name}\"; {hint}"))
        }
    }
}

fn validate_nodes(c: &mut Checker, scenario: &Scenario) {
    match &scenario.nodes {
        Nodes::Count(count) => {
            if !(1..=NODES_MAX).contains(count) {
                c.problem(
                    "nodes",
                    format!("Count must be between 1 and {NODES_MAX}, got {count}"),
                );
            }
        }
        Nodes::Names(names) => {
            if names.is_empty() || names.len() > NODES_MAX as usize {
                c.problem("nodes", format!("list between 1 and {NODES_MAX} names"));
            }
            let mut seen = std::collections::BTreeSet::new();
            for (index, name) in names.iter().enumerate() {
                let valid = !name.is_empty()
                    && name.len() <= 64
                    && name
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch));
                if !valid {
                    c.problem(
                        format!("nodes.Names[{index}]"),
                        format!("\"{name}\": use 1 to 64 letters, digits, '-', '_' or '.'"),
                    );
                } else if name.starts_with(CLIENT_PREFIX) {
                    c.problem(format!("nodes.Names[{index}]"), format!("\"{name}\": names starting with \"{CLIENT_PREFIX}\" are reserved for clients"));
                } else if !seen.insert(name.as_str()) {
                    c.problem(
                        format!("nodes.Names[{index}]"),
                        format!("\"{name}\" is listed twice"),
                    );
                }
            }
        }
    }
}

/// Regions name servers and clients (a client in a region has that
/// region's links, as a multi-region deployment's clients do).
fn validate_regions(c: &mut Checker, scenario: &Scenario, nodes: &[String]) {
    let mut assigned = std::collections::BTreeMap::new();
    let mut names = std::collections::BTreeSet::new();
    for (index, region) in scenario.regions.iter().enumerate() {
        if region.name.is_empty() || !names.insert(region.name.as_str()) {
            c.problem(
                format!("regions[{index}].name"),
                format!("\"{}\" is empty or declared twice", region.name),
            );
        }
        for (slot, node) in region.nodes.iter().enumerate() {
            if let Err(message) = lookup(node, nodes, "node") {
                c.problem(format!("regions[{index}].nodes[{slot}]"), message);
            } else if let Some(other) = assigned.insert(node.as_str(), region.name.as_str()) {
                c.problem(
                    format!("regions[{index}].nodes[{slot}]"),
                    format!(
                        "\"{node}\" is already in region \"{other}\"; a node belongs to one region"
                    ),
                );
            }
        }
    }
}

fn validate_link(c: &mut Checker, path: &str, link: &LinkSpec, kinds: &[&str]) {
    if let Err(message) = convert::link(link, kinds) {
        match message.split_once(": ") {
            // A kind's problem names its own field.
            Some((field, rest)) if field.starts_with("kinds[") => {
                c.problem(format!("{path}.{field}"), rest.to_string())
            }
            _ => c.problem(path, message),
        }
    }
}

fn validate_network(
    c: &mut Checker,
    scenario: &Scenario,
    lookup_node: &dyn Fn(&str) -> Result<NodeId, String>,
) {
    let kinds = scenario.protocol.entry().message_kinds();
    validate_link(c, "network.default", &scenario.network.default, &kinds);
    let regions: Vec<&str> = scenario.regions.iter().map(|r| r.name.as_str()).collect();
    for (index, over) in scenario.network.regions.iter().enumerate() {
        for (field, name) in [("from", &over.from), ("to", &over.to)] {
            if !regions.contains(&name.as_str()) {
                let hint = if regions.is_empty() {
                    "declare regions first in `regions`".to_string()
                } else {
                    suggestion(name, &regions)
                };
                c.problem(
                    format!("network.regions[{index}].{field}"),
                    format!("unknown region \"{name}\"; {hint}"),
                );
            }
        }
        validate_link(
            c,
            &format!("network.regions[{index}].link"),
            &over.link,
            &kinds,
        );
    }
    for (index, over) in scenario.network.links.iter().enumerate() {
        for (field, name) in [("from", &over.from), ("to", &over.to)] {
            if let Err(message) = lookup_node(name) {
                c.problem(format!("network.links[{index}].{field}"), message);
            }
        }
        validate_link(
            c,
            &format!("network.links[{index}].link"),
            &over.link,
            &kinds,
        );
    }
}

fn validate_disks(
    c: &mut Checker,
    scenario: &Scenario,
    lookup_server: &dyn Fn(&str) -> Result<NodeId, String>,
) {
    let disks = &scenario.disks;
    let check = |c: &mut Checker, path: String, disk: &DiskSpec| {
        if let Err(message) = convert::disk(disk) {
            c.problem(path, message);
        }
    };
    check(c, "disks.default".to_string(), &disks.default);
    let regions: Vec<&str> = scenario.regions.iter().map(|r| r.name.as_str()).collect();
    for (index, over) in disks.regions.iter().enumerate() {
        if !regions.contains(&over.region.as_str()) {
            let hint = if regions.is_empty() {
                "declare regions first in `regions`".to_string()
            } else {
                suggestion(&over.region, &regions)
            };
            c.problem(
                format!("disks.regions[{index}].region"),
                format!("unknown region \"{}\"; {hint}", over.region),
            );
        }
        check(c, format!("disks.regions[{index}].disk"), &over.disk);
    }
    let mut seen = std::collections::BTreeSet::new();
    for (index, over) in disks.nodes.iter().enumerate() {
        if let Err(message) = lookup_server(&over.node) {
            c.problem(format!("disks.nodes[{index}].node"), message);
        } else if !seen.insert(over.node.as_str()) {
            c.problem(
                format!("disks.nodes[{index}].node"),
                format!("\"{}\" has two disk entries", over.node),
            );
        }
        check(c, format!("disks.nodes[{index}].disk"), &over.disk);
    }
}

fn validate_clocks(
    c: &mut Checker,
    scenario: &Scenario,
    lookup_node: &dyn Fn(&str) -> Result<NodeId, String>,
) {
    let mut seen = std::collections::BTreeSet::new();
    for (index, clock) in scenario.clocks.nodes.iter().enumerate() {
        if let Err(message) = lookup_node(&clock.node) {
            c.problem(format!("clocks.nodes[{index}].node"), message);
        } else if !seen.insert(clock.node.as_str()) {
            c.problem(
                format!("clocks.nodes[{index}].node"),
                format!("\"{}\" has two clock entries", clock.node),
            );
        }
        let config = ClockConfig {
            offset_ns: clock.offset.0,
            drift_ppm: clock.drift_ppm,
        };
        c.check(format!("clocks.nodes[{index}]"), config.validate());
        if let Some(lateness) = &clock.timer_lateness {
            if let Err(message) = convert::latency(lateness).validate() {
                c.problem(format!("clocks.nodes[{index}].timer_lateness"), message);
            }
        }
    }
    if let Some(lateness) = &scenario.clocks.timer_lateness {
        if let Err(message) = convert::latency(lateness).validate() {
            c.problem("clocks.timer_lateness", message);
        }
    }
    if let Some(random) = &scenario.clocks.random {
        let config = ClockConfig {
            offset_ns: 0,
            drift_ppm: random.drift_ppm_max,
        };
        if random.drift_ppm_max < 0.0 {
            c.problem("clocks.random.drift_ppm_max", "must be zero or more");
        }
        c.check("clocks.random", config.validate());
        if random.offset_max.0 > SimDuration::from_secs(24 * 3600) {
            c.problem("clocks.random.offset_max", "at most 24h");
        }
    }
}

fn validate_faults(
    c: &mut Checker,
    scenario: &Scenario,
    lookup_server: &dyn Fn(&str) -> Result<NodeId, String>,
    lookup_any: &dyn Fn(&str) -> Result<NodeId, String>,
) {
    let duration = scenario.duration;
    if scenario.faults.schedule.len() > SCHEDULE_MAX {
        c.problem("faults.schedule", format!("at most {SCHEDULE_MAX} entries"));
        return;
    }
    for (index, entry) in scenario.faults.schedule.iter().enumerate() {
        let path = format!("faults.schedule[{index}]");
        if entry.at > duration {
            c.problem(format!("{path}.at"), format!("{} is after the end of the run ({duration}); move it earlier or lengthen `duration`", entry.at));
        }
        if let Some(jitter) = entry.jitter {
            if entry.at.0.saturating_add(jitter.0) > duration.0 {
                c.problem(
                    format!("{path}.jitter"),
                    format!("at + jitter ({} + {jitter}) runs past the end of the run ({duration}); shorten the jitter or lengthen `duration`", entry.at),
                );
            }
        }
        // Node faults act on servers; network faults may also name clients.
        let node_fault = matches!(
            entry.fault,
            FaultSpec::Crash(_)
                | FaultSpec::PowerLoss(_)
                | FaultSpec::Restart(_)
                | FaultSpec::Pause(..)
                | FaultSpec::Resume(_)
                | FaultSpec::ClockJump(..)
                | FaultSpec::DiskSlow(..)
                | FaultSpec::DiskStall(..)
        );
        let plain = if node_fault {
            lookup_server
        } else {
            lookup_any
        };
        let has_leader = scenario.protocol.has_leader();
        let protocol = scenario.protocol.name();
        // "@leader" and "@old-leader" are bound when the fault happens.
        let lookup = |name: &str| match name {
            // Stand-ins no real node has, so "@leader" beside a named node
            // in a partition is not mistaken for a duplicate.
            LEADER if has_leader => Ok(NodeId(u32::MAX)),
            OLD_LEADER if has_leader => Ok(NodeId(u32::MAX - 1)),
            _ if has_leader && follower_rank(name).is_some() => Ok(NodeId(
                u32::MAX - 1 - follower_rank(name).unwrap_or(0) as u32,
            )),
            _ if follower_rank(name).is_some() => Err(format!(
                "\"{name}\" names a follower, and {protocol} has no leader; name a node instead"
            )),
            LEADER | OLD_LEADER => Err(format!(
                "\"{name}\" names a leader, and {protocol} has none; name a node instead"
            )),
            _ => plain(name),
        };
        if let Err(message) = convert::fault(&entry.fault, &lookup) {
            c.problem(format!("{path}.fault"), message);
        }
    }
    if let Some(nemesis) = &scenario.faults.nemesis {
        let path = "faults.nemesis";
        if nemesis.kinds.is_empty() {
            c.problem(
                format!("{path}.kinds"),
                "list at least one kind, e.g. [Partition, Crash]",
            );
        }
        if nemesis.interval_min > nemesis.interval_max {
            c.problem(
                format!("{path}.interval_min"),
                "must not exceed interval_max",
            );
        }
        if nemesis.fault_min.0 == SimDuration::ZERO || nemesis.fault_min > nemesis.fault_max {
            c.problem(
                format!("{path}.fault_min"),
                "must be above 0s and not exceed fault_max",
            );
        }
        if nemesis.interval_max.0 == SimDuration::ZERO && nemesis.fault_max.0 == SimDuration::ZERO {
            c.problem(format!("{path}.interval_max"), "must be above 0s");
        }
        check_window(c, path, "nemesis", nemesis.start, nemesis.stop, duration);
        if sim_core::link::check_probability("loss", nemesis.loss).is_err() {
            c.problem(
                format!("{path}.loss"),
                format!("must be a probability in [0, 1], got {}", nemesis.loss),
            );
        }
        if nemesis.clock_jump_max.0 > SimDuration::from_secs(24 * 3600) {
            c.problem(format!("{path}.clock_jump_max"), "at most 24h");
        }
        if let Err(message) = convert::check_slow_factor(nemesis.disk_slow_factor) {
            c.problem(format!("{path}.disk_slow_factor"), message);
        }
        let servers = server_names(&scenario.nodes).len();
        if servers < 2
            && nemesis
                .kinds
                .iter()
                .any(|k| matches!(k, NemesisKind::Partition | NemesisKind::Clog))
        {
            c.problem(
                format!("{path}.kinds"),
                "Partition and Clog need at least 2 servers",
            );
        }
    }
    validate_outages(c, scenario);
}

/// Outage means at most: a day, so a typo cannot make a run endless.
const OUTAGE_MEAN_MAX: SimDuration = SimDuration::from_secs(24 * 3600);

fn validate_outages(c: &mut Checker, scenario: &Scenario) {
    let Some(outages) = &scenario.faults.outages else {
        return;
    };
    let path = "faults.outages";
    for (field, value) in [
        ("up_mean", outages.up_mean),
        ("down_mean", outages.down_mean),
    ] {
        if value.0 == SimDuration::ZERO || value.0 > OUTAGE_MEAN_MAX {
            c.problem(
                format!("{path}.{field}"),
                format!("must be above 0s and at most 24h, got {value}"),
            );
        }
    }
    check_window(
        c,
        path,
        "outages'",
        outages.start,
        outages.stop,
        scenario.duration,
    );
}

/// A generator's `start` and `stop` (default 80% of the run): within the
/// run, and in order.
fn check_window(
    c: &mut Checker,
    path: &str,
    what: &str,
    start: crate::duration::Dur,
    stop: Option<crate::duration::Dur>,
    duration: crate::duration::Dur,
) {
    let stop = stop.unwrap_or(default_nemesis_stop(duration));
    if stop > duration {
        c.problem(
            format!("{path}.stop"),
            format!("{stop} is after the end of the run ({duration})"),
        );
    }
    if start >= stop {
        c.problem(
            format!("{path}.start"),
            format!("{start} is not before the {what} stop time {stop}"),
        );
    }
}

/// Things that are valid but may go wrong for some seeds, for `validate` to
/// print as warnings. Today: a partition (or one-way cut, or bridge) that
/// names a binding such as "@leader" beside a node it may bind to. Such a
/// fault is fine while the binding lands elsewhere; on a seed where it
/// lands on the other name, that seed stops with an input error naming
/// both.
pub fn warnings(scenario: &Scenario) -> Vec<Problem> {
    let mut found = Vec::new();
    for (index, entry) in scenario.faults.schedule.iter().enumerate() {
        if !names_must_differ(&entry.fault) {
            continue;
        }
        let names = fault_names(&entry.fault);
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                if bindings_may_coincide(a, b) {
                    found.push(Problem {
                        path: format!("faults.schedule[{index}].fault"),
                        message: format!(
                            "\"{a}\" and \"{b}\" may be the same server when the fault happens; on such a seed the run stops with an error. Name only bindings that cannot coincide (\"@leader\" with \"@followerK\"), or use Isolate(\"@leader\")"
                        ),
                    });
                }
            }
        }
    }
    found.extend(clients_cut_off(scenario));
    found.extend(event_rate(scenario));
    found.extend(schedule_overflow(scenario));
    found
}

/// Events per simulated second past which `validate` warns: about ten
/// seconds of the engine for each simulated second.
pub const EVENTS_PER_SECOND_WARN: f64 = 1e8;

/// Periodic timers so short that the run would take hours: every protocol
/// parameter named `*_interval` fires on every server once per interval,
/// so it implies `servers / interval` events per simulated second. (Issue:
/// a 1 ns `ship_interval` made a 3 s run take twenty minutes, unwarned.)
fn event_rate(scenario: &Scenario) -> Vec<Problem> {
    let servers = server_names(&scenario.nodes).len() as f64;
    let Ok(params) = serde_json::to_value(&scenario.protocol) else {
        return Vec::new();
    };
    let mut intervals = Vec::new();
    collect_intervals(&params, "protocol", &mut intervals);
    intervals
        .into_iter()
        .filter_map(|(path, interval)| {
            let rate = servers * 1e9 / interval.0.as_nanos().max(1) as f64;
            (rate > EVENTS_PER_SECOND_WARN).then(|| Problem {
                path,
                message: format!(
                    "{interval} on {servers} servers implies about {rate:.1e} events per simulated second ({:.1e} over the {} run), hours of wall time; lengthen it, or bound the run with --timeout or limits.events_max",
                    rate * scenario.duration.0.as_nanos() as f64 / 1e9,
                    scenario.duration
                ),
            })
        })
        .collect()
}

/// Every `*_interval` duration in a protocol's parameters, with its path.
fn collect_intervals(value: &serde_json::Value, path: &str, out: &mut Vec<(String, Dur)>) {
    match value {
        serde_json::Value::Object(fields) => {
            for (name, field) in fields {
                let at = format!("{path}.{name}");
                if let (true, Some(text)) = (name.ends_with("_interval"), field.as_str()) {
                    if let Ok(d) = SimDuration::parse(text) {
                        out.push((at.clone(), Dur(d)));
                    }
                }
                collect_intervals(field, &at, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_intervals(item, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Outages or a nemesis whose expected faults outnumber the schedule's
/// room: the run will stop, inconclusive, where the schedule fills
/// (`faults.cut_at`). Expected counts: one crash and one restart per
/// outage cycle per server; a fault and its undoing per nemesis step.
fn schedule_overflow(scenario: &Scenario) -> Vec<Problem> {
    let mut found = Vec::new();
    let servers = server_names(&scenario.nodes).len() as f64;
    let duration = scenario.duration;
    let window = |start: Dur, stop: Option<Dur>| {
        let stop = stop.unwrap_or(default_nemesis_stop(duration));
        stop.0.as_nanos().saturating_sub(start.0.as_nanos()) as f64
    };
    let mut expected = scenario.faults.schedule.len() as f64;
    if let Some(outages) = &scenario.faults.outages {
        let cycle = (outages.up_mean.0.as_nanos() + outages.down_mean.0.as_nanos()).max(1) as f64;
        expected += 2.0 * servers * window(outages.start, outages.stop) / cycle;
        if expected > SCHEDULE_MAX as f64 {
            found.push(Problem {
                path: "faults.outages".into(),
                message: format!(
                    "about {expected:.0} fault entries are expected, and the schedule holds {SCHEDULE_MAX}: the run will stop, inconclusive, where it fills. Raise up_mean and down_mean, or shorten the window"
                ),
            });
        }
    }
    if let Some(nemesis) = &scenario.faults.nemesis {
        let step = (nemesis.interval_min.0.as_nanos()
            + nemesis.interval_max.0.as_nanos()
            + nemesis.fault_min.0.as_nanos()
            + nemesis.fault_max.0.as_nanos())
        .max(2) as f64
            / 2.0;
        expected += 2.0 * window(nemesis.start, nemesis.stop) / step;
        if expected > SCHEDULE_MAX as f64 {
            found.push(Problem {
                path: "faults.nemesis".into(),
                message: format!(
                    "about {expected:.0} fault entries are expected, and the schedule holds {SCHEDULE_MAX}: the run will stop, inconclusive, where it fills. Lengthen the nemesis's intervals and faults, or shorten its window"
                ),
            });
        }
    }
    found
}

/// Partitions that leave every client without a server from the first half
/// of the run to its end: each client is placed in a group with no server (a client no group
/// names keeps reaching every server, so only a placement can do this), or
/// the only client is isolated, and nothing later heals it. The run then
/// sees no operations from there on.
fn clients_cut_off(scenario: &Scenario) -> Vec<Problem> {
    let cuts = |f: &FaultSpec| matches!(f, FaultSpec::Partition(_) | FaultSpec::Isolate(_));
    if !scenario.faults.schedule.iter().any(|e| cuts(&e.fault)) {
        return Vec::new();
    }
    // A set, not a list: a cluster of 100,000 servers made this quadratic
    // (34 s to validate Count(100000)).
    let servers: std::collections::BTreeSet<String> =
        server_names(&scenario.nodes).into_iter().collect();
    let all = all_node_names(scenario);
    let clients: Vec<&String> = all.iter().filter(|n| !servers.contains(*n)).collect();
    if clients.is_empty() {
        return Vec::new();
    }
    // "@leader" and friends bind to servers.
    let is_server = |name: &String| servers.contains(name) || name.starts_with('@');
    let mut found = Vec::new();
    for (index, entry) in scenario.faults.schedule.iter().enumerate() {
        let cut_off = match &entry.fault {
            FaultSpec::Partition(groups) => clients.iter().all(|client| {
                groups
                    .iter()
                    .find(|g| g.contains(client))
                    .is_some_and(|group| !group.iter().any(is_server))
            }),
            FaultSpec::Isolate(node) => clients.len() == 1 && clients[0] == node,
            _ => false,
        };
        // A later Heal or partition changes who reaches whom, so a phase
        // that cuts the clients off on purpose (raft-figure8 stages who
        // may lead) ends there; and a cut of the run's last part leaves
        // the clients most of the run to work in. A cut that silences the
        // clients for most of the run, to its end, is likely a mistake.
        let changed_later = scenario.faults.schedule[index + 1..].iter().any(|later| {
            matches!(
                later.fault,
                FaultSpec::Heal | FaultSpec::Partition(_) | FaultSpec::Isolate(_)
            )
        });
        let most_of_the_run = entry.at.0.as_nanos() <= scenario.duration.0.as_nanos() / 2;
        if cut_off && !changed_later && most_of_the_run {
            found.push(Problem {
                path: format!("faults.schedule[{index}].fault"),
                message: "every client is cut off from every server (each is placed in a group without one), so no operation can complete until it heals; place clients with servers, or leave them out of the groups to let them reach every server".into(),
            });
        }
    }
    found
}

/// Whether two names in one fault may stand for the same server at run time.
fn bindings_may_coincide(a: &str, b: &str) -> bool {
    let binding = |n: &str| n.starts_with('@');
    if a == b || (!binding(a) && !binding(b)) {
        return false;
    }
    let follower = |n: &str| follower_rank(n).is_some();
    // "@leader" never binds to a follower, and two follower ranks differ.
    let apart = (a == LEADER && follower(b))
        || (b == LEADER && follower(a))
        || (follower(a) && follower(b));
    let plain_client = |n: &str| n.starts_with(CLIENT_PREFIX);
    !apart && !plain_client(a) && !plain_client(b)
}
