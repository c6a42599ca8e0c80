//! Session guarantees: a handcrafted violation of each is caught (and only
//! that one), and a history that satisfies them all passes.

use sim_core::checker::session::{self, GUARANTEES};
use sim_core::history::{Function, History, Operation, Outcome};

/// (process, f, key, value, invoke, complete), all ok.
fn history(rows: &[(u64, Function, &str, &str, u64, u64)]) -> History {
    History {
        operations: rows
            .iter()
            .map(
                |&(process, f, key, value, invoke_ns, complete_ns)| Operation {
                    process,
                    f,
                    key: key.into(),
                    value: Some(value.into()),
                    expected: None,
                    outcome: Outcome::Ok,
                    invoke_ns,
                    complete_ns: Some(complete_ns),
                },
            )
            .collect(),
    }
}

/// Asserts exactly `violated` fails (or none when empty).
fn check(rows: &[(u64, Function, &str, &str, u64, u64)], violated: &[&str]) {
    let report = session::check(&history(rows), "");
    for guarantee in GUARANTEES {
        assert_eq!(
            report.holds(guarantee),
            !violated.contains(&guarantee),
            "{guarantee}: {report:?}"
        );
    }
}

use Function::{Read as R, Write as W};

#[test]
fn read_your_writes() {
    // p0 writes x=a, then reads the initial value.
    check(
        &[(0, W, "x", "a", 0, 10), (0, R, "x", "", 20, 30)],
        &["read-your-writes"],
    );
    // Reading a newer write by someone else is fine.
    check(
        &[
            (0, W, "x", "a", 0, 10),
            (1, W, "x", "b", 15, 18),
            (0, R, "x", "b", 20, 30),
        ],
        &[],
    );
}

#[test]
fn monotonic_reads() {
    // p1 sees b (written after a), then a again.
    check(
        &[
            (0, W, "x", "a", 0, 10),
            (0, W, "x", "b", 20, 30),
            (1, R, "x", "b", 40, 50),
            (1, R, "x", "a", 60, 70),
        ],
        &["monotonic-reads"],
    );
    check(
        &[
            (0, W, "x", "a", 0, 10),
            (1, R, "x", "a", 40, 50),
            (1, R, "x", "", 60, 70),
        ],
        &["monotonic-reads"],
    );
    check(
        &[
            (0, W, "x", "a", 0, 10),
            (0, W, "x", "b", 20, 30),
            (1, R, "x", "a", 40, 50),
            (1, R, "x", "b", 60, 70),
        ],
        &[],
    );
}

#[test]
fn monotonic_writes() {
    // p0 writes x=a then y=b; p1 sees y=b but then x's initial value.
    check(
        &[
            (0, W, "x", "a", 0, 10),
            (0, W, "y", "b", 20, 30),
            (1, R, "y", "b", 40, 50),
            (1, R, "x", "", 60, 70),
        ],
        &["monotonic-writes"],
    );
    check(
        &[
            (0, W, "x", "a", 0, 10),
            (0, W, "y", "b", 20, 30),
            (1, R, "y", "b", 40, 50),
            (1, R, "x", "a", 60, 70),
        ],
        &[],
    );
}

#[test]
fn writes_follow_reads() {
    // p1 reads x=a, then writes y=b; p2 sees y=b but then x's initial value.
    check(
        &[
            (0, W, "x", "a", 0, 10),
            (1, R, "x", "a", 20, 30),
            (1, W, "y", "b", 40, 50),
            (2, R, "y", "b", 60, 70),
            (2, R, "x", "", 80, 90),
        ],
        &["writes-follow-reads"],
    );
    check(
        &[
            (0, W, "x", "a", 0, 10),
            (1, R, "x", "a", 20, 30),
            (1, W, "y", "b", 40, 50),
            (2, R, "y", "b", 60, 70),
            (2, R, "x", "a", 80, 90),
        ],
        &[],
    );
}

#[test]
fn keys_with_appends_or_repeated_values_are_skipped_not_judged() {
    let report = session::check(
        &history(&[
            (0, W, "x", "a", 0, 10),
            (1, W, "x", "a", 20, 30),
            (0, R, "x", "", 40, 50),
        ]),
        "",
    );
    assert_eq!((report.keys_checked, report.keys_skipped), (0, 1));
    assert!(GUARANTEES.iter().all(|g| report.holds(g)));
}
