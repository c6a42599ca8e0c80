//! What each type does, by example: counters sum each replica's count
//! once, an add wins over a concurrent remove, last-writer-wins loses the
//! assignment made later on a slower clock, and concurrent assignments
//! of a multi-value register are kept as siblings until one overwrites
//! them all.

use super::{Crdt, GCounter, LwwRegister, MvRegister, OrSet, PnCounter};

#[test]
fn counters_sum_each_replicas_count_once_however_often_they_merge() {
    let (mut a, mut b) = (GCounter::default(), GCounter::default());
    a.increment(0, 3);
    b.increment(1, 4);
    a.merge(&b);
    a.merge(&b);
    b.merge(&a);
    assert_eq!((a.value(), b.value()), (7, 7));
    let mut bug = a.clone();
    bug.merge_adding(&b);
    assert_eq!(bug.value(), 14, "the duplicated state counted again");

    let (mut p, mut q) = (PnCounter::default(), PnCounter::default());
    p.add(0, 5);
    q.add(1, -2);
    p.add(0, -1);
    p.merge(&q);
    q.merge(&p);
    assert_eq!((p.value(), q.value()), (2, 2));
}

#[test]
fn an_add_wins_over_a_concurrent_remove_and_a_seen_add_is_removed() {
    let (mut r0, mut r1) = (OrSet::default(), OrSet::default());
    r0.add(0, "milk".into());
    r1.merge(&r0);
    // r1 removes the add it saw; r0 adds again meanwhile.
    assert!(r1.remove("milk"));
    r0.add(0, "milk".into());
    r0.add(0, "eggs".into());
    r1.merge(&r0);
    r0.merge(&r1);
    assert_eq!(r0.elements(), ["eggs", "milk"], "the unseen add survives");
    assert_eq!(r0, r1);
    // Removed after being seen everywhere: gone everywhere.
    r1.remove("milk");
    r0.merge(&r1);
    assert_eq!(r0.elements(), ["eggs"]);
}

#[test]
fn last_writer_wins_keeps_the_faster_clock_and_loses_the_later_write() {
    let (mut eu, mut us) = (LwwRegister::default(), LwwRegister::default());
    // eu's clock runs 50 ms ahead: its write at true time 100 ms reads
    // 150; us writes after, at true time 120 ms, reading 120.
    assert!(eu.assign(150, 0, "eu".into()));
    assert!(us.assign(120, 1, "us".into()));
    eu.merge(&us);
    us.merge(&eu);
    assert_eq!((eu.value(), us.value()), (Some("eu"), Some("eu")));
    assert!(
        !eu.assign(150, 0, "again".into()),
        "the same stamp does not win"
    );
    let mut tie = LwwRegister::default();
    tie.assign(150, 1, "higher replica".into());
    eu.merge(&tie);
    assert_eq!(
        eu.value(),
        Some("higher replica"),
        "ties go to the replica id"
    );
}

#[test]
fn concurrent_assignments_are_siblings_until_one_overwrites_both() {
    let (mut r0, mut r1) = (MvRegister::default(), MvRegister::default());
    r0.assign(0, "red".into());
    r1.assign(1, "blue".into());
    r0.merge(&r1);
    assert_eq!(r0.values(), ["red", "blue"]);
    r0.assign(0, "purple".into());
    r1.merge(&r0);
    assert_eq!(r1.values(), ["purple"], "it saw both, so it replaces both");
    r0.merge(&r1);
    assert_eq!(r0, r1);
}
