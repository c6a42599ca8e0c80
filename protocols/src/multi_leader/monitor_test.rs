//! The multi-leader monitor on hand-written event sequences: each
//! invariant caught where it breaks and quiet where it holds, and the
//! lost-write and lag measures counted exactly.

use super::messages::MultiLeaderEvent;
use super::monitor::{
    MultiLeaderMonitor, CAUSAL_DELIVERY, COUNTER_SUM, FORWARDING_ENDS, NO_LOST_UPDATES,
};
use super::resolution::{CrdtKind, Resolution, Write};
use crate::crdt::Dot;
use crate::invariant::Monitor;
use crate::testkit::{at_ms, feed};

use super::test_support::{dot, vv};

fn began(region: u32, regions: u32) -> MultiLeaderEvent {
    MultiLeaderEvent::Began { region, regions }
}

fn took(
    region: u32,
    counter: u64,
    deps: &[(u32, u64)],
    write: Write,
    resolution: Resolution,
    value: &[&str],
) -> MultiLeaderEvent {
    MultiLeaderEvent::Took {
        region,
        dot: dot(region, counter),
        deps: vv(deps),
        key: "k".into(),
        write,
        resolution,
        value: value.iter().map(|v| v.to_string()).collect(),
    }
}

fn applied(
    region: u32,
    of: Dot,
    deps_met: bool,
    causal: bool,
    conflict: bool,
    value: &[&str],
) -> MultiLeaderEvent {
    MultiLeaderEvent::Applied {
        region,
        dot: of,
        key: "k".into(),
        deps_met,
        causal,
        conflict,
        value: value.iter().map(|v| v.to_string()).collect(),
    }
}

fn count(monitor: &MultiLeaderMonitor, name: &str) -> u64 {
    monitor
        .metrics()
        .counts
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
        .expect("a count the monitor reports")
}

const LWW: Resolution = Resolution::LastWriterWins;

#[test]
fn a_write_applied_before_its_dependency_breaks_causal_delivery_only_where_it_is_claimed() {
    for causal in [false, true] {
        let mut m = MultiLeaderMonitor::new(3);
        let violations = feed(
            &mut m,
            &[
                (0, 0, began(0, 3)),
                (
                    10,
                    1,
                    took(1, 1, &[(0, 1)], Write::Put("b".into()), LWW, &["b"]),
                ),
                (20, 2, applied(2, dot(1, 1), false, causal, false, &["b"])),
            ],
        );
        assert_eq!(count(&m, "applied_before_dependencies"), 1);
        if causal {
            assert_eq!(violations.len(), 1);
            assert_eq!(violations[0].invariant, CAUSAL_DELIVERY);
        } else {
            assert!(
                violations.is_empty(),
                "without the claim it is the anomaly, counted"
            );
        }
    }
}

#[test]
fn forwarding_beyond_as_many_hops_as_regions_is_reported_once() {
    let mut m = MultiLeaderMonitor::new(3);
    let hop = |hops| MultiLeaderEvent::Forwarded {
        region: 1,
        dot: dot(0, 1),
        hops,
    };
    let violations = feed(
        &mut m,
        &[
            (0, 0, began(0, 3)),
            (1, 0, hop(1)),
            (2, 1, hop(2)),
            (3, 2, hop(3)),
            (4, 0, hop(4)),
        ],
    );
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].invariant, FORWARDING_ENDS);
    assert_eq!(count(&m, "forwards"), 4);
}

#[test]
fn lww_losing_a_concurrent_write_is_counted_and_losing_a_later_one_is_a_violation() {
    // Concurrent: regions 0 and 1 write without seeing each other; both
    // end holding 1's value.
    let mut m = MultiLeaderMonitor::new(2);
    feed(
        &mut m,
        &[
            (0, 0, began(0, 2)),
            (1, 0, took(0, 1, &[], Write::Put("a".into()), LWW, &["a"])),
            (2, 1, took(1, 1, &[], Write::Put("b".into()), LWW, &["b"])),
            (50, 0, applied(0, dot(1, 1), true, true, true, &["b"])),
            (51, 1, applied(1, dot(0, 1), true, true, true, &["b"])),
        ],
    );
    assert!(m.finish(at_ms(100)).is_empty());
    assert_eq!(count(&m, "writes_lost_to_lww"), 1);
    assert_eq!(count(&m, "conflicts"), 2);
    // Causal: region 1 wrote b after applying a, yet both hold a.
    let mut m = MultiLeaderMonitor::new(2);
    feed(
        &mut m,
        &[
            (0, 0, began(0, 2)),
            (1, 0, took(0, 1, &[], Write::Put("a".into()), LWW, &["a"])),
            (40, 1, applied(1, dot(0, 1), true, true, false, &["a"])),
            (
                41,
                1,
                took(1, 1, &[(0, 1)], Write::Put("b".into()), LWW, &["a"]),
            ),
            (90, 0, applied(0, dot(1, 1), true, true, false, &["a"])),
        ],
    );
    let violations = m.finish(at_ms(100));
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].invariant, NO_LOST_UPDATES);
    assert_eq!(count(&m, "writes_lost_to_lww"), 0);
}

#[test]
fn a_write_superseded_by_one_that_saw_it_is_not_lost_and_siblings_must_survive() {
    let mv = Resolution::VersionVectors;
    let mut m = MultiLeaderMonitor::new(2);
    feed(
        &mut m,
        &[
            (0, 0, began(0, 2)),
            (1, 0, took(0, 1, &[], Write::Put("a".into()), mv, &["a"])),
            (
                2,
                0,
                took(0, 2, &[(0, 1)], Write::Put("c".into()), mv, &["c"]),
            ),
            (3, 1, took(1, 1, &[], Write::Put("b".into()), mv, &["b"])),
            (50, 0, applied(0, dot(1, 1), true, true, true, &["c", "b"])),
            (51, 1, applied(1, dot(0, 1), true, true, true, &["a", "b"])),
            (52, 1, applied(1, dot(0, 2), true, true, false, &["c", "b"])),
        ],
    );
    assert!(
        m.finish(at_ms(100)).is_empty(),
        "a superseded by c; b and c siblings"
    );
    // Siblings: a concurrent write that vanished is lost, not "lost to LWW".
    let mut m = MultiLeaderMonitor::new(2);
    feed(
        &mut m,
        &[
            (0, 0, began(0, 2)),
            (1, 0, took(0, 1, &[], Write::Put("a".into()), mv, &["a"])),
            (3, 1, took(1, 1, &[], Write::Put("b".into()), mv, &["b"])),
            (50, 0, applied(0, dot(1, 1), true, true, true, &["b"])),
        ],
    );
    let violations = m.finish(at_ms(100));
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].invariant, NO_LOST_UPDATES);
}

#[test]
fn a_counter_that_applied_every_write_reads_their_sum_and_a_double_count_is_caught() {
    let g = Resolution::Crdt(CrdtKind::GCounter);
    for (final_value, violated) in [("2", false), ("3", true)] {
        let mut m = MultiLeaderMonitor::new(2);
        feed(
            &mut m,
            &[
                (0, 0, began(0, 2)),
                (1, 0, took(0, 1, &[], Write::Add(1), g, &["1"])),
                (2, 1, took(1, 1, &[], Write::Add(1), g, &["1"])),
                (50, 0, applied(0, dot(1, 1), true, true, true, &["2"])),
                (51, 1, applied(1, dot(0, 1), true, true, true, &["2"])),
                (
                    60,
                    1,
                    MultiLeaderEvent::Merged {
                        region: 1,
                        key: "k".into(),
                        value: vec![final_value.into()],
                    },
                ),
            ],
        );
        let violations = m.finish(at_ms(100));
        assert_eq!(violations.len(), usize::from(violated), "{final_value}");
        if violated {
            assert_eq!(violations[0].invariant, COUNTER_SUM);
        }
    }
}

#[test]
fn a_region_behind_is_not_held_to_the_full_sum_but_a_grow_only_counter_never_exceeds_it() {
    let g = Resolution::Crdt(CrdtKind::GCounter);
    let mut m = MultiLeaderMonitor::new(2);
    feed(
        &mut m,
        &[
            (0, 0, began(0, 2)),
            (1, 0, took(0, 1, &[], Write::Add(1), g, &["1"])),
            (2, 1, took(1, 1, &[], Write::Add(1), g, &["1"])),
        ],
    );
    assert!(
        m.finish(at_ms(100)).is_empty(),
        "partitioned: each reads its own 1"
    );
    let mut m = MultiLeaderMonitor::new(2);
    feed(
        &mut m,
        &[
            (0, 0, began(0, 2)),
            (1, 0, took(0, 1, &[], Write::Add(1), g, &["1"])),
            (
                2,
                0,
                MultiLeaderEvent::Merged {
                    region: 0,
                    key: "k".into(),
                    value: vec!["5".into()],
                },
            ),
        ],
    );
    assert_eq!(m.finish(at_ms(100))[0].invariant, COUNTER_SUM);
}

#[test]
fn replication_lag_is_measured_from_the_commit_and_everywhere_when_the_last_region_has_it() {
    let mut m = MultiLeaderMonitor::new(3);
    feed(
        &mut m,
        &[
            (0, 0, began(0, 3)),
            (10, 0, took(0, 1, &[], Write::Put("a".into()), LWW, &["a"])),
            (40, 1, applied(1, dot(0, 1), true, true, false, &["a"])),
            (70, 2, applied(2, dot(0, 1), true, true, false, &["a"])),
        ],
    );
    m.finish(at_ms(100));
    let samples = m.metrics().samples;
    let of = |name: &str| samples.iter().find(|(n, _)| *n == name).unwrap().1.clone();
    assert_eq!(of("replication_lag_ms"), [30.0, 60.0]);
    assert_eq!(of("replicated_everywhere_ms"), [60.0]);
    assert_eq!(of("writes_lost_to_lww_per_run"), [0.0]);
}

#[test]
fn the_backlog_of_writes_not_yet_everywhere_drains_as_regions_apply_and_conflicts_are_counted_per_key_and_second(
) {
    let mut m = MultiLeaderMonitor::new(3);
    feed(
        &mut m,
        &[
            (0, 0, began(0, 3)),
            (10, 0, took(0, 1, &[], Write::Put("a".into()), LWW, &["a"])),
            (11, 1, took(1, 1, &[], Write::Put("b".into()), LWW, &["b"])),
            (40, 1, applied(1, dot(0, 1), true, true, true, &["b"])),
            (50, 2, applied(2, dot(0, 1), true, true, false, &["a"])),
            (60, 0, applied(0, dot(1, 1), true, true, true, &["b"])),
        ],
    );
    m.finish(at_ms(2_000));
    let metrics = m.metrics();
    let series = |name: &str| {
        metrics
            .series
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1
            .clone()
    };
    // Two writes owe two regions each; three applications later one is owed.
    let backlog: Vec<f64> = series("writes_not_yet_everywhere")
        .iter()
        .map(|(_, v)| *v)
        .collect();
    assert_eq!(backlog, [2.0, 4.0, 3.0, 2.0, 1.0]);
    let samples = |name: &str| {
        metrics
            .samples
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(samples("conflicts_per_s"), [1.0], "two conflicts in 2 s");
    assert_eq!(samples("conflicts_per_key"), [2.0], "both on k");
}
