//! A simpler environment: each latency distribution (links, disks, client
//! think times) becomes a constant at its typical value, and losses,
//! duplications, per-kind latencies, disk throughputs and skewed clocks go.
//! Each such thing is an `Item`; the search tries them all at once, then
//! one by one.

use crate::duration::Dur;
use crate::scenario::Scenario;
use crate::schema::{ArrivalSpec, DiskSpec, LatencySpec, LinkSpec};
use sim_core::SimDuration;

/// Where a link spec sits in the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkAt {
    Default,
    Region(usize),
    Link(usize),
}

/// Where a disk spec sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskAt {
    Default,
    Region(usize),
    Node(usize),
}

/// One thing that could be simpler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Latency(LinkAt),
    Loss(LinkAt),
    Duplicate(LinkAt),
    Kinds(LinkAt),
    DiskLatency(DiskAt),
    DiskThroughput(DiskAt),
    /// The clock of `clocks.nodes[i]` (an offset or a drift).
    Clock(usize),
    Think,
}

/// A distribution's typical value: its mean where finite, else its median,
/// to the microsecond.
pub fn typical(latency: &LatencySpec) -> SimDuration {
    let ns = typical_ns(latency).clamp(0.0, 1e18);
    SimDuration::from_nanos((ns / 1e3).round() as u64 * 1_000)
}

fn typical_ns(latency: &LatencySpec) -> f64 {
    let ns = |d: &Dur| d.0.as_nanos() as f64;
    match latency {
        LatencySpec::Constant(d) => ns(d),
        LatencySpec::Uniform { min, max } => (ns(min) + ns(max)) / 2.0,
        LatencySpec::Normal { mean, .. } => ns(mean),
        LatencySpec::LogNormal { median, .. } => ns(median),
        LatencySpec::Exponential { mean } => ns(mean),
        LatencySpec::Pareto { scale, alpha } if *alpha > 1.0 => ns(scale) * alpha / (alpha - 1.0),
        LatencySpec::Pareto { scale, alpha } => ns(scale) * 2f64.powf(1.0 / alpha.max(1e-3)),
        LatencySpec::Mixture(parts) => {
            let total: f64 = parts.iter().map(|(w, _)| w).sum();
            if total <= 0.0 {
                return 0.0;
            }
            parts.iter().map(|(w, l)| w * typical_ns(l)).sum::<f64>() / total
        }
        LatencySpec::Shifted { by, latency } => ns(by) + typical_ns(latency),
    }
}

fn is_constant(latency: &LatencySpec) -> bool {
    matches!(latency, LatencySpec::Constant(_))
}

fn link(scenario: &Scenario, at: LinkAt) -> &LinkSpec {
    let network = &scenario.network;
    match at {
        LinkAt::Default => &network.default,
        LinkAt::Region(i) => &network.regions[i].link,
        LinkAt::Link(i) => &network.links[i].link,
    }
}

fn link_mut(scenario: &mut Scenario, at: LinkAt) -> &mut LinkSpec {
    let network = &mut scenario.network;
    match at {
        LinkAt::Default => &mut network.default,
        LinkAt::Region(i) => &mut network.regions[i].link,
        LinkAt::Link(i) => &mut network.links[i].link,
    }
}

fn disk(scenario: &Scenario, at: DiskAt) -> &DiskSpec {
    let disks = &scenario.disks;
    match at {
        DiskAt::Default => &disks.default,
        DiskAt::Region(i) => &disks.regions[i].disk,
        DiskAt::Node(i) => &disks.nodes[i].disk,
    }
}

fn disk_mut(scenario: &mut Scenario, at: DiskAt) -> &mut DiskSpec {
    let disks = &mut scenario.disks;
    match at {
        DiskAt::Default => &mut disks.default,
        DiskAt::Region(i) => &mut disks.regions[i].disk,
        DiskAt::Node(i) => &mut disks.nodes[i].disk,
    }
}

/// Everything in `scenario` that could be simpler, in file order.
pub fn items(scenario: &Scenario) -> Vec<Item> {
    let mut out = Vec::new();
    let links = std::iter::once(LinkAt::Default)
        .chain((0..scenario.network.regions.len()).map(LinkAt::Region))
        .chain((0..scenario.network.links.len()).map(LinkAt::Link));
    for at in links {
        let spec = link(scenario, at);
        if !is_constant(&spec.latency) {
            out.push(Item::Latency(at));
        }
        if spec.loss > 0.0 {
            out.push(Item::Loss(at));
        }
        if spec.duplicate > 0.0 {
            out.push(Item::Duplicate(at));
        }
        if !spec.kinds.is_empty() {
            out.push(Item::Kinds(at));
        }
    }
    let disks = std::iter::once(DiskAt::Default)
        .chain((0..scenario.disks.regions.len()).map(DiskAt::Region))
        .chain((0..scenario.disks.nodes.len()).map(DiskAt::Node));
    for at in disks {
        let spec = disk(scenario, at);
        if !is_constant(&spec.sync_latency) {
            out.push(Item::DiskLatency(at));
        }
        if spec.bytes_per_second.is_some() {
            out.push(Item::DiskThroughput(at));
        }
    }
    for (i, clock) in scenario.clocks.nodes.iter().enumerate() {
        if clock.offset.0 != 0 || clock.drift_ppm != 0.0 {
            out.push(Item::Clock(i));
        }
    }
    if let ArrivalSpec::Closed { think } = &scenario.workload.arrival {
        if !is_constant(think) {
            out.push(Item::Think);
        }
    }
    out
}

/// `scenario` with `item` made simple, and the change in words.
pub fn apply(scenario: &Scenario, item: Item) -> (Scenario, String) {
    let mut out = scenario.clone();
    let place = |at: LinkAt| match at {
        LinkAt::Default => "network.default".to_string(),
        LinkAt::Region(i) => format!("network.regions[{i}].link"),
        LinkAt::Link(i) => format!("network.links[{i}].link"),
    };
    let disk_place = |at: DiskAt| match at {
        DiskAt::Default => "disks.default".to_string(),
        DiskAt::Region(i) => format!("disks.regions[{i}].disk"),
        DiskAt::Node(i) => format!("disks.nodes[{i}].disk"),
    };
    let what = match item {
        Item::Latency(at) => {
            let spec = link_mut(&mut out, at);
            let value = typical(&spec.latency);
            spec.latency = LatencySpec::Constant(Dur(value));
            format!("{}.latency: a constant {value}", place(at))
        }
        Item::Loss(at) => {
            link_mut(&mut out, at).loss = 0.0;
            format!("{}.loss: none", place(at))
        }
        Item::Duplicate(at) => {
            link_mut(&mut out, at).duplicate = 0.0;
            format!("{}.duplicate: none", place(at))
        }
        Item::Kinds(at) => {
            link_mut(&mut out, at).kinds.clear();
            format!("{}.kinds: one latency for every kind", place(at))
        }
        Item::DiskLatency(at) => {
            let spec = disk_mut(&mut out, at);
            let value = typical(&spec.sync_latency);
            spec.sync_latency = LatencySpec::Constant(Dur(value));
            format!("{}.sync_latency: a constant {value}", disk_place(at))
        }
        Item::DiskThroughput(at) => {
            disk_mut(&mut out, at).bytes_per_second = None;
            format!("{}.bytes_per_second: none", disk_place(at))
        }
        Item::Clock(i) => {
            let clock = out.clocks.nodes.remove(i);
            format!("clocks: {}'s clock made perfect", clock.node)
        }
        Item::Think => {
            if let ArrivalSpec::Closed { think } = &mut out.workload.arrival {
                let value = typical(think);
                *think = LatencySpec::Constant(Dur(value));
                format!("workload.arrival.think: a constant {value}")
            } else {
                unreachable!("Think is listed only for a closed loop")
            }
        }
    };
    (out, what)
}

/// `scenario` with every item made simple at once.
pub fn all(scenario: &Scenario) -> Scenario {
    let mut out = scenario.clone();
    // Back to front, so that removing a clock does not move the items before it.
    for item in items(scenario).into_iter().rev() {
        out = apply(&out, item).0;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typical_values_are_means_or_medians_to_the_microsecond() {
        let uniform = LatencySpec::Uniform {
            min: Dur::ms(1),
            max: Dur::ms(10),
        };
        assert_eq!(typical(&uniform), SimDuration::from_micros(5_500));
        let heavy = LatencySpec::Pareto {
            scale: Dur::ms(1),
            alpha: 1.0,
        };
        assert_eq!(typical(&heavy), SimDuration::from_millis(2));
        let shifted = LatencySpec::Shifted {
            by: Dur::ms(75),
            latency: Box::new(LatencySpec::Exponential { mean: Dur::ms(1) }),
        };
        assert_eq!(typical(&shifted), SimDuration::from_millis(76));
        let mixture = LatencySpec::Mixture(vec![
            (3.0, LatencySpec::Constant(Dur::ms(1))),
            (1.0, LatencySpec::Constant(Dur::ms(5))),
        ]);
        assert_eq!(typical(&mixture), SimDuration::from_millis(2));
    }
}
