//! The distinct-values check against the search.
//!
//! - Over 100,000 random small histories whose writes are distinct (reads,
//!   writes and compare-and-sets; ok, failed and unknown outcomes;
//!   linearizable and not), the two verdicts agree, and every window the
//!   check reports is itself not linearizable under the search.
//! - Hand-made histories built to defeat a naive zone check: overlapping
//!   zones, a late read of the initial value, an unknown write whose value
//!   is read, and one whose value never is.

use proptest::prelude::*;
use sim_core::checker::distinct_values::{self, KeyVerdict, ViolationKind};
use sim_core::checker::linearizability::{self, Algorithm, Algorithms};
use sim_core::checker::model::KvModel;
use sim_core::checker::{Budget, Verdict};
use sim_core::history::{Function, History, Operation, Outcome};

fn op(
    process: u64,
    f: Function,
    value: Option<&str>,
    expected: Option<&str>,
    outcome: Outcome,
    (invoke, complete): (u64, u64),
) -> Operation {
    Operation {
        process,
        f,
        key: "k".into(),
        value: value.map(String::from),
        expected: expected.map(String::from),
        outcome,
        invoke_ns: invoke,
        complete_ns: (outcome != Outcome::Info).then_some(complete),
        gave_up_ns: None,
    }
}

fn write(p: u64, v: &str, at: (u64, u64)) -> Operation {
    op(p, Function::Write, Some(v), None, Outcome::Ok, at)
}
fn read(p: u64, v: &str, at: (u64, u64)) -> Operation {
    op(p, Function::Read, Some(v), None, Outcome::Ok, at)
}

/// The search alone, on every key.
fn searched(history: &History) -> Verdict {
    linearizability::check_with(
        history,
        &KvModel::default(),
        &Budget::default(),
        Algorithms::SearchOnly,
    )
    .verdict
}

/// The distinct-values check on the history's one key, cross-checked:
/// its verdict must be the search's, and a violation's window must fail
/// the search on its own.
fn cross_checked(history: &History) -> Result<KeyVerdict, TestCaseError> {
    let ops: Vec<&Operation> = history.operations.iter().collect();
    let fast = distinct_values::check_key(&ops, "");
    let search = searched(history);
    prop_assert!(search != Verdict::Unknown, "small histories are decided");
    match &fast {
        KeyVerdict::NotApplicable(reason) => {
            return Err(TestCaseError::fail(format!(
                "distinct values, yet not applicable: {reason}"
            )))
        }
        KeyVerdict::Linearizable => prop_assert_eq!(search, Verdict::Pass),
        KeyVerdict::Violation(violation) => {
            prop_assert_eq!(search, Verdict::Fail, "{:?}", violation);
            prop_assert!(violation.window.windows(2).all(|w| w[0] < w[1]));
            let window = History {
                operations: violation
                    .window
                    .iter()
                    .map(|&p| history.operations[p].clone())
                    .collect(),
            };
            prop_assert_eq!(
                searched(&window),
                Verdict::Fail,
                "the window {:?} is linearizable",
                violation.window
            );
        }
    }
    // And through `check`, which must say the distinct-values check decided.
    let report = linearizability::check(history, &KvModel::default(), &Budget::default());
    prop_assert_eq!(report.verdict, search);
    if report.keys_checked == 1 {
        prop_assert_eq!(report.decided_by.distinct_values, 1);
        prop_assert_eq!(report.decided_by.search, 0);
    }
    if let Some(cx) = report.counterexample {
        prop_assert_eq!(cx.algorithm, Algorithm::DistinctValues);
    }
    Ok(fast)
}

/// Random operations with distinct written values: operation i, a write
/// or a cas, writes `v{i}`; reads and cas expect a value some operation
/// wrote, the initial value, or (rarely) one nobody writes.
fn random_history(max: usize) -> impl Strategy<Value = History> {
    prop::collection::vec(
        (
            0..3u8,
            0..10u8,
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            0..40u64,
            0..25u64,
            0..6u64,
        ),
        1..max,
    )
    .prop_map(|drawn| {
        let written: Vec<String> = drawn
            .iter()
            .enumerate()
            .filter(|(_, d)| d.0 != 0)
            .map(|(i, _)| format!("v{i}"))
            .collect();
        // The initial value twice as likely as any one written value, and
        // a value nobody writes rarely.
        let pick = |index: &prop::sample::Index| {
            let i = index.index(written.len() + 3);
            match i {
                0 | 1 => String::new(),
                i if i == written.len() + 2 => "never".to_string(),
                i => written[i - 2].clone(),
            }
        };
        let operations = drawn
            .iter()
            .enumerate()
            .map(|(i, (f, outcome, read, expect, invoke, length, process))| {
                let f = [Function::Read, Function::Write, Function::Cas][*f as usize];
                let outcome = match outcome {
                    0..=5 => Outcome::Ok,
                    6..=8 => Outcome::Info,
                    _ => Outcome::Fail,
                };
                Operation {
                    process: *process,
                    f,
                    key: "k".into(),
                    value: Some(match f {
                        Function::Read => pick(read),
                        _ => format!("v{i}"),
                    }),
                    expected: (f == Function::Cas).then(|| pick(expect)),
                    outcome,
                    invoke_ns: *invoke,
                    complete_ns: (outcome != Outcome::Info).then_some(invoke + length),
                    gave_up_ns: None,
                }
            })
            .collect();
        History { operations }
    })
}

/// A sequential execution (so, mostly linearizable), its operations
/// stretched around their points by random amounts, and then one change:
/// none, a read's value, an outcome, or an operation moved in time.
fn near_sequential() -> impl Strategy<Value = History> {
    (
        prop::collection::vec((0..3u8, 0..30u64, 0..30u64, 0..4u8), 1..12),
        0..5u8,
        any::<prop::sample::Index>(),
        0..200u64,
    )
        .prop_map(|(steps, change, which, shift)| {
            let mut state = String::new();
            let mut operations = Vec::new();
            for (i, &(kind, before, after, outcome)) in steps.iter().enumerate() {
                let at = 100 + 50 * i as u64;
                let (f, value, expected) = match kind {
                    0 => (Function::Read, state.clone(), None),
                    1 => {
                        state = format!("w{i}");
                        (Function::Write, state.clone(), None)
                    }
                    _ => {
                        let was = std::mem::replace(&mut state, format!("c{i}"));
                        (Function::Cas, state.clone(), Some(was))
                    }
                };
                // An unknown write or cas still took effect here.
                let outcome = if outcome == 0 && f != Function::Read {
                    Outcome::Info
                } else {
                    Outcome::Ok
                };
                operations.push(Operation {
                    process: i as u64,
                    f,
                    key: "k".into(),
                    value: Some(value),
                    expected,
                    outcome,
                    invoke_ns: at - before,
                    complete_ns: (outcome == Outcome::Ok).then_some(at + after),
                    gave_up_ns: None,
                });
            }
            let n = operations.len();
            let target = which.index(n);
            let op = &mut operations[target];
            match change {
                0 => {}
                1 if op.f == Function::Read => {
                    op.value = Some(format!("w{}", which.index(n + 1)));
                }
                2 => op.outcome = Outcome::Info,
                3 => {
                    op.invoke_ns += shift;
                    op.complete_ns = op.complete_ns.map(|c| c + shift);
                }
                _ => {
                    op.invoke_ns = op.invoke_ns.saturating_sub(shift);
                    op.complete_ns = op.complete_ns.map(|c| c.saturating_sub(shift));
                }
            }
            if op.outcome == Outcome::Info {
                op.complete_ns = None;
            }
            History { operations }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60_000, ..ProptestConfig::default() })]

    #[test]
    fn random_histories_get_the_searchs_verdict(history in random_history(10)) {
        cross_checked(&history)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40_000, ..ProptestConfig::default() })]

    #[test]
    fn near_sequential_histories_get_the_searchs_verdict(history in near_sequential()) {
        cross_checked(&history)?;
    }
}

fn verdict(operations: Vec<Operation>) -> KeyVerdict {
    let history = History { operations };
    cross_checked(&history).expect("agrees with the search")
}

fn violation(operations: Vec<Operation>) -> (ViolationKind, Vec<usize>) {
    match verdict(operations) {
        KeyVerdict::Violation(v) => (v.kind, v.window),
        other => panic!("expected a violation, got {other:?}"),
    }
}

#[test]
fn two_forward_zones_that_overlap_fail_and_two_that_touch_pass() {
    // w1's reads run to 30, w2 is read from 20: both need [20, 30].
    let overlap = vec![
        write(0, "1", (0, 10)),
        read(1, "1", (30, 31)),
        write(2, "2", (12, 20)),
        read(3, "2", (40, 41)),
    ];
    assert_eq!(violation(overlap).0, ViolationKind::ForwardZonesOverlap);
    // Zone 1 is [10, 30], zone 2 [30, 50]: they share only 30, a tie.
    let touching = vec![
        write(0, "1", (0, 10)),
        read(1, "1", (30, 31)),
        write(2, "2", (25, 30)),
        read(3, "2", (50, 51)),
    ];
    assert_eq!(verdict(touching), KeyVerdict::Linearizable);
}

#[test]
fn a_read_of_the_initial_value_late_in_the_history_fails_once_a_write_completed_before_it() {
    let late = vec![write(0, "1", (0, 10)), read(2, "", (100, 101))];
    assert_eq!(violation(late).0, ViolationKind::BackwardZoneInsideForward);
    // With a read of 1 the zones overlap; the window shrinks to what shows
    // it: the read of 1 is not needed, the write and the late read are.
    let late_read = vec![
        write(0, "1", (0, 10)),
        read(1, "1", (12, 14)),
        read(2, "", (100, 101)),
    ];
    let (kind, window) = violation(late_read);
    assert_eq!(kind, ViolationKind::ForwardZonesOverlap);
    assert_eq!(window, vec![0, 2]);
    // Still concurrent with the only write: the initial value is fine.
    let concurrent = vec![write(0, "1", (0, 200)), read(2, "", (100, 101))];
    assert_eq!(verdict(concurrent), KeyVerdict::Linearizable);
}

#[test]
fn an_unknown_write_whose_value_is_read_took_effect_and_one_never_read_may_not_have() {
    let info = |v: &str, invoke: u64| {
        op(
            0,
            Function::Write,
            Some(v),
            None,
            Outcome::Info,
            (invoke, 0),
        )
    };
    // The unknown write of 2 was read, so it took effect after 50: a read
    // of 1 after that read cannot be explained.
    let read_back = vec![
        write(1, "1", (0, 10)),
        info("2", 50),
        read(2, "2", (60, 61)),
        read(3, "1", (70, 71)),
    ];
    assert_eq!(
        violation(read_back).0,
        ViolationKind::BackwardZoneInsideForward
    );
    // Read back only before its call: it cannot have been read then.
    let read_before = vec![
        write(1, "1", (0, 10)),
        info("2", 50),
        read(2, "2", (20, 30)),
    ];
    assert_eq!(violation(read_before).0, ViolationKind::ChainInfeasible);
    // Never read: it may never have taken effect, and the later read of 1 is fine.
    let never_read = vec![
        write(1, "1", (0, 10)),
        info("2", 50),
        read(3, "1", (70, 71)),
    ];
    assert_eq!(verdict(never_read), KeyVerdict::Linearizable);
}

#[test]
fn compare_and_set_chains_are_judged_with_their_reads() {
    let cas = |p: u64, from: &str, to: &str, at: (u64, u64)| {
        op(p, Function::Cas, Some(to), Some(from), Outcome::Ok, at)
    };
    // 1 -> 2 -> 3 by cas, each read in turn: linearizable.
    let chain = vec![
        write(0, "1", (0, 10)),
        read(1, "1", (11, 12)),
        cas(2, "1", "2", (13, 14)),
        read(3, "2", (15, 16)),
        cas(4, "2", "3", (17, 18)),
        read(5, "3", (19, 20)),
    ];
    assert_eq!(verdict(chain), KeyVerdict::Linearizable);
    // A read of 1 after the cas from 1 completed.
    let stale = vec![
        write(0, "1", (0, 10)),
        cas(2, "1", "2", (13, 14)),
        read(3, "1", (15, 16)),
    ];
    assert_eq!(violation(stale).0, ViolationKind::ChainInfeasible);
    // Two cas from the same value both succeeded.
    let twice = vec![
        write(0, "1", (0, 10)),
        cas(1, "1", "2", (13, 14)),
        cas(2, "1", "3", (13, 14)),
    ];
    assert_eq!(violation(twice).0, ViolationKind::TwoCasFromOneValue);
    // A cycle of cas with no write before it.
    let cycle = vec![cas(1, "1", "2", (13, 14)), cas(2, "2", "1", (13, 14))];
    assert_eq!(violation(cycle).0, ViolationKind::CasCycle);
}

#[test]
fn repeated_values_and_appends_are_left_to_the_search() {
    let twice = vec![write(0, "1", (0, 10)), write(1, "1", (20, 30))];
    let ops: Vec<&Operation> = twice.iter().collect();
    assert_eq!(
        distinct_values::check_key(&ops, ""),
        KeyVerdict::NotApplicable("a value written twice")
    );
    let initial = [write(0, "", (0, 10))];
    let ops: Vec<&Operation> = initial.iter().collect();
    assert!(matches!(
        distinct_values::check_key(&ops, ""),
        KeyVerdict::NotApplicable(_)
    ));
    let report = linearizability::check(
        &History { operations: twice },
        &KvModel::default(),
        &Budget::default(),
    );
    assert_eq!(report.verdict, Verdict::Pass);
    assert_eq!(report.decided_by.distinct_values, 0);
    assert_eq!(report.decided_by.search, 1);
}
