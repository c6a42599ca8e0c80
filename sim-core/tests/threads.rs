//! The same history gets the same verdict at any thread count.
//!
//! Postmortem (regression): the linearizability memo's byte bound was
//! divided by `rayon::current_num_threads()`, so each key's search got a
//! smaller memo on a machine with more cores. Near the bound, a 2-core
//! machine answered "unknown" where a 16-core one answered "linearizable"
//! (or the other way round). Now a search's share depends only on how many
//! searches run together, which the history decides.

use sim_core::checker::linearizability::{self, Report};
use sim_core::checker::model::KvModel;
use sim_core::checker::{Budget, Verdict};
use sim_core::testkit::histories::{concurrent_kv, KvShape};

/// A history of the shape of Porcupine's c50 test: 50 clients over a few
/// keys, windows overlapping widely; linearizable by construction.
fn history() -> sim_core::history::History {
    concurrent_kv(
        50,
        KvShape {
            processes: 50,
            operations: 1_700,
            keys: 8,
            overlap_steps_max: 12,
        },
    )
}

fn check_at(threads: usize, memo_bytes_max: usize, history: &sim_core::history::History) -> Report {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let budget = Budget {
        memo_bytes_max,
        ..Budget::default()
    };
    // The search's memo is what this pins: the distinct-values check,
    // which would decide this history, needs none.
    pool.install(|| {
        linearizability::check_with(
            history,
            &KvModel::default(),
            &budget,
            linearizability::Algorithms::SearchOnly,
        )
    })
}

#[test]
fn memo_bounds_give_the_same_verdict_at_one_and_four_threads() {
    let history = history();
    let mut verdicts = Vec::new();
    for memo_bytes_max in [
        1 << 10,
        1 << 14,
        1 << 16,
        1 << 18,
        1 << 20,
        1 << 22,
        1 << 24,
        1 << 26,
        1 << 28,
    ] {
        let one = check_at(1, memo_bytes_max, &history);
        let four = check_at(4, memo_bytes_max, &history);
        assert_eq!(
            (one.verdict, one.steps, &one.unknown_reason),
            (four.verdict, four.steps, &four.unknown_reason),
            "memo bound {memo_bytes_max}"
        );
        verdicts.push(one.verdict);
    }
    // The bounds cross the point where the verdict changes, so a bound
    // divided by the thread count would show here.
    assert!(verdicts.contains(&Verdict::Pass), "{verdicts:?}");
    assert!(verdicts.contains(&Verdict::Unknown), "{verdicts:?}");
    // Its writes are distinct: the distinct-values check decides it under
    // the smallest bound, with no search.
    let budget = Budget {
        memo_bytes_max: 1 << 10,
        ..Budget::default()
    };
    let report = linearizability::check(&history, &KvModel::default(), &budget);
    assert_eq!(report.verdict, Verdict::Pass);
    assert_eq!(report.steps, 0);
    assert_eq!(report.decided_by.search, 0);
}
