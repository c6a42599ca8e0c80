//! Sequential consistency: known small cases, agreement with a brute-force
//! oracle over interleavings, and "linearizable implies sequentially
//! consistent" on random histories.

use proptest::prelude::*;
use sim_core::checker::model::{KvModel, Model};
use sim_core::checker::{linearizability, sequential, Budget, Verdict};
use sim_core::history::{Function, History, Operation, Outcome};
use std::sync::Arc;

fn op(
    process: u64,
    f: Function,
    key: &str,
    value: &str,
    outcome: Outcome,
    invoke_ns: u64,
    complete_ns: u64,
) -> Operation {
    Operation {
        process,
        f,
        key: key.into(),
        value: Some(value.into()),
        expected: None,
        outcome,
        invoke_ns,
        complete_ns: (outcome != Outcome::Info).then_some(complete_ns),
        gave_up_ns: None,
    }
}

fn sc(history: &History) -> Verdict {
    sequential::check(history, &KvModel::default(), &Budget::default()).verdict
}

#[test]
fn a_stale_read_in_real_time_is_still_sequentially_consistent() {
    // p1 reads the old value after p0's write completed: not linearizable,
    // but ordering p1's read first is a legal sequential order.
    let history = History {
        operations: vec![
            op(0, Function::Write, "x", "1", Outcome::Ok, 0, 10),
            op(1, Function::Read, "x", "", Outcome::Ok, 20, 30),
        ],
    };
    assert_eq!(
        linearizability::check(&history, &KvModel::default(), &Budget::default()).verdict,
        Verdict::Fail
    );
    assert_eq!(sc(&history), Verdict::Pass);
}

#[test]
fn reading_backwards_within_a_process_is_not() {
    // p1 sees x=1, then x="" again: no order explains both.
    let history = History {
        operations: vec![
            op(0, Function::Write, "x", "1", Outcome::Ok, 0, 10),
            op(1, Function::Read, "x", "1", Outcome::Ok, 20, 30),
            op(1, Function::Read, "x", "", Outcome::Ok, 40, 50),
        ],
    };
    let report = sequential::check(&history, &KvModel::default(), &Budget::default());
    assert_eq!(report.verdict, Verdict::Fail);
    assert!(report.blocked.contains(&2), "{report:?}");
}

#[test]
fn two_keys_in_opposite_orders_are_not() {
    // The classic: p0 writes x then y; p1 sees y's write but then not x's.
    let history = History {
        operations: vec![
            op(0, Function::Write, "x", "1", Outcome::Ok, 0, 1),
            op(0, Function::Write, "y", "1", Outcome::Ok, 2, 3),
            op(1, Function::Read, "y", "1", Outcome::Ok, 0, 5),
            op(1, Function::Read, "x", "", Outcome::Ok, 6, 7),
        ],
    };
    assert_eq!(sc(&history), Verdict::Fail);
}

/// Every interleaving respecting each process's order, info operations optional.
fn brute_force(history: &History, model: &KvModel) -> bool {
    let mut queues: std::collections::BTreeMap<u64, Vec<&Operation>> = Default::default();
    for op in &history.operations {
        if op.outcome != Outcome::Fail && !(op.outcome == Outcome::Info && op.f == Function::Read) {
            queues.entry(op.process).or_default().push(op);
        }
    }
    let mut queues: Vec<Vec<&Operation>> = queues.into_values().collect();
    for q in &mut queues {
        q.sort_by_key(|op| op.invoke_ns);
    }
    fn go(
        queues: &[Vec<&Operation>],
        pos: &mut Vec<usize>,
        state: &std::collections::BTreeMap<String, Arc<str>>,
        model: &KvModel,
    ) -> bool {
        if pos.iter().zip(queues).all(|(p, q)| *p == q.len()) {
            return true;
        }
        for p in 0..queues.len() {
            if pos[p] == queues[p].len() {
                continue;
            }
            let op = queues[p][pos[p]];
            let current = state.get(&op.key).cloned().unwrap_or_else(|| model.init());
            let mut options = Vec::new();
            if let Some(next) = model.step(&current, op) {
                options.push(next);
            }
            if op.outcome == Outcome::Info {
                options.push(current.clone());
            }
            for next in options {
                let mut s = state.clone();
                s.insert(op.key.clone(), next);
                pos[p] += 1;
                if go(queues, pos, &s, model) {
                    return true;
                }
                pos[p] -= 1;
            }
        }
        false
    }
    go(
        &queues,
        &mut vec![0; queues.len()],
        &Default::default(),
        model,
    )
}

fn operation() -> impl Strategy<Value = Operation> {
    (
        0..3u8,
        0..3u64,
        0..2u8,
        prop::sample::select(vec!["", "1", "2"]),
        0..30u64,
        0..10u64,
        0..4u8,
    )
        .prop_map(|(f, process, key, value, invoke, length, outcome)| {
            let f = [Function::Read, Function::Write, Function::Append][f as usize];
            let outcome = if outcome == 0 {
                Outcome::Info
            } else {
                Outcome::Ok
            };
            op(
                process,
                f,
                if key == 0 { "x" } else { "y" },
                value,
                outcome,
                invoke,
                invoke + length,
            )
        })
}

/// Makes each process's operations sequential in time (one at a time), as
/// real clients are. After an unknown (info) outcome a Jepsen process is
/// retired and its thread goes on under a new process number; do the same.
fn sequential_per_process(mut ops: Vec<Operation>) -> History {
    ops.sort_by_key(|o| (o.process, o.invoke_ns));
    let mut last_end: std::collections::BTreeMap<u64, u64> = Default::default();
    let mut renamed: std::collections::BTreeMap<u64, u64> = Default::default();
    for op in &mut ops {
        let thread = op.process;
        op.process = *renamed.get(&thread).unwrap_or(&thread);
        let earliest = last_end.get(&thread).map_or(0, |e| e + 1);
        let length = op.complete_ns.map_or(0, |c| c - op.invoke_ns);
        op.invoke_ns = op.invoke_ns.max(earliest);
        match op.complete_ns {
            Some(_) => {
                op.complete_ns = Some(op.invoke_ns + length);
                last_end.insert(thread, op.invoke_ns + length);
            }
            None => {
                last_end.insert(thread, op.invoke_ns);
                renamed.insert(thread, op.process + 100);
            }
        }
    }
    History { operations: ops }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn the_search_agrees_with_brute_force(ops in prop::collection::vec(operation(), 1..9)) {
        let history = sequential_per_process(ops);
        let expected = if brute_force(&history, &KvModel::default()) { Verdict::Pass } else { Verdict::Fail };
        prop_assert_eq!(sc(&history), expected);
    }

    #[test]
    fn linearizable_histories_are_sequentially_consistent(ops in prop::collection::vec(operation(), 1..12)) {
        let history = sequential_per_process(ops);
        if linearizability::check(&history, &KvModel::default(), &Budget::default()).verdict == Verdict::Pass {
            prop_assert_eq!(sc(&history), Verdict::Pass);
        }
    }
}
