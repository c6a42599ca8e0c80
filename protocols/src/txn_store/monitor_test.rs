//! The monitor's judgement and measures, event by event.

use super::*;

fn txn(seq: u64) -> TxnId {
    TxnId {
        stamp: seq * 10,
        client: 1,
        seq,
    }
}

fn at(ms: u64) -> SimTime {
    SimTime::from_nanos(ms * 1_000_000)
}

#[test]
fn a_commit_installed_everywhere_is_fine_and_is_counted() {
    let mut m = TxnMonitor::new(2);
    let t = txn(1);
    for node in [NodeId(0), NodeId(1)] {
        let event = TxnEvent::ShardCommitted {
            txn: t,
            versions_kept: 3,
        };
        assert_eq!(m.observe(at(1), node, &event), None);
    }
    let decided = TxnEvent::Decided {
        txn: t,
        commit: true,
        why: None,
        shards: 2,
        latency_ns: 4_000_000,
    };
    assert_eq!(m.observe(at(1), NodeId(0), &decided), None);
    let metrics = m.metrics();
    assert!(metrics.counts.contains(&("commits", 1)));
    assert!(metrics.counts.contains(&("commits_cross_shard", 1)));
    assert_eq!(metrics.samples[2], ("commit_latency_ms", vec![4.0]));
    // At the end, a run's rates: one commit, no abort, in 2 s.
    assert_eq!(m.finish(at(2_000)), vec![]);
    let metrics = m.metrics();
    assert_eq!(metrics.samples[0], ("throughput_per_s", vec![0.5]));
    assert_eq!(metrics.samples[1], ("abort_percent", vec![0.0]));
    assert_eq!(
        metrics.series[0],
        ("versions_kept", vec![(1.0, 3.0), (1.0, 6.0)])
    );
}

#[test]
fn a_commit_installed_on_one_shard_and_dropped_on_another_breaks_atomicity() {
    let mut m = TxnMonitor::new(2);
    let t = txn(2);
    let installed = TxnEvent::ShardCommitted {
        txn: t,
        versions_kept: 1,
    };
    assert_eq!(m.observe(at(1), NodeId(0), &installed), None);
    let dropped = TxnEvent::ShardAbortedPrepared { txn: t };
    let violation = m.observe(at(2), NodeId(1), &dropped).expect("a violation");
    assert_eq!(violation.invariant, "atomic-commit");
    assert!(
        violation.message.contains("another shard dropped it"),
        "{}",
        violation.message
    );
    // Installed where its coordinator aborted it: also a violation.
    let u = txn(3);
    let aborted = TxnEvent::Decided {
        txn: u,
        commit: false,
        why: Some(AbortKind::Timeout),
        shards: 1,
        latency_ns: 1_000_000,
    };
    assert_eq!(m.observe(at(3), NodeId(0), &aborted), None);
    let late = TxnEvent::ShardCommitted {
        txn: u,
        versions_kept: 1,
    };
    let violation = m.observe(at(4), NodeId(1), &late).expect("a violation");
    assert!(violation.message.contains("its coordinator aborted it"));
    assert!(m.metrics().counts.contains(&("aborts/timeout", 1)));
}

#[test]
fn waits_and_prepared_holds_are_measured_in_milliseconds() {
    let mut m = TxnMonitor::new(1);
    let waited = TxnEvent::Waited {
        txn: txn(1),
        waited_ns: 2_500_000,
    };
    let held = TxnEvent::HeldPrepared {
        txn: txn(1),
        held_ns: 40_000_000,
    };
    m.observe(at(1), NodeId(0), &waited);
    m.observe(at(2), NodeId(0), &held);
    let metrics = m.metrics();
    assert_eq!(metrics.samples[3], ("lock_wait_ms", vec![2.5]));
    assert_eq!(metrics.samples[4], ("prepared_hold_ms", vec![40.0]));
}
