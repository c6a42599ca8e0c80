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
                    gave_up_ns: None,
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

/// A history made from a sequential execution: operation i takes effect at
/// time 100·i, and its call and return lie anywhere within 60 of that
/// point, so windows of neighbours overlap. Linearizable by construction.
fn from_sequential_execution(steps: &[(u8, u8, u64, u64)]) -> History {
    let mut state: std::collections::BTreeMap<String, String> = Default::default();
    let mut operations = Vec::new();
    for (i, &(kind, key, before, after)) in steps.iter().enumerate() {
        let at = 1_000 + 100 * i as u64;
        let key = format!("k{key}");
        let current = state.get(&key).cloned().unwrap_or_default();
        let (f, value, expected) = match kind % 3 {
            0 => (Function::Read, current, None),
            1 => {
                let value = format!("v{i}");
                state.insert(key.clone(), value.clone());
                (Function::Write, value, None)
            }
            _ => {
                let value = format!("v{i}");
                state.insert(key.clone(), value.clone());
                (Function::Cas, value, Some(current))
            }
        };
        operations.push(Operation {
            process: i as u64,
            f,
            key,
            value: Some(value),
            expected,
            outcome: Outcome::Ok,
            invoke_ns: at - before,
            complete_ns: Some(at + after),
            gave_up_ns: None,
        });
    }
    History { operations }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn generated_histories_pass_and_one_stale_read_fails_naming_it(
        steps in prop::collection::vec((0..3u8, 0..3u8, 0..60u64, 0..60u64), 2..60),
    ) {
        let mut history = from_sequential_execution(&steps);
        prop_assert_eq!(verdict_of(&history), Verdict::Pass);
        // A read after everything has finished, returning an overwritten value.
        let last_write = history.operations.iter().rposition(|op| op.f != Function::Read);
        let Some(last) = last_write else { return Ok(()) };
        let key = history.operations[last].key.clone();
        // A value certainly overwritten: its write completed before the last
        // write began (writes whose windows overlap may take effect in either order).
        let last_invoke = history.operations[last].invoke_ns;
        let Some(stale) = history.operations[..last]
            .iter()
            .rev()
            .find(|op| op.key == key && op.f != Function::Read && op.complete_ns.is_some_and(|c| c < last_invoke))
            .and_then(|op| op.value.clone())
        else {
            return Ok(());
        };
        let end = history.operations.iter().filter_map(|op| op.complete_ns).max().unwrap();
        history.operations.push(Operation {
            process: 999,
            f: Function::Read,
            key,
            value: Some(stale),
            expected: None,
            outcome: Outcome::Ok,
            invoke_ns: end + 10,
            complete_ns: Some(end + 20),
            gave_up_ns: None,
        });
        let injected = history.operations.len() - 1;
        let report = linearizability::check(&history, &KvModel::default(), &Budget::default());
        prop_assert_eq!(report.verdict, Verdict::Fail);
        prop_assert_eq!(report.counterexample.unwrap().culprit, Some(injected));
    }
}
