//! The ring-election monitor fed hand-written event sequences: two leaders
//! of one epoch break `one-leader-per-epoch`, a leader elected while
//! another live one leads breaks `one-live-leader`; a leader re-announcing
//! its own epoch, and a new epoch's leader after the old one crashed or
//! stepped down, do not; at the end every live server must follow the
//! largest live id (`max-id-leader`).

use super::messages::RingEvent;
use super::monitor::{RingMonitor, MAX_ID_LEADER, ONE_LEADER_PER_EPOCH, ONE_LIVE_LEADER};
use crate::invariant::Monitor;
use crate::testkit::{at_ms as at, feed};
use sim_core::NodeId;

/// Three servers with ids 10, 20 and 30 (n1, n2, n3), started at 0.
fn started() -> RingMonitor {
    let mut monitor = RingMonitor::new(3);
    let found = feed(
        &mut monitor,
        &[
            (0, 0, RingEvent::Started { uid: 10 }),
            (0, 1, RingEvent::Started { uid: 20 }),
            (0, 2, RingEvent::Started { uid: 30 }),
        ],
    );
    assert!(found.is_empty());
    monitor
}

fn leads(epoch: u64, uid: u64) -> RingEvent {
    RingEvent::BecameLeader { epoch, uid }
}

fn all_follow(epoch: u64, uid: u64, ms: u64) -> Vec<(u64, u32, RingEvent)> {
    (0..3)
        .map(|node| (ms, node, RingEvent::LearnedLeader { epoch, uid }))
        .collect()
}

#[test]
fn one_leader_per_epoch_and_a_new_epoch_after_a_crash_is_fine() {
    let mut monitor = started();
    let mut found = feed(&mut monitor, &[(5, 2, leads(1, 30))]);
    found.extend(feed(&mut monitor, &all_follow(1, 30, 6)));
    // The same leader reporting its own epoch again is no second leader.
    found.extend(feed(&mut monitor, &[(7, 2, leads(1, 30))]));
    monitor.node_crashed(at(10), NodeId(2));
    found.extend(feed(&mut monitor, &[(20, 1, leads(2, 20))]));
    found.extend(feed(
        &mut monitor,
        &[
            (21, 0, RingEvent::LearnedLeader { epoch: 2, uid: 20 }),
            (21, 1, RingEvent::LearnedLeader { epoch: 2, uid: 20 }),
        ],
    ));
    assert!(found.is_empty(), "{found:?}");
    assert!(
        monitor.finish(at(100)).is_empty(),
        "n3 is down: 20 is the largest live id"
    );
}

#[test]
fn two_leaders_of_one_epoch_are_caught_first_as_such() {
    let mut monitor = started();
    feed(&mut monitor, &[(5, 2, leads(1, 30))]);
    let found = feed(&mut monitor, &[(6, 1, leads(1, 20))]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].invariant, ONE_LEADER_PER_EPOCH);
    assert_eq!(found[0].node, Some(NodeId(1)));
}

#[test]
fn a_leader_of_a_new_epoch_while_another_still_leads_is_split_brain() {
    let mut monitor = started();
    feed(&mut monitor, &[(5, 2, leads(1, 30))]);
    let found = feed(&mut monitor, &[(9, 1, leads(2, 20))]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].invariant, ONE_LIVE_LEADER);
    // Once the old leader steps down, a new epoch's leader is fine.
    let mut monitor = started();
    feed(
        &mut monitor,
        &[(5, 2, leads(1, 30)), (8, 2, RingEvent::SteppedDown)],
    );
    assert!(feed(&mut monitor, &[(9, 1, leads(2, 20))]).is_empty());
}

#[test]
fn following_a_smaller_live_id_at_the_end_breaks_max_id_leader() {
    let mut monitor = started();
    feed(&mut monitor, &[(5, 1, leads(1, 20))]);
    feed(&mut monitor, &all_follow(1, 20, 6));
    let end = monitor.finish(at(100));
    assert!(
        end.iter().any(|v| v.invariant == MAX_ID_LEADER),
        "n3 (30) is up: {end:?}"
    );
}
