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
                    gave_up_ns: None,
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

// Regression: the session check was quadratic in time and memory.
//
// Postmortem. A week-long Raft run (65,674 operations from 6 clients) peaked
// at 2 GB of RSS under a 256 MiB budget, and most of its 35 s went to this
// check. For every write it copied everything its process had read and
// written before (O(n²/processes) memory), and every read scanned all the
// writes it was obliged to see (O(n²) time). Neither copy is needed: what a
// write obliges is a prefix of its process's session, and the writes newer
// than a version are a range once indexed by invoke time. The property test
// below holds the indexed check to the old, obviously-correct one on random
// histories, counts and listed violations alike.

mod reference {
    //! The quadratic check as it was, kept as the oracle.
    use sim_core::history::{Function, History, Operation, Outcome};
    use std::collections::{BTreeMap, BTreeSet};

    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Version {
        Initial,
        Write(usize),
    }

    /// Counts per guarantee and the listed (guarantee, read, write) triples.
    pub type Outcomes = (
        BTreeMap<&'static str, u64>,
        Vec<(&'static str, usize, usize)>,
    );

    pub fn check(history: &History, initial: &str, listed_max: usize) -> Outcomes {
        let ops = &history.operations;
        let keys = sim_core::checker::session::unique_writes(history, initial);
        let is_write = |op: &Operation| {
            matches!(op.f, Function::Write | Function::Cas) && op.outcome != Outcome::Fail
        };
        let read_version = |op: &Operation| -> Option<Version> {
            if op.f != Function::Read || op.outcome != Outcome::Ok {
                return None;
            }
            let writes = keys.get(op.key.as_str())?.as_ref()?;
            let value = op.value.as_deref()?;
            if value == initial {
                return Some(Version::Initial);
            }
            writes.get(value).map(|&w| Version::Write(w))
        };
        let mut by_process: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for (index, op) in ops.iter().enumerate() {
            by_process.entry(op.process).or_default().push(index);
        }
        for list in by_process.values_mut() {
            list.sort_by_key(|&i| (ops[i].invoke_ns, i));
        }
        let mut read_before: BTreeMap<usize, Vec<Version>> = BTreeMap::new();
        let mut written_before: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for list in by_process.values() {
            let (mut seen, mut wrote) = (Vec::new(), Vec::new());
            for &i in list {
                if is_write(&ops[i]) {
                    read_before.insert(i, seen.clone());
                    written_before.insert(i, wrote.clone());
                    wrote.push(i);
                } else if let Some(version) = read_version(&ops[i]) {
                    seen.push(version);
                }
            }
        }
        let older = |a: Version, b: usize| match a {
            Version::Initial => true,
            Version::Write(a) => {
                let (wa, wb) = (&ops[a], &ops[b]);
                a != b
                    && (wa.complete_ns.is_some_and(|done| done < wb.invoke_ns)
                        || (wa.process == wb.process && wa.invoke_ns < wb.invoke_ns))
            }
        };
        let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut listed = Vec::new();
        for list in by_process.values() {
            let mut obliged: BTreeMap<&str, BTreeSet<(&'static str, usize)>> = BTreeMap::new();
            let mut last_read: BTreeMap<&str, Version> = BTreeMap::new();
            for &i in list {
                let op = &ops[i];
                if is_write(op) {
                    if op.outcome == Outcome::Ok {
                        obliged
                            .entry(op.key.as_str())
                            .or_default()
                            .insert(("read-your-writes", i));
                    }
                    continue;
                }
                let Some(version) = read_version(op) else {
                    continue;
                };
                let key = op.key.as_str();
                let mut report = |guarantee: &'static str, write: usize| {
                    let count = counts.entry(guarantee).or_default();
                    *count += 1;
                    if *count as usize <= listed_max {
                        listed.push((guarantee, i, write));
                    }
                };
                for &(guarantee, write) in obliged.get(key).into_iter().flatten() {
                    if older(version, write) {
                        report(guarantee, write);
                    }
                }
                if let Some(&Version::Write(previous)) = last_read.get(key) {
                    if older(version, previous) {
                        report("monotonic-reads", previous);
                    }
                }
                last_read.insert(key, version);
                if let Version::Write(write) = version {
                    for &earlier in &written_before[&write] {
                        obliged
                            .entry(ops[earlier].key.as_str())
                            .or_default()
                            .insert(("monotonic-writes", earlier));
                    }
                    for &read in &read_before[&write] {
                        if let Version::Write(read) = read {
                            obliged
                                .entry(ops[read].key.as_str())
                                .or_default()
                                .insert(("writes-follow-reads", read));
                        }
                    }
                }
            }
        }
        for guarantee in super::GUARANTEES {
            counts.entry(guarantee).or_default();
        }
        (counts, listed)
    }
}

mod against_reference {
    use super::reference;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use sim_core::checker::session::{self, LISTED_MAX};
    use sim_core::testkit::strategies::register_history as histories;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn indexed_check_matches_the_quadratic_one(history in histories()) {
            let report = session::check(&history, "");
            let (counts, listed) = reference::check(&history, "", LISTED_MAX);
            prop_assert_eq!(&report.counts, &counts);
            let got: Vec<(&str, usize, usize)> = report
                .violations
                .iter()
                .map(|v| (v.guarantee, v.read, v.obliged.unwrap()))
                .collect();
            prop_assert_eq!(got, listed);
            prop_assert!(!report.counts_capped);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        /// The strategy makes violations often enough to test the
        /// comparison: at least a tenth of its histories have one.
        #[test]
        fn histories_often_violate_a_guarantee(seed in any::<u64>()) {
            let mut runner = proptest::test_runner::TestRunner::new_with_rng(
                ProptestConfig::default(),
                proptest::test_runner::TestRng::from_seed(
                    proptest::test_runner::RngAlgorithm::ChaCha,
                    &[seed.to_le_bytes(), [0; 8], [0; 8], [0; 8]].concat(),
                ),
            );
            let mut violating = 0;
            for _ in 0..100 {
                let history = histories().new_tree(&mut runner).unwrap().current();
                let (counts, _) = reference::check(&history, "", LISTED_MAX);
                violating += usize::from(counts.values().any(|&c| c > 0));
            }
            prop_assert!(violating >= 10, "{violating} of 100");
        }
    }
}
