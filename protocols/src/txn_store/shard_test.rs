//! One shard under each isolation level, call by call, with exact
//! effects: what waits, what is granted, what aborts and why, and which
//! anomalies each level lets through.

use super::locks::{DeadlockPolicy, TxnId};
use super::shard::{AbortReason, Effect, Isolation, Mop, Shard, Switches};

/// Every concurrency control (2PL with wound-wait).
const LEVELS: [Isolation; 4] = [
    Isolation::TwoPhaseLocking(DeadlockPolicy::WoundWait),
    Isolation::Occ,
    Isolation::SnapshotIsolation,
    Isolation::ReadCommitted,
];

fn t(stamp: u64) -> TxnId {
    TxnId {
        stamp,
        client: stamp as u32,
        seq: 1,
    }
}

fn read(key: &str) -> Mop {
    Mop::Read(key.into())
}

fn write(key: &str, value: &str) -> Mop {
    Mop::Write(key.into(), value.into())
}

fn append(key: &str, value: &str) -> Mop {
    Mop::Append(key.into(), value.into())
}

fn executed(txn: TxnId, reads: &[Option<&str>]) -> Effect {
    Effect::Executed(txn, reads.iter().map(|r| r.map(String::from)).collect())
}

/// Commits a one-shard transaction from start to end; returns its reads.
fn run_to_commit(shard: &mut Shard, txn: TxnId, ts: u64, mops: Vec<Mop>) -> Vec<Option<String>> {
    let effects = shard.execute(txn, ts, mops);
    let Some(Effect::Executed(_, reads)) = effects.first().cloned() else {
        panic!("{txn:?} did not execute: {effects:?}");
    };
    assert_eq!(shard.prepare(txn), [Effect::Vote(txn, true)]);
    shard.commit(txn, ts + 1);
    reads
}

#[test]
fn a_transaction_reads_its_own_writes_and_appends_build_a_list() {
    for isolation in LEVELS {
        let mut shard = Shard::new(isolation);
        let reads = run_to_commit(
            &mut shard,
            t(1),
            10,
            vec![
                append("x", "1"),
                read("x"),
                append("x", "2"),
                read("x"),
                write("y", "7"),
                read("y"),
            ],
        );
        assert_eq!(
            reads,
            [Some("1".into()), Some("1 2".into()), Some("7".into())],
            "{isolation:?}"
        );
        assert_eq!(shard.committed("x"), Some("1 2"));
        run_to_commit(&mut shard, t(2), 20, vec![append("x", "3")]);
        assert_eq!(shard.committed("x"), Some("1 2 3"), "{isolation:?}");
    }
}

#[test]
fn under_two_phase_locking_a_reader_waits_for_the_writer_and_reads_its_commit() {
    let mut shard = Shard::new(Isolation::TwoPhaseLocking(DeadlockPolicy::WoundWait));
    let (old, young) = (t(1), t(2));
    assert_eq!(
        shard.execute(old, 0, vec![write("x", "a")]),
        [executed(old, &[])]
    );
    assert_eq!(
        shard.execute(young, 0, vec![read("x")]),
        [],
        "waits for the lock"
    );
    assert_eq!(shard.prepare(old), [Effect::Vote(old, true)]);
    // The commit frees x: the reader resumes and reads the committed value.
    assert_eq!(shard.commit(old, 5), [executed(young, &[Some("a")])]);
}

#[test]
fn wound_wait_aborts_a_younger_holder_unless_it_is_prepared() {
    let mut shard = Shard::new(Isolation::TwoPhaseLocking(DeadlockPolicy::WoundWait));
    let (old, young) = (t(1), t(2));
    assert_eq!(
        shard.execute(young, 0, vec![write("x", "y")]),
        [executed(young, &[])]
    );
    assert_eq!(
        shard.execute(old, 0, vec![read("x")]),
        [Effect::Abort(young, AbortReason::Wounded)]
    );
    // The coordinator aborts the wounded one: the old one runs.
    assert_eq!(shard.abort_decided(young), [executed(old, &[None])]);
    // Prepared, a younger holder is bound to its decision: no wound.
    let mut shard = Shard::new(Isolation::TwoPhaseLocking(DeadlockPolicy::WoundWait));
    shard.execute(young, 0, vec![write("x", "y")]);
    assert_eq!(shard.prepare(young), [Effect::Vote(young, true)]);
    assert_eq!(shard.execute(old, 0, vec![read("x")]), []);
    assert_eq!(shard.commit(young, 3), [executed(old, &[Some("y")])]);
}

#[test]
fn wait_die_aborts_a_younger_requester_at_once() {
    let mut shard = Shard::new(Isolation::TwoPhaseLocking(DeadlockPolicy::WaitDie));
    let (old, young) = (t(1), t(2));
    shard.execute(old, 0, vec![write("x", "a")]);
    assert_eq!(
        shard.execute(young, 0, vec![read("x")]),
        [Effect::Abort(young, AbortReason::Deadlock)]
    );
    assert_eq!(
        shard.prepare(young),
        [Effect::Vote(young, false)],
        "gone here"
    );
}

/// OCC: T1 reads x, then T2 writes x and commits; T1's validation finds
/// what it read overwritten and it votes no.
#[test]
fn occ_refuses_a_transaction_whose_read_was_overwritten() {
    let mut shard = Shard::new(Isolation::Occ);
    let (t1, t2) = (t(1), t(2));
    assert_eq!(
        shard.execute(t1, 0, vec![read("x"), write("y", "1")]),
        [executed(t1, &[None])]
    );
    run_to_commit(&mut shard, t2, 0, vec![write("x", "2")]);
    assert_eq!(shard.prepare(t1), [Effect::Vote(t1, false)]);
    assert_eq!(shard.committed("y"), None);
}

/// Snapshot isolation: two transactions from one snapshot that each read
/// both on-call doctors and take the other off call both commit (write
/// skew, G2-item: allowed); two that append to one list do not (lost
/// update: the first committer wins).
#[test]
fn snapshot_isolation_allows_write_skew_and_prevents_lost_updates() {
    let mut shard = Shard::new(Isolation::SnapshotIsolation);
    run_to_commit(
        &mut shard,
        t(0),
        0,
        vec![write("alice", "on"), write("bob", "on")],
    );
    let (t1, t2) = (t(1), t(2));
    let both = |leaving: &str| vec![read("alice"), read("bob"), write(leaving, "off")];
    assert_eq!(
        shard.execute(t1, 10, both("alice")),
        [executed(t1, &[Some("on"), Some("on")])]
    );
    assert_eq!(
        shard.execute(t2, 10, both("bob")),
        [executed(t2, &[Some("on"), Some("on")])]
    );
    assert_eq!(shard.prepare(t1), [Effect::Vote(t1, true)]);
    assert_eq!(shard.prepare(t2), [Effect::Vote(t2, true)]);
    shard.commit(t1, 11);
    shard.commit(t2, 12);
    assert_eq!(
        (shard.committed("alice"), shard.committed("bob")),
        (Some("off"), Some("off"))
    );
    // Lost update: both read x at 20 and append.
    let (t3, t4) = (t(3), t(4));
    shard.execute(t3, 20, vec![read("x"), append("x", "3")]);
    shard.execute(t4, 20, vec![read("x"), append("x", "4")]);
    assert_eq!(shard.prepare(t3), [Effect::Vote(t3, true)]);
    assert_eq!(
        shard.prepare(t4),
        [Effect::Vote(t4, false)],
        "x is held by t3"
    );
    shard.commit(t3, 21);
    assert_eq!(shard.committed("x"), Some("3"));
    // And after t3 commits, a transaction from the old snapshot finds x
    // written since its start.
    let t5 = t(5);
    shard.execute(t5, 20, vec![append("x", "5")]);
    assert_eq!(shard.prepare(t5), [Effect::Vote(t5, false)]);
}

/// Read committed: a read sees the newest committed value, so one
/// transaction can read x twice and see two values (no repeatable read).
#[test]
fn read_committed_reads_the_latest_commit_each_time() {
    let mut shard = Shard::new(Isolation::ReadCommitted);
    run_to_commit(&mut shard, t(0), 0, vec![write("x", "a")]);
    let (t1, t2) = (t(1), t(2));
    assert_eq!(
        shard.execute(t1, 0, vec![read("x")]),
        [executed(t1, &[Some("a")])]
    );
    run_to_commit(&mut shard, t2, 0, vec![write("x", "b")]);
    // The same transaction reads again (a second execute of more mops is
    // a new transaction here; read in a fresh one to show the new value).
    let t3 = t(3);
    assert_eq!(
        shard.execute(t3, 0, vec![read("x")]),
        [executed(t3, &[Some("b")])]
    );
    assert_eq!(shard.prepare(t1), [Effect::Vote(t1, true)]);
}

/// A crash between the vote and the decision: the shard comes back from
/// its durable log (committed versions, prepared records) holding the
/// prepared transaction's place, and the decision then installs exactly
/// what it would have.
#[test]
fn a_prepared_transaction_survives_a_crash_and_its_commit_installs_the_same_writes() {
    use super::shard::CommittedWrite;
    for isolation in LEVELS {
        let mut shard = Shard::new(isolation);
        let mut log: Vec<CommittedWrite> = Vec::new();
        let t0 = t(0);
        shard.execute(t0, 0, vec![append("x", "1")]);
        shard.prepare(t0);
        log.extend(shard.committed_writes(t0, 5));
        shard.commit(t0, 5);
        let t1 = t(1);
        shard.execute(t1, 10, vec![read("x"), append("x", "2"), append("x", "3")]);
        assert_eq!(shard.prepare(t1), [Effect::Vote(t1, true)], "{isolation:?}");
        let record = shard.prepared_record(t1).expect("prepared");
        assert_eq!(shard.prepared_record(t0), None, "decided, so not prepared");
        let expected = shard.committed_writes(t1, 20);
        assert_eq!(
            expected,
            [CommittedWrite {
                key: "x".into(),
                commit_ts: 20,
                value: "1 2 3".into()
            }]
        );
        // The crash: memory gone; the log and the record remain.
        let mut restored = Shard::restore(isolation, Switches::default(), &log, &[record]);
        assert_eq!(restored.committed("x"), Some("1"), "{isolation:?}");
        // The prepared transaction still holds x: a writer of x cannot
        // commit ahead of it.
        let t2 = t(2);
        let blocked = match isolation {
            Isolation::Occ | Isolation::SnapshotIsolation => {
                restored.execute(t2, 30, vec![append("x", "9")]);
                restored.prepare(t2) == [Effect::Vote(t2, false)]
            }
            _ => restored.execute(t2, 30, vec![append("x", "9")]).is_empty(),
        };
        assert!(
            blocked,
            "{isolation:?}: x is held by the prepared transaction"
        );
        assert_eq!(restored.committed_writes(t1, 20), expected);
        restored.commit(t1, 20);
        assert_eq!(restored.committed("x"), Some("1 2 3"), "{isolation:?}");
    }
}

/// Each bug switch lets through, at one shard, the anomaly its level
/// exists to prevent (the history checkers then name it in a run).
#[test]
fn each_bug_switch_lets_its_anomaly_through() {
    // Snapshot isolation without first committer wins: two increments
    // of x from one snapshot both commit, and one is lost.
    let switches = Switches {
        si_without_write_conflict_check: true,
        ..Switches::default()
    };
    let mut shard = Shard::with_switches(Isolation::SnapshotIsolation, switches);
    run_to_commit(&mut shard, t(0), 0, vec![write("x", "0")]);
    let (t1, t2) = (t(1), t(2));
    for txn in [t1, t2] {
        let reads = shard.execute(txn, 10, vec![read("x"), write("x", "1")]);
        assert_eq!(reads, [executed(txn, &[Some("0")])]);
    }
    assert_eq!(shard.prepare(t1), [Effect::Vote(t1, true)]);
    assert_eq!(
        shard.prepare(t2),
        [Effect::Vote(t2, true)],
        "no conflict check"
    );
    shard.commit(t1, 11);
    shard.commit(t2, 12);
    assert_eq!(shard.committed("x"), Some("1"), "two increments, one lost");

    // OCC without validation: a transaction commits on a read that was
    // overwritten before it committed.
    let switches = Switches {
        occ_skip_validation: true,
        ..Switches::default()
    };
    let mut shard = Shard::with_switches(Isolation::Occ, switches);
    shard.execute(t1, 0, vec![read("x"), write("y", "1")]);
    run_to_commit(&mut shard, t2, 0, vec![write("x", "2")]);
    assert_eq!(shard.prepare(t1), [Effect::Vote(t1, true)]);

    // Read uncommitted: a read sees a write that then aborts (G1a).
    let switches = Switches {
        read_uncommitted: true,
        ..Switches::default()
    };
    let mut shard = Shard::with_switches(Isolation::ReadCommitted, switches);
    assert_eq!(
        shard.execute(t1, 0, vec![write("x", "dirty")]),
        [executed(t1, &[])]
    );
    assert_eq!(
        shard.execute(t2, 0, vec![read("x")]),
        [executed(t2, &[Some("dirty")])]
    );
    shard.abort_decided(t1);
    assert_eq!(
        shard.committed("x"),
        None,
        "read a write that never committed"
    );

    // Two-phase locking that lets go at the vote: a reader takes x at
    // once, before the writer's decision, and reads the value it is about
    // to overwrite.
    let switches = Switches {
        release_locks_before_commit: true,
        ..Switches::default()
    };
    let mut shard = Shard::with_switches(
        Isolation::TwoPhaseLocking(DeadlockPolicy::WoundWait),
        switches,
    );
    run_to_commit(&mut shard, t(0), 0, vec![write("x", "old")]);
    shard.execute(t1, 1, vec![write("x", "new")]);
    assert_eq!(
        shard.execute(t2, 1, vec![read("x")]),
        [],
        "waits while t1 runs"
    );
    assert_eq!(
        shard.prepare(t1),
        [Effect::Vote(t1, true), executed(t2, &[Some("old")])],
        "the lock went with the vote"
    );
    shard.commit(t1, 2);
    assert_eq!(shard.committed("x"), Some("new"));
}

#[test]
fn under_snapshot_isolation_a_read_waits_for_a_prepared_writer_and_sees_its_commit() {
    let si = Isolation::SnapshotIsolation;
    let mut shard = Shard::new(si);
    run_to_commit(&mut shard, t(1), 10, vec![write("x", "a")]);
    // T2 prepares a write of x; T3's snapshot (at 50) may lie above T2's
    // commit, so its read of x waits for T2's decision.
    assert_eq!(
        shard.execute(t(2), 20, vec![write("x", "b")]),
        [executed(t(2), &[])]
    );
    assert_eq!(shard.prepare(t(2)), [Effect::Vote(t(2), true)]);
    assert_eq!(shard.execute(t(3), 50, vec![read("x"), read("y")]), []);
    // The decision comes at 30, beneath T3's snapshot: T3 reads b.
    assert_eq!(shard.commit(t(2), 30), [executed(t(3), &[Some("b"), None])]);
    // A read by a transaction that is not waiting is not held up by an
    // unprepared writer.
    assert_eq!(
        shard.execute(t(4), 60, vec![write("x", "c")]),
        [executed(t(4), &[])]
    );
    assert_eq!(
        shard.execute(t(5), 70, vec![read("x")]),
        [executed(t(5), &[Some("b")])]
    );
    // An abort frees a parked read too, which then reads the old version.
    assert_eq!(shard.prepare(t(4)), [Effect::Vote(t(4), true)]);
    assert_eq!(shard.execute(t(6), 80, vec![read("x")]), []);
    assert_eq!(shard.abort_decided(t(4)), [executed(t(6), &[Some("b")])]);
}

#[test]
fn the_least_commit_timestamp_lies_above_every_snapshot_that_read_a_written_key() {
    let mut shard = Shard::new(Isolation::SnapshotIsolation);
    run_to_commit(&mut shard, t(1), 10, vec![write("x", "a")]);
    // T2 starts at 20 and writes x; T3 reads x at snapshot 90 first.
    shard.execute(t(2), 20, vec![write("x", "b")]);
    assert_eq!(
        shard.execute(t(3), 90, vec![read("x")]),
        [executed(t(3), &[Some("a")])]
    );
    assert_eq!(shard.prepare(t(2)), [Effect::Vote(t(2), true)]);
    // Its commit must land above 90, or T3's snapshot would have missed
    // a version beneath it.
    assert_eq!(shard.min_commit_ts(t(2)), 91);
    shard.commit(t(2), 91);
    assert_eq!(
        shard.execute(t(4), 91, vec![read("x")]),
        [executed(t(4), &[Some("b")])]
    );
    assert_eq!(
        shard.execute(t(5), 90, vec![read("x")]),
        [executed(t(5), &[Some("a")])]
    );
    // The other levels install in decision order: one above the last.
    let mut locking = Shard::new(Isolation::TwoPhaseLocking(DeadlockPolicy::WoundWait));
    run_to_commit(&mut locking, t(1), 10, vec![write("x", "a")]);
    locking.execute(t(2), 0, vec![write("y", "b")]);
    locking.prepare(t(2));
    assert_eq!(locking.min_commit_ts(t(2)), 12);
}

#[test]
fn an_upgrade_that_wounds_a_fellow_reader_is_granted_when_that_reader_aborts() {
    let mut shard = Shard::new(Isolation::TwoPhaseLocking(DeadlockPolicy::WoundWait));
    let (writer, upgrader, reader) = (t(10), t(25), t(26));
    shard.execute(writer, 0, vec![append("k4", "1"), append("k0", "2")]);
    assert_eq!(shard.prepare(writer), [Effect::Vote(writer, true)]);
    let mops = vec![read("k0"), append("k4", "3"), append("k0", "4")];
    assert_eq!(shard.execute(upgrader, 0, mops), []);
    assert_eq!(
        shard.execute(reader, 0, vec![read("k0"), append("k6", "5")]),
        []
    );
    // The writer's commit grants both readers k0; the upgrader then wants
    // k0 exclusively and wounds the younger reader.
    let effects = shard.commit(writer, 1);
    assert_eq!(
        effects,
        [
            Effect::Abort(reader, AbortReason::Wounded),
            executed(reader, &[Some("2")])
        ]
    );
    // Its abort lets the upgrade through.
    assert_eq!(
        shard.abort_decided(reader),
        [executed(upgrader, &[Some("2")])]
    );
}

/// Regression: a duplicated prepare re-validated a prepared OCC
/// transaction, found its own held keys, and dropped it after its yes;
/// the commit that followed installed nothing (a lost update, swarm
/// scenario TxnStore 25).
#[test]
fn regression_a_repeated_prepare_keeps_the_yes_vote() {
    for isolation in LEVELS {
        let mut shard = Shard::new(isolation);
        shard.execute(t(1), 5, vec![read("x"), write("x", "a")]);
        assert_eq!(shard.prepare(t(1)), [Effect::Vote(t(1), true)]);
        assert_eq!(
            shard.prepare(t(1)),
            [Effect::Vote(t(1), true)],
            "{isolation:?}"
        );
        shard.commit(t(1), 10);
        assert_eq!(shard.committed("x"), Some("a"), "{isolation:?}");
    }
}

#[test]
fn a_transaction_still_waiting_for_a_lock_votes_no() {
    let mut shard = Shard::new(Isolation::TwoPhaseLocking(DeadlockPolicy::WoundWait));
    shard.execute(t(1), 0, vec![write("x", "a")]);
    assert_eq!(shard.execute(t(2), 0, vec![read("x")]), []);
    assert_eq!(shard.prepare(t(2)), [Effect::Vote(t(2), false)]);
    assert!(!shard.has(t(2)));
}
