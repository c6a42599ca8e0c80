//! proptest strategies: latencies, links, clocks, fault schedules and
//! register histories.
//!
//! A generated schedule is a list of `(time, Fault)` sorted by time, with
//! every fault valid for the cluster size, so a test can schedule it as is.

use crate::clock::ClockConfig;
use crate::fault::Fault;
use crate::history::{Function, History, Operation, Outcome};
use crate::ids::NodeId;
use crate::latency::Latency;
use crate::link::{LinkConfig, LinkOrder};
use crate::partition::Partition;
use crate::time::{SimDuration, SimTime};
use proptest::prelude::*;

fn millis(range: std::ops::RangeInclusive<u64>) -> impl Strategy<Value = SimDuration> {
    range.prop_map(SimDuration::from_millis)
}

/// Any latency distribution with delays of roughly 0-50 ms.
pub fn latency() -> impl Strategy<Value = Latency> {
    let leaf = prop_oneof![
        millis(0..=20).prop_map(Latency::Constant),
        (millis(0..=10), millis(0..=40)).prop_map(|(a, b)| Latency::Uniform {
            min: a.min(b),
            max: a.max(b)
        }),
        (millis(1..=30), millis(0..=10))
            .prop_map(|(mean, std_dev)| Latency::Normal { mean, std_dev }),
        (millis(1..=20), 0.1f64..1.5)
            .prop_map(|(median, sigma)| Latency::LogNormal { median, sigma }),
        millis(1..=20).prop_map(|mean| Latency::Exponential { mean }),
        (millis(1..=5), 1.5f64..4.0).prop_map(|(scale, alpha)| Latency::Pareto { scale, alpha }),
    ];
    prop_oneof![
        4 => leaf.clone(),
        1 => prop::collection::vec((0.1f64..1.0, leaf), 1..4).prop_map(Latency::Mixture),
    ]
}

/// A link with any latency, loss up to 30%, duplication up to 30%, either order.
pub fn link_config() -> impl Strategy<Value = LinkConfig> {
    (latency(), 0.0f64..0.3, 0.0f64..0.3, any::<bool>()).prop_map(
        |(latency, loss, duplicate, fifo)| LinkConfig {
            latency,
            loss,
            duplicate,
            order: if fifo {
                LinkOrder::Fifo
            } else {
                LinkOrder::Unordered
            },
            kind_latency: Vec::new(),
        },
    )
}

/// A clock with an offset within ±1 s and drift within ±`drift_ppm_max`.
pub fn clock(drift_ppm_max: f64) -> impl Strategy<Value = ClockConfig> {
    (
        -1_000_000_000i64..1_000_000_000,
        -drift_ppm_max..=drift_ppm_max,
    )
        .prop_map(|(offset_ns, drift_ppm)| ClockConfig {
            offset_ns,
            drift_ppm,
        })
}

fn node(node_count: usize) -> impl Strategy<Value = NodeId> + Clone {
    (0..node_count as u32).prop_map(NodeId)
}

/// A random split of the nodes into two to four groups (some nodes may be left out).
fn partition(node_count: usize) -> impl Strategy<Value = Partition> {
    let groups = prop::collection::vec(0u8..5, node_count).prop_filter_map(
        "needs two non-empty groups",
        |labels| {
            let mut groups: Vec<Vec<NodeId>> = vec![Vec::new(); 4];
            for (index, label) in labels.iter().enumerate() {
                if *label < 4 {
                    groups[*label as usize].push(NodeId(index as u32));
                }
            }
            groups.retain(|g| !g.is_empty());
            (groups.len() >= 2).then_some(groups)
        },
    );
    // Spare the last third of the nodes (as a scenario spares its clients).
    let spared: Vec<NodeId> = (node_count as u32 * 2 / 3..node_count as u32)
        .map(NodeId)
        .collect();
    prop_oneof![
        groups.clone().prop_map(Partition::Groups),
        groups.clone().prop_map(move |g| Partition::Sparing {
            partition: Box::new(Partition::Groups(g)),
            spared: spared.clone(),
        }),
        groups.clone().prop_map(|g| Partition::OneWay {
            from: g[0].clone(),
            to: g[1].clone()
        }),
        node(node_count).prop_map(Partition::Isolate),
        (groups, node(node_count)).prop_filter_map(
            "the bridge must be outside both sides",
            |(g, bridge)| {
                let outside = !g[0].contains(&bridge) && !g[1].contains(&bridge);
                outside.then(|| Partition::Bridge {
                    left: g[0].clone(),
                    right: g[1].clone(),
                    bridge,
                })
            }
        ),
    ]
}

/// Any single fault for a cluster of `node_count` nodes (at least 2).
pub fn fault(node_count: usize) -> impl Strategy<Value = Fault> {
    assert!(node_count >= 2, "fault strategies need at least two nodes");
    let optional_node = || prop::option::of(node(node_count));
    prop_oneof![
        (node(node_count), any::<bool>()).prop_map(|(node, lose_unsynced)| Fault::Crash {
            node,
            lose_unsynced
        }),
        node(node_count).prop_map(Fault::Restart),
        (node(node_count), prop::option::of(millis(1..=500)))
            .prop_map(|(node, duration)| Fault::Pause { node, duration }),
        node(node_count).prop_map(Fault::Resume),
        partition(node_count).prop_map(Fault::Partition),
        Just(Fault::Heal),
        (optional_node(), optional_node()).prop_map(|(from, to)| Fault::Clog { from, to }),
        (optional_node(), optional_node()).prop_map(|(from, to)| Fault::Release { from, to }),
        (node(node_count), -500_000_000i64..500_000_000)
            .prop_map(|(node, delta_ns)| Fault::ClockJump { node, delta_ns }),
        prop::option::of(0.0f64..0.5).prop_map(Fault::SetLoss),
    ]
}

/// Up to `faults_max` faults at times within `horizon`, sorted by time.
pub fn fault_schedule(
    node_count: usize,
    horizon: SimDuration,
    faults_max: usize,
) -> impl Strategy<Value = Vec<(SimTime, Fault)>> {
    let at = (0..=horizon.as_nanos()).prop_map(SimTime::from_nanos);
    prop::collection::vec((at, fault(node_count)), 0..=faults_max).prop_map(|mut schedule| {
        schedule.sort_by_key(|(at, _)| *at);
        schedule
    })
}

/// A random history: few processes and keys, so that operations
/// overlap and reads see other processes' writes. A write writes a value
/// of its own (now and then a repeated one, and the key is skipped); a
/// read returns the initial value or some write's value (perhaps of
/// another key, or of a write that failed). Some operations end unknown
/// (no completion) or fail.
pub fn register_history() -> impl Strategy<Value = History> {
    let op = (
        0u64..4,
        prop_oneof![
            Just(Function::Read),
            Just(Function::Write),
            Just(Function::Cas)
        ],
        0u8..3,
        (0usize..40, prop::bool::weighted(0.03)),
        0u64..200,
        0u64..40,
        prop_oneof![
            8 => Just(Outcome::Ok),
            1 => Just(Outcome::Info),
            1 => Just(Outcome::Fail),
        ],
    );
    prop::collection::vec(op, 0..40).prop_map(|rows| History {
        operations: rows
            .into_iter()
            .enumerate()
            .map(
                |(index, (process, f, key, (seen, repeat), invoke_ns, took, outcome))| {
                    let value = match f {
                        Function::Read if seen % 5 == 0 => String::new(),
                        Function::Read => format!("v{seen}"),
                        _ if repeat => "v0".to_string(),
                        _ => format!("v{index}"),
                    };
                    Operation {
                        process,
                        f,
                        key: format!("k{key}"),
                        value: Some(value),
                        expected: None,
                        outcome,
                        invoke_ns,
                        complete_ns: (outcome != Outcome::Info).then_some(invoke_ns + took),
                        gave_up_ns: None,
                    }
                },
            )
            .collect(),
    })
}
