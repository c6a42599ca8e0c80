//! The Raft monitor fed hand-written event sequences: each invariant it
//! checks is reported exactly when broken, and the legitimate repeats a
//! restart brings (a server storing and applying its log again, the same
//! leader heard again) are not.

use super::messages::RaftEvent;
use super::monitor::{
    RaftMonitor, ELECTION_SAFETY, LEADER_COMPLETENESS, LOG_MATCHING, STATE_MACHINE_SAFETY,
};
use crate::invariant::Monitor;
use crate::testkit::{at_ms as at, feed};
use sim_core::NodeId;

fn stored(index: u64, term: u64, digest: u64) -> RaftEvent {
    RaftEvent::Stored {
        index,
        term,
        digest,
    }
}

fn applied(index: u64, term: u64, digest: u64) -> RaftEvent {
    RaftEvent::Applied {
        index,
        term,
        digest,
        client_command: true,
    }
}

/// n1 leads term 1, it and n2 store entry 1 (digest 5), and n1 commits it.
fn first_entry_committed() -> Vec<(u64, u32, RaftEvent)> {
    vec![
        (1, 0, RaftEvent::BecameLeader { term: 1 }),
        (2, 0, stored(1, 1, 5)),
        (3, 1, stored(1, 1, 5)),
        (
            4,
            0,
            RaftEvent::LeaderCommitted {
                commit_index: 1,
                term: 1,
            },
        ),
    ]
}

#[test]
fn two_leaders_of_one_term_break_election_safety_and_one_leader_twice_does_not() {
    let mut monitor = RaftMonitor::new(3);
    let once = feed(
        &mut monitor,
        &[
            (10, 0, RaftEvent::BecameLeader { term: 1 }),
            (20, 0, RaftEvent::BecameLeader { term: 1 }),
            (30, 1, RaftEvent::BecameLeader { term: 2 }),
        ],
    );
    assert!(once.is_empty(), "{once:?}");
    let twice = feed(
        &mut monitor,
        &[(40, 2, RaftEvent::BecameLeader { term: 2 })],
    );
    assert_eq!(twice.len(), 1);
    assert_eq!(twice[0].invariant, ELECTION_SAFETY);
    assert_eq!(twice[0].node, Some(NodeId(2)));
    assert_eq!(twice[0].time, at(40));
    assert!(
        twice[0]
            .message
            .contains("were both elected leader of term 2"),
        "{}",
        twice[0].message
    );
}

#[test]
fn different_entries_at_one_index_and_term_break_log_matching() {
    let mut monitor = RaftMonitor::new(3);
    let same = feed(
        &mut monitor,
        &[(1, 0, stored(1, 1, 7)), (2, 1, stored(1, 1, 7))],
    );
    assert!(same.is_empty(), "{same:?}");
    let different = feed(&mut monitor, &[(3, 2, stored(1, 1, 8))]);
    assert_eq!(different.len(), 1);
    assert_eq!(different[0].invariant, LOG_MATCHING);
    assert_eq!(different[0].node, Some(NodeId(2)));
}

#[test]
fn a_restarted_server_storing_and_applying_its_log_again_is_no_violation() {
    let mut monitor = RaftMonitor::new(3);
    let mut found = feed(&mut monitor, &first_entry_committed());
    found.extend(feed(
        &mut monitor,
        &[(5, 0, applied(1, 1, 5)), (6, 1, applied(1, 1, 5))],
    ));
    // n2 crashes and recovers its durable log (one entry), then applies
    // it again from the start, as a restarted state machine does.
    monitor.node_crashed(at(7), NodeId(1));
    found.extend(feed(
        &mut monitor,
        &[
            (
                8,
                1,
                RaftEvent::Recovered {
                    last_index: 1,
                    term: 1,
                },
            ),
            (9, 1, applied(1, 1, 5)),
            (10, 1, stored(2, 1, 6)),
        ],
    ));
    assert!(found.is_empty(), "{found:?}");
    // A recovery that lost the entry (a power loss before its sync) is
    // mirrored too: the server may then store another entry at index 1 of
    // a later term without breaking Log Matching.
    monitor.node_crashed(at(11), NodeId(2));
    let lost = feed(
        &mut monitor,
        &[
            (
                12,
                2,
                RaftEvent::Recovered {
                    last_index: 0,
                    term: 1,
                },
            ),
            (13, 2, stored(1, 2, 9)),
        ],
    );
    assert!(lost.is_empty(), "{lost:?}");
}

#[test]
fn applying_another_command_at_an_applied_index_breaks_state_machine_safety() {
    let mut monitor = RaftMonitor::new(3);
    let found = feed(
        &mut monitor,
        &[(1, 0, applied(1, 1, 5)), (2, 1, applied(1, 1, 6))],
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].invariant, STATE_MACHINE_SAFETY);
    assert_eq!(found[0].node, Some(NodeId(1)));
    let counts = monitor.metrics().counts;
    assert!(counts.contains(&("committed_commands", 1)), "{counts:?}");
}

#[test]
fn a_leader_without_a_committed_entry_breaks_leader_completeness() {
    let mut monitor = RaftMonitor::new(3);
    let mut found = feed(&mut monitor, &first_entry_committed());
    // n3 never stored entry 1, yet wins term 2.
    found.extend(feed(
        &mut monitor,
        &[(5, 2, RaftEvent::BecameLeader { term: 2 })],
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].invariant, LEADER_COMPLETENESS);
    assert_eq!(found[0].node, Some(NodeId(2)));
    // n2, which holds it, may lead term 3.
    let fine = feed(&mut monitor, &[(6, 1, RaftEvent::BecameLeader { term: 3 })]);
    assert!(fine.is_empty(), "{fine:?}");
}

/// The leaderless time ends when every live server has heard the *newest*
/// leader since the crash. n1 leads term 1 and crashes at 100 ms; n5 wins
/// term 2 at 130 ms but is deposed by n2 (term 3) at 131 ms before anyone
/// hears n5; n3, n4 and n5 hear n2 by 150 ms. The sample is 50 ms. (The
/// first leader was exempt from hearing, so n2, which never hears itself,
/// left the trial "not elected".)
#[test]
fn a_deposed_first_leader_after_a_crash_does_not_lose_the_leaderless_sample() {
    let mut monitor = RaftMonitor::new(5);
    let heard = |term: u64, leader: u32| RaftEvent::HeardLeader {
        term,
        leader: NodeId(leader),
    };
    let violations = feed(
        &mut monitor,
        &[(10, 0, RaftEvent::BecameLeader { term: 1 })],
    );
    assert!(violations.is_empty());
    monitor.node_crashed(at(100), NodeId(0));
    let violations = feed(
        &mut monitor,
        &[
            (130, 4, RaftEvent::BecameLeader { term: 2 }),
            (131, 1, RaftEvent::BecameLeader { term: 3 }),
            // A late hearing of the deposed leader does not count.
            (132, 2, heard(2, 4)),
            (140, 2, heard(3, 1)),
            (145, 3, heard(3, 1)),
        ],
    );
    assert!(violations.is_empty(), "{violations:?}");
    let measured = |m: &RaftMonitor| {
        m.metrics()
            .samples
            .iter()
            .any(|(n, v)| *n == "leaderless_ms" && !v.is_empty())
    };
    assert!(!measured(&monitor), "n5 has not heard n2 yet");
    let violations = feed(&mut monitor, &[(150, 4, heard(3, 1))]);
    assert!(violations.is_empty());
    let samples = monitor.metrics();
    let leaderless = samples
        .samples
        .iter()
        .find(|(name, _)| *name == "leaderless_ms")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert_eq!(leaderless, vec![50.0]);
}
