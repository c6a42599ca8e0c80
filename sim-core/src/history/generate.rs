//! Seeded single-register histories of any size, for benchmarks of the
//! register checkers: linearizable by construction, or with one stale read
//! planted near the end.
//!
//! Operation `k` takes effect at `100·k` ns. Processes take turns (`k mod
//! P`), and each operation's call and return lie up to `50·P - 1` ns either
//! side of its point, so a process's operations never overlap while up to
//! `P` of different processes do. Half the operations write a fresh value
//! (`v{k}`), half read the value current at their point.

use super::{Function, History, Operation, Outcome};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The most operations a generated history holds (`HISTORY_OPS_MAX`).
pub const OPERATIONS_MAX: usize = super::HISTORY_OPS_MAX;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct RegisterShape {
    pub operations: usize,
    pub processes: usize,
    /// Turn one read near the end (at 99% of the operations) into a read
    /// of a value overwritten long before it began.
    pub violation: bool,
}

/// The history, and the index of the planted stale read if there is one.
pub fn register(shape: &RegisterShape, seed: u64) -> (History, Option<usize>) {
    assert!(
        (1..=OPERATIONS_MAX).contains(&shape.operations),
        "operations within bounds"
    );
    assert!(
        (1..=100_000).contains(&shape.processes),
        "processes within bounds"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let processes = shape.processes as u64;
    // Half the gap between one process's operations, less one: windows of
    // different processes overlap, one process's never do.
    let reach = 50 * processes - 1;
    let mut current = String::new();
    let mut operations = Vec::with_capacity(shape.operations);
    for k in 0..shape.operations as u64 {
        let point = 100 * (k + processes);
        let invoke_ns = point - rng.random_range(0..=reach);
        let complete_ns = point + rng.random_range(0..=reach);
        let (f, value) = if rng.random_bool(0.5) {
            current = format!("v{k}");
            (Function::Write, current.clone())
        } else {
            (Function::Read, current.clone())
        };
        operations.push(Operation {
            process: k % processes,
            f,
            key: "k".to_string(),
            value: Some(value),
            expected: None,
            outcome: Outcome::Ok,
            invoke_ns,
            complete_ns: Some(complete_ns),
            gave_up_ns: None,
        });
    }
    let planted = if shape.violation {
        plant_stale_read(&mut operations, processes as usize)
    } else {
        None
    };
    debug_assert!(operations
        .iter()
        .all(|op| op.complete_ns.is_some_and(|c| c >= op.invoke_ns)));
    (History { operations }, planted)
}

/// Makes the first read from 99% of the way on return a value that an
/// operation completed before the read began had already replaced: a
/// write at least `2·P` operations back completes before any call of the
/// read's (each reaches `50·P - 1` ns from points `100·P` apart).
fn plant_stale_read(operations: &mut [Operation], processes: usize) -> Option<usize> {
    let from = operations.len() * 99 / 100;
    let read = (from..operations.len()).find(|&i| operations[i].f == Function::Read)?;
    let completed_before = read.checked_sub(2 * processes)?;
    // The newest write that certainly completed before the read began, and
    // a write that certainly completed before that one began: its value
    // is stale.
    let newer = (0..=completed_before)
        .rev()
        .find(|&i| operations[i].f == Function::Write)?;
    let stale = (0..=newer.checked_sub(2 * processes)?)
        .rev()
        .find(|&i| operations[i].f == Function::Write)?;
    operations[read].value = operations[stale].value.clone();
    Some(read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::linearizability::{self, Algorithms};
    use crate::checker::model::KvModel;
    use crate::checker::{Budget, Verdict};

    /// The reports of both algorithms: the distinct-values check, then the search.
    fn by_both(history: &History) -> Vec<linearizability::Report> {
        [Algorithms::Auto, Algorithms::SearchOnly]
            .into_iter()
            .map(|algorithms| {
                linearizability::check_with(
                    history,
                    &KvModel::default(),
                    &Budget::default(),
                    algorithms,
                )
            })
            .collect()
    }

    #[test]
    fn generated_histories_pass_and_the_planted_read_fails_under_both_algorithms() {
        for processes in [1, 5, 20] {
            let shape = RegisterShape {
                operations: 400,
                processes,
                violation: false,
            };
            let (history, planted) = register(&shape, 7);
            assert_eq!(planted, None);
            assert_eq!(history.len(), 400);
            for report in by_both(&history) {
                assert_eq!(report.verdict, Verdict::Pass, "{processes}");
            }
            let (bad, planted) = register(
                &RegisterShape {
                    violation: true,
                    ..shape
                },
                7,
            );
            let planted = planted.expect("a read to plant");
            assert!(planted >= 396, "near the end");
            for report in by_both(&bad) {
                assert_eq!(report.verdict, Verdict::Fail, "{processes}");
                let cx = report.counterexample.unwrap();
                assert!(cx.sub_history.contains(&planted));
            }
        }
    }
}
