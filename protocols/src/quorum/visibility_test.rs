//! Each read's t-visibility threshold, from events fed by hand: exact
//! values, in ns, for the cases the WARS computation distinguishes.

use super::versions::Dot;
use super::visibility::{ReadVisibility, WriteTimes};
use sim_core::checker::visibility::{Counting, Thresholds};
use sim_core::SimTime;

fn at(us: u64) -> SimTime {
    SimTime::from_nanos(us * 1_000)
}

const KEY: &str = "k1";
const D: Dot = Dot {
    node: 0,
    counter: 1,
};
const E: Dot = Dot {
    node: 1,
    counter: 1,
};

/// The one write D: accepted at 0, acknowledged at 2 ms; replica 0 serves
/// it from 1 ms, replica 1 from 5 ms, replica 2 never.
fn with_write() -> (ReadVisibility, Vec<(Dot, &'static str, WriteTimes)>) {
    let mut v = ReadVisibility::default();
    v.serves(at(1_000), 0, KEY, &[D]);
    v.serves(at(5_000), 1, KEY, &[D]);
    let writes = vec![(
        D,
        KEY,
        WriteTimes {
            accepted: at(0),
            acked: Some(at(2_000)),
        },
    )];
    (v, writes)
}

/// The thresholds' parts: (at zero, later ones as histogram bounds in
/// us, never).
fn parts(t: &Thresholds) -> (u64, f64, f64, u64) {
    let mut c = Counting::default();
    c.merge(t);
    let later = c.reads() - t.at_zero - t.never;
    let (low, high) = if later > 0 {
        let q = c.t_at(1.0 - 0.5 / c.reads() as f64).unwrap();
        (q.low_ms * 1e3, q.ms * 1e3)
    } else {
        (0.0, 0.0)
    };
    (t.at_zero, low, high, t.never)
}

#[test]
fn a_read_through_a_replica_the_write_reached_late_is_consistent_from_that_margin_on() {
    let (mut v, writes) = with_write();
    // Begun at 3 ms (1 ms after the ack); its request reaches replica 1
    // at 3.5 ms, which serves the write from 5 ms: 1.5 ms too early. So
    // the read is consistent from t = 1 + 1.5 = 2.5 ms on.
    v.started(at(3_000), 2, 7, KEY);
    v.arrived(at(3_500), 1, 2, 7);
    v.arrived(at(3_200), 0, 2, 7);
    v.resolved(2, 7, &[1]);
    let t = v.thresholds(writes.into_iter()).unwrap();
    let (zero, _, high, never) = parts(&t);
    assert_eq!((zero, never), (0, 0));
    assert!((high - 2_500.0).abs() < 20.0, "{high} us");
}

#[test]
fn any_replica_used_that_had_the_write_makes_the_read_consistent_at_once() {
    let (mut v, writes) = with_write();
    v.started(at(3_000), 2, 7, KEY);
    v.arrived(at(3_500), 1, 2, 7);
    v.arrived(at(3_200), 0, 2, 7);
    v.resolved(2, 7, &[1, 0]);
    // A replica that never serves the write: that read is never consistent.
    v.started(at(4_000), 1, 8, KEY);
    v.arrived(at(4_100), 2, 1, 8);
    v.resolved(1, 8, &[2]);
    // A read resolved from nobody's arrival, or of a key never written,
    // or begun before any write was acknowledged, is not measured.
    v.started(at(1_500), 1, 9, KEY);
    v.arrived(at(1_600), 0, 1, 9);
    v.resolved(1, 9, &[0]);
    v.started(at(4_000), 1, 10, "k2");
    v.resolved(1, 10, &[0]);
    v.started(at(4_000), 1, 11, KEY); // Never resolved.
    let t = v.thresholds(writes.into_iter()).unwrap();
    assert_eq!((t.at_zero, t.never), (1, 1));
    assert!(t.later.pairs.is_empty() && t.later.counts.is_empty());
}

#[test]
fn a_concurrent_or_later_write_served_first_counts_as_the_write() {
    let (mut v, mut writes) = with_write();
    // E began at 1.5 ms, before D was acknowledged: concurrent, so not
    // certainly older. Replica 1 serves E from 3 ms, before D (5 ms).
    writes.push((
        E,
        KEY,
        WriteTimes {
            accepted: at(1_500),
            acked: Some(at(6_000)),
        },
    ));
    v.serves(at(3_000), 1, KEY, &[E]);
    v.started(at(3_000), 2, 7, KEY);
    v.arrived(at(3_500), 1, 2, 7);
    v.resolved(2, 7, &[1]);
    // E was there 0.5 ms before the request arrived; begun 1 ms after D's
    // ack, so from t = 0.5 ms on.
    let t = v.thresholds(writes.clone().into_iter()).unwrap();
    let (zero, _, high, never) = parts(&t);
    assert_eq!((zero, never), (0, 0));
    assert!((high - 500.0).abs() < 5.0, "{high} us");
    // A write acknowledged before D began is certainly older: it does not
    // count.
    let (mut v, mut writes) = with_write();
    let old = Dot {
        node: 2,
        counter: 1,
    };
    writes.push((
        old,
        KEY,
        WriteTimes {
            accepted: at(0),
            acked: Some(at(0)),
        },
    ));
    v.serves(at(0), 1, KEY, &[old]);
    v.started(at(3_000), 2, 7, KEY);
    v.arrived(at(3_500), 1, 2, 7);
    v.resolved(2, 7, &[1]);
    let t = v.thresholds(writes.into_iter()).unwrap();
    let (zero, _, high, never) = parts(&t);
    assert_eq!((zero, never), (0, 0));
    assert!((high - 2_500.0).abs() < 20.0, "{high} us");
}
