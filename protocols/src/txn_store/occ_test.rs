//! Backward validation, case by case.

use super::locks::TxnId;
use super::occ::{Invalid, Validator};

fn t(stamp: u64) -> TxnId {
    TxnId {
        stamp,
        client: 0,
        seq: stamp,
    }
}

fn k(key: &str) -> String {
    key.to_string()
}

#[test]
fn a_transaction_whose_reads_are_current_validates_and_its_commit_bumps_versions() {
    let mut v = Validator::default();
    let reads = [(k("x"), v.version("x"))];
    assert_eq!(v.validate(&reads, &[k("y")]), Ok(()));
    v.prepare(t(1), &[k("x")], &[k("y")]);
    v.finish(t(1), &[k("y")], true);
    assert_eq!((v.version("x"), v.version("y")), (0, 1));
    // An abort changes no version.
    v.prepare(t(2), &[], &[k("x")]);
    v.finish(t(2), &[k("x")], false);
    assert_eq!(v.version("x"), 0);
}

/// Write skew under OCC: T1 reads x and writes y, T2 reads y and writes x,
/// both from the same versions. Whichever validates second finds what it
/// read written: one of the two aborts (G2-item prevented).
#[test]
fn the_second_of_two_crossed_read_write_transactions_fails_validation() {
    let mut v = Validator::default();
    let t1_reads = [(k("x"), v.version("x"))];
    let t2_reads = [(k("y"), v.version("y"))];
    assert_eq!(v.validate(&t1_reads, &[k("y")]), Ok(()));
    v.prepare(t(1), &[k("x")], &[k("y")]);
    // While T1 is prepared, T2 may neither read-validate y nor write x.
    assert_eq!(
        v.validate(&t2_reads, &[k("x")]),
        Err(Invalid::Prepared(k("y")))
    );
    v.finish(t(1), &[k("y")], true);
    assert_eq!(
        v.validate(&t2_reads, &[k("x")]),
        Err(Invalid::Stale(k("y"), 0, 1))
    );
}

#[test]
fn prepared_readers_share_and_block_only_writers() {
    let mut v = Validator::default();
    v.prepare(t(1), &[k("x")], &[]);
    v.prepare(t(2), &[k("x")], &[]);
    assert_eq!(v.validate(&[(k("x"), 0)], &[]), Ok(()), "readers share");
    assert_eq!(v.validate(&[], &[k("x")]), Err(Invalid::Prepared(k("x"))));
    v.finish(t(1), &[], true);
    assert_eq!(v.validate(&[], &[k("x")]), Err(Invalid::Prepared(k("x"))));
    v.finish(t(2), &[], true);
    assert_eq!(v.validate(&[], &[k("x")]), Ok(()));
}
