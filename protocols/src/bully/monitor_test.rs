//! The Bully monitor fed hand-written event sequences: a smaller id
//! becoming leader while a larger live one leads breaks `no-lower-leader`
//! at once; a larger id taking over, and a leader restarting and winning
//! again, do not; at the end every live server must follow the largest
//! live id (`max-id-leader`).

use super::messages::BullyEvent;
use super::monitor::{BullyMonitor, MAX_ID_LEADER, NO_LOWER_LEADER};
use crate::invariant::Monitor;
use crate::testkit::{at_ms as at, feed};
use sim_core::NodeId;

/// Three servers with ids 10, 20 and 30 (n1, n2, n3), started at 0.
fn started() -> BullyMonitor {
    let mut monitor = BullyMonitor::new(3);
    let found = feed(
        &mut monitor,
        &[
            (0, 0, BullyEvent::Started { uid: 10 }),
            (0, 1, BullyEvent::Started { uid: 20 }),
            (0, 2, BullyEvent::Started { uid: 30 }),
        ],
    );
    assert!(found.is_empty());
    monitor
}

/// Every server follows `uid`.
fn all_follow(uid: u64, ms: u64) -> Vec<(u64, u32, BullyEvent)> {
    (0..3)
        .map(|node| (ms, node, BullyEvent::LearnedLeader { uid }))
        .collect()
}

#[test]
fn a_larger_id_taking_over_is_bullying_not_a_violation() {
    let mut monitor = started();
    let mut found = feed(
        &mut monitor,
        &[(5, 1, BullyEvent::BecameLeader { uid: 20 })],
    );
    found.extend(feed(
        &mut monitor,
        &[(8, 2, BullyEvent::BecameLeader { uid: 30 })],
    ));
    found.extend(feed(&mut monitor, &[(8, 1, BullyEvent::SteppedDown)]));
    found.extend(feed(&mut monitor, &all_follow(30, 9)));
    assert!(found.is_empty(), "{found:?}");
    assert!(monitor.finish(at(100)).is_empty());
    let counts = monitor.metrics().counts;
    assert!(counts.contains(&("takeovers", 1)), "{counts:?}");
}

#[test]
fn a_smaller_id_elected_while_a_larger_live_one_leads_is_caught_at_once() {
    let mut monitor = started();
    feed(
        &mut monitor,
        &[(5, 2, BullyEvent::BecameLeader { uid: 30 })],
    );
    let found = feed(
        &mut monitor,
        &[(7, 0, BullyEvent::BecameLeader { uid: 10 })],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].invariant, NO_LOWER_LEADER);
    assert_eq!(found[0].node, Some(NodeId(0)));
    assert_eq!(found[0].time, at(7));
}

#[test]
fn after_the_largest_crashes_the_next_may_lead_and_it_takes_over_on_restart() {
    let mut monitor = started();
    feed(
        &mut monitor,
        &[(5, 2, BullyEvent::BecameLeader { uid: 30 })],
    );
    monitor.node_crashed(at(10), NodeId(2));
    let mut found = feed(
        &mut monitor,
        &[(20, 1, BullyEvent::BecameLeader { uid: 20 })],
    );
    // n3 restarts with its id and bullies its way back: a legitimate repeat.
    found.extend(feed(
        &mut monitor,
        &[
            (30, 2, BullyEvent::Started { uid: 30 }),
            (31, 2, BullyEvent::BecameLeader { uid: 30 }),
            (31, 1, BullyEvent::SteppedDown),
        ],
    ));
    found.extend(feed(&mut monitor, &all_follow(30, 32)));
    assert!(found.is_empty(), "{found:?}");
    assert!(monitor.finish(at(100)).is_empty());
}

#[test]
fn a_live_server_following_a_smaller_id_at_the_end_breaks_max_id_leader() {
    let mut monitor = started();
    feed(
        &mut monitor,
        &[(5, 2, BullyEvent::BecameLeader { uid: 30 })],
    );
    feed(
        &mut monitor,
        &[
            (6, 0, BullyEvent::LearnedLeader { uid: 30 }),
            (6, 1, BullyEvent::LearnedLeader { uid: 20 }),
        ],
    );
    let end = monitor.finish(at(100));
    assert!(end.iter().any(|v| v.invariant == MAX_ID_LEADER), "{end:?}");
}
