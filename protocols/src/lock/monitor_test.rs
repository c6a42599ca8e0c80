//! The lock monitor on hand-written event sequences: overlapping uses of
//! the resource, writes out of token order, tokens that do not increase,
//! and the metrics.

use super::messages::LockEvent;
use super::monitor::LockMonitor;
use crate::invariant::Monitor;
use crate::testkit::{at_ms, feed};
use sim_core::NodeId;

fn access(client: u32, attempt: u64, token: u64, write: bool, accepted: bool) -> LockEvent {
    LockEvent::Access {
        client: NodeId(client),
        attempt,
        token,
        write,
        accepted,
        fencing: false,
        ordered: true,
    }
}

fn acquired(attempt: u64, token: u64) -> LockEvent {
    LockEvent::Acquired { attempt, token }
}

fn count(monitor: &LockMonitor, name: &str) -> u64 {
    let metrics = monitor.metrics();
    metrics.counts.iter().find(|(n, _)| *n == name).unwrap().1
}

#[test]
fn holders_taking_turns_break_nothing() {
    let mut monitor = LockMonitor::new(4);
    let violations = feed(
        &mut monitor,
        &[
            (0, 2, LockEvent::AcquireStarted),
            (2, 2, acquired(1, 1)),
            (3, 1, access(2, 1, 1, false, true)),
            (50, 1, access(2, 1, 1, true, true)),
            (51, 2, LockEvent::Released { attempt: 1 }),
            (52, 3, acquired(1, 2)),
            (53, 1, access(3, 1, 2, false, true)),
            (90, 1, access(3, 1, 2, true, true)),
        ],
    );
    assert!(violations.is_empty(), "{violations:?}");
    assert_eq!(count(&monitor, "acquisitions"), 2);
    assert_eq!(count(&monitor, "writes_accepted"), 2);
    assert_eq!(count(&monitor, "zombie_writes_attempted"), 0);
    assert_eq!(monitor.metrics().samples[0].1, [2.0]);
    monitor.finish(at_ms(500));
    let throughput = &monitor.metrics().samples[3];
    assert_eq!(*throughput, ("critical_sections_per_s", vec![4.0]));
}

/// n2 enters and reads; it pauses, its grant expires, and n3 enters and
/// reads: what n2 does when it wakes decides the verdict.
fn zombie_story() -> Vec<(u64, u32, LockEvent)> {
    vec![
        (2, 2, acquired(1, 1)),
        (3, 1, access(2, 1, 1, false, true)),
        (600, 3, acquired(1, 2)),
        (601, 1, access(3, 1, 2, false, true)),
    ]
}

#[test]
fn a_zombie_write_after_the_next_holders_read_breaks_mutual_exclusion_and_write_order() {
    let mut monitor = LockMonitor::new(4);
    let violations = feed(
        &mut monitor,
        &[
            &zombie_story()[..],
            &[
                (620, 1, access(3, 1, 2, true, true)),
                (900, 1, access(2, 1, 1, true, true)),
            ],
        ]
        .concat(),
    );
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].invariant, "mutual-exclusion");
    assert_eq!(violations[0].node, Some(NodeId(2)));
    assert!(
        violations[0]
            .message
            .contains("#2's grant (entered at 2ms) is the older"),
        "{}",
        violations[0].message
    );
    let at_end = monitor.finish(at_ms(1000));
    assert_eq!(at_end.len(), 1);
    assert_eq!(at_end[0].invariant, "fenced-writes-ordered");
    assert_eq!(count(&monitor, "zombie_writes_attempted"), 1);
    assert_eq!(count(&monitor, "zombie_writes_accepted"), 1);
}

#[test]
fn a_zombie_refused_by_fencing_or_a_late_holder_that_never_overlapped_breaks_nothing() {
    let mut monitor = LockMonitor::new(4);
    let violations = feed(
        &mut monitor,
        &[
            &zombie_story()[..],
            &[
                (900, 1, access(2, 1, 1, true, false)),
                // A holder whose first access comes after the other's last
                // used the resource alone.
                (950, 2, acquired(2, 3)),
                (951, 1, access(2, 2, 3, false, true)),
                (990, 1, access(2, 2, 3, true, true)),
            ],
        ]
        .concat(),
    );
    assert!(violations.is_empty(), "{violations:?}");
    assert!(monitor.finish(at_ms(1000)).is_empty());
    assert_eq!(count(&monitor, "zombie_writes_attempted"), 1);
    assert_eq!(count(&monitor, "zombie_writes_accepted"), 0);
    assert_eq!(count(&monitor, "writes_refused"), 1);
}

#[test]
fn a_repeated_or_lower_token_breaks_fencing_tokens_increase_where_it_is_promised() {
    let granted = |client: u32, token: u64, monotonic: bool| LockEvent::Granted {
        client: NodeId(client),
        token,
        monotonic,
    };
    let mut monitor = LockMonitor::new(5);
    let violations = feed(
        &mut monitor,
        &[
            (1, 0, granted(3, 1, true)),
            (5, 0, granted(4, 2, true)),
            (9, 1, granted(3, 2, true)),
        ],
    );
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].invariant, "fencing-tokens-increase");
    assert_eq!(violations[0].node, Some(NodeId(1)));
    let mut redlock = LockMonitor::new(9);
    let independent = feed(
        &mut redlock,
        &[(1, 0, granted(6, 3, false)), (2, 1, granted(7, 1, false))],
    );
    assert!(
        independent.is_empty(),
        "Redlock promises no order of tokens"
    );
}

/// Consensus: every replica reports each grant as it applies the log.
/// A replica late to apply (a deposed leader back from a pause) reports
/// an older token after another replica reported a newer one, which is
/// the log's order and breaks nothing; a replica whose own grants go
/// back does, and a restart starts its log again.
#[test]
fn each_replica_must_apply_grants_under_increasing_tokens() {
    let granted = |client: u32, token: u64| LockEvent::ReplicaGranted {
        client: NodeId(client),
        token,
    };
    let mut monitor = LockMonitor::new(6);
    let late = feed(
        &mut monitor,
        &[
            (1, 0, granted(4, 17)),
            (2, 1, granted(4, 17)),
            (3, 1, granted(5, 32)),
            (4, 0, granted(5, 32)),
            (9, 2, granted(4, 17)),
            (10, 2, granted(5, 32)),
        ],
    );
    assert!(late.is_empty(), "{late:?}");
    monitor.node_crashed(at_ms(20), NodeId(2));
    let again = feed(&mut monitor, &[(30, 2, granted(4, 17))]);
    assert!(
        again.is_empty(),
        "a restarted replica applies from the start"
    );
    let back = feed(&mut monitor, &[(40, 1, granted(4, 1))]);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].invariant, "fencing-tokens-increase");
    assert_eq!(back[0].node, Some(NodeId(1)));
    let repeated = feed(&mut monitor, &[(50, 1, granted(5, 32))]);
    assert_eq!(repeated.len(), 1, "a token applied twice by one replica");
}

#[test]
fn a_crashed_holder_keeps_the_lock_until_another_client_enters() {
    let mut monitor = LockMonitor::new(4);
    feed(&mut monitor, &[(10, 2, acquired(1, 1))]);
    monitor.node_crashed(at_ms(100), NodeId(2));
    feed(&mut monitor, &[(590, 3, acquired(1, 2))]);
    let metrics = monitor.metrics();
    let (name, unavailable) = &metrics.samples[1];
    assert_eq!(*name, "unavailable_after_crash_ms");
    assert_eq!(unavailable, &[490.0]);
    // A crash of a client that held nothing measures nothing.
    monitor.node_crashed(at_ms(700), NodeId(2));
    feed(&mut monitor, &[(800, 2, acquired(2, 3))]);
    assert_eq!(monitor.metrics().samples[1].1.len(), 1);
}

#[test]
fn the_locks_own_history_has_each_acquire_and_release_and_a_crashed_holders_release_unknown() {
    use crate::invariant::MutexHistory;
    use sim_core::history::Outcome;
    let mut monitor = LockMonitor::new(4);
    feed(
        &mut monitor,
        &[
            (0, 2, LockEvent::AcquireStarted),
            (5, 2, acquired(1, 1)),
            (6, 3, LockEvent::AcquireStarted),
            (40, 2, LockEvent::Released { attempt: 1 }),
            (45, 3, acquired(1, 2)),
            (70, 2, LockEvent::AcquireStarted),
            (80, 2, LockEvent::GaveUp),
        ],
    );
    // n3 crashes holding the lock: it is released by expiry, some time
    // after; n3 comes back as a new process.
    monitor.node_crashed(at_ms(60), NodeId(3));
    feed(
        &mut monitor,
        &[
            (600, 3, LockEvent::AcquireStarted),
            (605, 3, LockEvent::TooLittleValidity),
        ],
    );
    let history = monitor.metrics().mutex_history.unwrap();
    let ops: Vec<(u64, &str, Outcome, u64, Option<u64>)> = history
        .ops
        .iter()
        .map(|o| {
            let ms = |ns: u64| ns / 1_000_000;
            (
                o.process,
                o.f.as_str(),
                o.outcome,
                ms(o.invoke_ns),
                o.complete_ns.map(ms),
            )
        })
        .collect();
    let again = 3 + MutexHistory::PROCESS_STRIDE;
    assert_eq!(
        ops,
        [
            (2, "acquire", Outcome::Ok, 0, Some(5)),
            (3, "acquire", Outcome::Ok, 6, Some(45)),
            (2, "release", Outcome::Ok, 40, Some(40)),
            (2, "acquire", Outcome::Fail, 70, Some(80)),
            (3, "release", Outcome::Info, 60, None),
            (again, "acquire", Outcome::Ok, 600, Some(605)),
            (again, "release", Outcome::Ok, 605, Some(605)),
        ]
    );
    assert_eq!(MutexHistory::node_of(again), NodeId(3));
    let budget = sim_core::checker::Budget::default();
    let (report, _, _) = sim_core::workload::mutex::check(&history.ops, &budget, "t").unwrap();
    assert_eq!(report.verdict, sim_core::checker::Verdict::Pass);
}
