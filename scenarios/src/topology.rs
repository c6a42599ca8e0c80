//! The engine's configuration from a scenario: the topology (regions,
//! links and their overrides), clocks, disks and tracing.

use crate::convert;
use crate::names::node_by_name;
use crate::scenario::{all_node_names, Scenario};
use sim_core::{ClockConfig, SimConfig, TopologyBuilder, TraceConfig};

/// Builds the engine configuration a scenario describes.
pub fn sim_config(scenario: &Scenario) -> Result<SimConfig, String> {
    let kinds = scenario.protocol.entry().message_kinds();
    let mut builder = TopologyBuilder::new(convert::link(&scenario.network.default, &kinds)?);
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
        builder.node(name.clone(), region_of(name))?;
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
            convert::link(&over.link, &kinds)?,
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
            convert::link(&over.link, &kinds)?,
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
    config.timer_lateness = timer_lateness(scenario, &names);
    config.disks = disks(scenario, &names)?;
    if scenario.outputs.trace {
        config.trace = TraceConfig {
            record: true,
            detail: true,
            records_max: scenario.outputs.trace_events_max.min(usize::MAX as u64) as usize,
            ..TraceConfig::default()
        };
    }
    Ok(config)
}

/// Each node's timer lateness: its own if listed, else the clocks'
/// default; empty when no node has any (timers on time, and no stream).
fn timer_lateness(
    scenario: &Scenario,
    names: &[String],
) -> Vec<Option<sim_core::latency::Latency>> {
    let spec = &scenario.clocks;
    let per_node: Vec<Option<sim_core::latency::Latency>> = names
        .iter()
        .map(|name| {
            let own = spec.nodes.iter().find(|c| c.node == *name);
            own.and_then(|c| c.timer_lateness.as_ref())
                .or(spec.timer_lateness.as_ref())
                .map(convert::latency)
        })
        .collect();
    if per_node.iter().all(Option::is_none) {
        Vec::new()
    } else {
        per_node
    }
}

/// Each node's disk: its own if listed, else its region's, else the
/// default (clients too: they never sync, so theirs never matters).
fn disks(scenario: &Scenario, names: &[String]) -> Result<Vec<sim_core::DiskConfig>, String> {
    let spec = &scenario.disks;
    names
        .iter()
        .map(|name| {
            let own = spec.nodes.iter().find(|d| d.node == *name).map(|d| &d.disk);
            let region = || {
                scenario
                    .regions
                    .iter()
                    .filter(|r| r.nodes.iter().any(|n| n == name))
                    .find_map(|r| spec.regions.iter().find(|d| d.region == r.name))
                    .map(|d| &d.disk)
            };
            convert::disk(own.or_else(region).unwrap_or(&spec.default))
        })
        .collect()
}
