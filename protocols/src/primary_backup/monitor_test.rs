//! The primary-backup monitor fed hand-written event sequences: two
//! primaries of one epoch, a backup taking entries its primary's log does
//! not hold, and a promoted backup lacking a write its mode promised was
//! safe are each reported; a write that was not promised safe and is lost
//! at a failover is counted, not reported; a primary promoted again in its
//! own epoch is a legitimate repeat.

use super::messages::PbEvent;
use super::monitor::{PbMonitor, BACKUP_LOG_PREFIX, NO_SAFE_WRITE_LOST, ONE_PRIMARY_PER_EPOCH};
use crate::invariant::Monitor;
use crate::testkit::feed;
use sim_core::NodeId;

/// n1 primary of epoch 1 appends and commits entry 1 (digest 7), `safe`
/// as its mode says.
fn one_commit(safe: bool) -> Vec<(u64, u32, PbEvent)> {
    vec![
        (1, 0, PbEvent::Promoted { epoch: 1 }),
        (
            2,
            0,
            PbEvent::Appended {
                epoch: 1,
                index: 1,
                digest: 7,
            },
        ),
        (
            3,
            0,
            PbEvent::Committed {
                epoch: 1,
                index: 1,
                digest: 7,
                write: true,
                safe,
            },
        ),
    ]
}

#[test]
fn two_primaries_of_one_epoch_break_one_primary_per_epoch_and_one_twice_does_not() {
    let mut monitor = PbMonitor::new(3);
    let once = feed(
        &mut monitor,
        &[
            (1, 0, PbEvent::Promoted { epoch: 1 }),
            (2, 0, PbEvent::Promoted { epoch: 1 }),
        ],
    );
    assert!(once.is_empty(), "{once:?}");
    let twice = feed(&mut monitor, &[(3, 1, PbEvent::Promoted { epoch: 1 })]);
    assert_eq!(twice.len(), 1);
    assert_eq!(twice[0].invariant, ONE_PRIMARY_PER_EPOCH);
    assert_eq!(twice[0].node, Some(NodeId(1)));
}

#[test]
fn a_backup_taking_entries_its_primary_does_not_hold_breaks_the_prefix_rule() {
    let mut monitor = PbMonitor::new(3);
    feed(&mut monitor, &one_commit(true));
    let same = feed(
        &mut monitor,
        &[(
            4,
            1,
            PbEvent::Accepted {
                epoch: 1,
                from: 1,
                digests: vec![7],
            },
        )],
    );
    assert!(same.is_empty(), "{same:?}");
    let other = feed(
        &mut monitor,
        &[(
            5,
            2,
            PbEvent::Accepted {
                epoch: 1,
                from: 1,
                digests: vec![8],
            },
        )],
    );
    assert_eq!(other.len(), 1, "{other:?}");
    assert_eq!(other[0].invariant, BACKUP_LOG_PREFIX);
    assert_eq!(other[0].node, Some(NodeId(2)));
}

#[test]
fn a_promoted_backup_lacking_a_safe_write_breaks_no_promised_write_lost() {
    let mut monitor = PbMonitor::new(3);
    feed(&mut monitor, &one_commit(true));
    // n2 never took entry 1, yet is promoted in epoch 2.
    let found = feed(&mut monitor, &[(10, 1, PbEvent::Promoted { epoch: 2 })]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].invariant, NO_SAFE_WRITE_LOST);
    assert_eq!(found[0].node, Some(NodeId(1)));
}

#[test]
fn an_async_write_lost_at_a_failover_is_counted_not_reported() {
    let mut monitor = PbMonitor::new(3);
    feed(&mut monitor, &one_commit(false));
    let found = feed(&mut monitor, &[(10, 1, PbEvent::Promoted { epoch: 2 })]);
    assert!(found.is_empty(), "{found:?}");
    let metrics = monitor.metrics();
    assert!(
        metrics.counts.contains(&("lost_acked_writes_total", 1)),
        "{:?}",
        metrics.counts
    );
}
