//! The atomic-commit monitor fed hand-written event sequences: atomicity
//! (split outcomes, a reversed decision), a commit before every yes, and
//! money conserved at the end, each reported when broken; a shard applying
//! its outcome again after a power loss (a legitimate repeat) is not.

use super::messages::CommitEvent;
use super::monitor::{CommitMonitor, ATOMICITY, COMMIT_NEEDS_ALL_YES, MONEY_CONSERVED};
use crate::invariant::Monitor;
use crate::testkit::{at_ms as at, feed};
use sim_core::NodeId;

const COORDINATOR: u32 = 0;
const A: u32 = 1;
const B: u32 = 2;

/// Transaction 1 over shards A and B, both voting yes, decided `commit`.
fn voted_and_decided(commit: bool) -> Vec<(u64, u32, CommitEvent)> {
    vec![
        (
            1,
            COORDINATOR,
            CommitEvent::Begin {
                txn: 1,
                participants: vec![NodeId(A), NodeId(B)],
            },
        ),
        (2, A, CommitEvent::Voted { txn: 1, yes: true }),
        (2, B, CommitEvent::Voted { txn: 1, yes: true }),
        (3, COORDINATOR, CommitEvent::Decided { txn: 1, commit }),
    ]
}

fn applied(commit: bool, delta_sum: i64) -> CommitEvent {
    CommitEvent::Applied {
        txn: 1,
        commit,
        delta_sum,
    }
}

#[test]
fn a_committed_transfer_that_moves_money_conserves_it_even_applied_twice() {
    let mut monitor = CommitMonitor::new(3);
    let mut found = feed(&mut monitor, &voted_and_decided(true));
    found.extend(feed(
        &mut monitor,
        &[
            (4, A, applied(true, -5)),
            (4, B, applied(true, 5)),
            // A's outcome record was lost to a power loss before its sync;
            // it rebuilt its balances and applies the outcome again.
            (6, A, applied(true, -5)),
        ],
    ));
    assert!(found.is_empty(), "{found:?}");
    assert!(monitor.finish(at(10)).is_empty());
}

#[test]
fn split_outcomes_and_a_reversed_decision_break_atomicity() {
    let mut monitor = CommitMonitor::new(3);
    feed(&mut monitor, &voted_and_decided(true));
    let split = feed(
        &mut monitor,
        &[(4, A, applied(true, -5)), (4, B, applied(false, 0))],
    );
    assert_eq!(split.len(), 1, "{split:?}");
    assert_eq!(split[0].invariant, ATOMICITY);
    assert_eq!(split[0].node, Some(NodeId(B)));
    let reversed = feed(
        &mut monitor,
        &[(
            5,
            COORDINATOR,
            CommitEvent::Decided {
                txn: 1,
                commit: false,
            },
        )],
    );
    assert_eq!(reversed.len(), 1);
    assert_eq!(reversed[0].invariant, ATOMICITY);
    assert!(reversed[0].message.contains("was decided commit, and now"));
    // The same decision heard again is no reversal.
    let same = feed(
        &mut monitor,
        &[(
            6,
            COORDINATOR,
            CommitEvent::Decided {
                txn: 1,
                commit: true,
            },
        )],
    );
    assert!(same.is_empty());
}

#[test]
fn a_commit_before_every_yes_breaks_commit_needs_all_yes() {
    let mut monitor = CommitMonitor::new(3);
    let found = feed(
        &mut monitor,
        &[
            (
                1,
                COORDINATOR,
                CommitEvent::Begin {
                    txn: 1,
                    participants: vec![NodeId(A), NodeId(B)],
                },
            ),
            (2, A, CommitEvent::Voted { txn: 1, yes: true }),
            // B never voted, yet A commits.
            (3, A, applied(true, -5)),
        ],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].invariant, COMMIT_NEEDS_ALL_YES);
    assert_eq!(found[0].node, Some(NodeId(A)));
}

#[test]
fn money_made_by_settled_transactions_breaks_money_conserved_at_the_end() {
    let mut monitor = CommitMonitor::new(3);
    feed(&mut monitor, &voted_and_decided(true));
    feed(
        &mut monitor,
        &[(4, A, applied(true, -5)), (4, B, applied(true, 7))],
    );
    let end = monitor.finish(at(10));
    assert_eq!(end.len(), 1);
    assert_eq!(end[0].invariant, MONEY_CONSERVED);
    assert!(end[0].message.contains("+2"), "{}", end[0].message);
}

#[test]
fn a_transaction_still_uncertain_at_the_end_is_not_judged() {
    let mut monitor = CommitMonitor::new(3);
    feed(&mut monitor, &voted_and_decided(true));
    // Only A has applied; B still waits for the decision.
    feed(&mut monitor, &[(4, A, applied(true, -5))]);
    assert!(monitor.finish(at(10)).is_empty());
    let counts = monitor.metrics().counts;
    assert!(counts.contains(&("txns_unsettled_at_end", 1)), "{counts:?}");
}
