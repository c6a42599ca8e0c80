//! proptest strategies for scenario-level fault schedules, by node name, so
//! CI users can property-test their protocols over random faults:
//!
//! ```text
//! proptest! {
//!     #[test]
//!     fn my_store_is_linearizable(schedule in fault_schedule(&names, Dur::secs(3))) {
//!         let mut scenario = base_scenario();
//!         scenario.faults.schedule = schedule;
//!         let outcome = scenarios::run(&scenarios::resolve(&scenario, 1)).unwrap();
//!         prop_assert!(outcome.passed(), "{:?}", outcome.failed());
//!     }
//! }
//! ```
//!
//! Every generated schedule validates against a cluster with those names:
//! times lie inside the run, partitions have disjoint groups, crashed nodes
//! are restarted (most of the time) before the end.

use crate::duration::{Dur, SignedDur};
use crate::schema::{FaultSpec, TimedFault};
use proptest::prelude::*;
use sim_core::SimDuration;

/// Faults per generated schedule at most.
pub const GENERATED_FAULTS_MAX: usize = 12;

/// One fault on `nodes` (server names; at least one), disk faults
/// (`DiskSlow`, `DiskStall`) included: a stall followed by a power loss is
/// the window in which a protocol that answers before its sync completes
/// loses what it answered for.
pub fn fault(nodes: Vec<String>, duration: Dur) -> impl Strategy<Value = Vec<(u64, FaultSpec)>> {
    let n = nodes.len();
    let span = duration.0.as_nanos().max(1);
    let node = move |nodes: &Vec<String>, i: usize| nodes[i % nodes.len()].clone();
    (0..12u8, 0..n, 0..n, any::<u64>(), 1u64..span, 0.0f64..1.0).prop_map(
        move |(kind, a, b, bits, length, p)| {
            let name = node(&nodes, a);
            let other = node(&nodes, b);
            match kind {
                0 => vec![
                    (0, FaultSpec::Crash(name.clone())),
                    (length, FaultSpec::Restart(name)),
                ],
                1 => vec![
                    (0, FaultSpec::PowerLoss(name.clone())),
                    (length, FaultSpec::Restart(name)),
                ],
                2 => vec![(
                    0,
                    FaultSpec::Pause(name, Dur(SimDuration::from_nanos(length))),
                )],
                3 if n >= 2 => {
                    // A random split: bit i of `bits` puts node i on the right.
                    let (left, right): (Vec<_>, Vec<_>) = nodes
                        .iter()
                        .enumerate()
                        .partition(|(i, _)| bits >> (i % 64) & 1 == 0);
                    let side = |v: Vec<(usize, &String)>| {
                        v.into_iter().map(|(_, s)| s.clone()).collect::<Vec<_>>()
                    };
                    let (left, right) = (side(left), side(right));
                    if left.is_empty() || right.is_empty() {
                        vec![(0, FaultSpec::Isolate(name)), (length, FaultSpec::Heal)]
                    } else {
                        vec![
                            (0, FaultSpec::Partition(vec![left, right])),
                            (length, FaultSpec::Heal),
                        ]
                    }
                }
                4 if n >= 2 && a != b => vec![
                    (0, FaultSpec::Clog(name.clone(), other.clone())),
                    (length, FaultSpec::Release(name, other)),
                ],
                5 => vec![(
                    0,
                    FaultSpec::ClockJump(
                        name,
                        SignedDur((bits % 1_000_000_000) as i64 - 500_000_000),
                    ),
                )],
                6 => vec![
                    (0, FaultSpec::SetLoss(p * 0.5)),
                    (length, FaultSpec::RestoreLoss),
                ],
                7 if n >= 2 && a != b => vec![
                    (
                        0,
                        FaultSpec::OneWay {
                            from: vec![name],
                            to: vec![other],
                        },
                    ),
                    (length, FaultSpec::Heal),
                ],
                8 => vec![(
                    0,
                    FaultSpec::DiskSlow(name, 1.0 + p * 99.0, Dur(SimDuration::from_nanos(length))),
                )],
                9 => vec![(
                    0,
                    FaultSpec::DiskStall(name, Dur(SimDuration::from_nanos(length))),
                )],
                _ => vec![(0, FaultSpec::Isolate(name)), (length, FaultSpec::Heal)],
            }
        },
    )
}

/// A schedule of up to `GENERATED_FAULTS_MAX` faults within `duration`, in time order.
pub fn fault_schedule(nodes: Vec<String>, duration: Dur) -> impl Strategy<Value = Vec<TimedFault>> {
    assert!(!nodes.is_empty(), "a schedule needs nodes");
    let span = duration.0.as_nanos().max(1);
    prop::collection::vec((0..span, fault(nodes, duration)), 0..GENERATED_FAULTS_MAX).prop_map(
        move |items| {
            let mut schedule: Vec<TimedFault> = items
                .into_iter()
                .flat_map(|(start, parts)| {
                    parts.into_iter().map(move |(offset, fault)| TimedFault {
                        jitter: None,
                        at: Dur(SimDuration::from_nanos(
                            start.saturating_add(offset).min(span),
                        )),
                        fault,
                    })
                })
                .collect();
            schedule.sort_by_key(|entry| entry.at);
            schedule
        },
    )
}

/// Crash-recovery only: up to `GENERATED_FAULTS_MAX / 2` crashes of random
/// nodes within `duration`, each followed by a restart within it. For
/// protocols that assume a perfect failure detector (crashes are detected,
/// nothing else looks like one), such as ring election.
pub fn crash_schedule(nodes: Vec<String>, duration: Dur) -> impl Strategy<Value = Vec<TimedFault>> {
    assert!(!nodes.is_empty(), "a schedule needs nodes");
    let span = duration.0.as_nanos().max(2);
    let n = nodes.len();
    prop::collection::vec((0..n, 0..span - 1, 1..span), 0..=GENERATED_FAULTS_MAX / 2).prop_map(
        move |items| {
            let mut schedule: Vec<TimedFault> = items
                .into_iter()
                .flat_map(|(node, at, length)| {
                    let name = nodes[node].clone();
                    let up = at.saturating_add(length).min(span);
                    [
                        TimedFault {
                            jitter: None,
                            at: Dur(SimDuration::from_nanos(at)),
                            fault: FaultSpec::Crash(name.clone()),
                        },
                        TimedFault {
                            jitter: None,
                            at: Dur(SimDuration::from_nanos(up)),
                            fault: FaultSpec::Restart(name),
                        },
                    ]
                })
                .collect();
            // Stable: a crash stays ahead of a restart at the same instant.
            schedule.sort_by_key(|entry| entry.at);
            schedule
        },
    )
}
