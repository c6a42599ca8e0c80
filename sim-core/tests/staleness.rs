//! The staleness measure on small histories with known lags.

use sim_core::checker::staleness::measure;
use sim_core::history::{Function, History, Operation, Outcome};

fn op(process: u64, f: Function, value: &str, invoke_ns: u64, complete_ns: u64) -> Operation {
    Operation {
        process,
        f,
        key: "x".into(),
        value: Some(value.into()),
        expected: None,
        outcome: Outcome::Ok,
        invoke_ns,
        complete_ns: Some(complete_ns),
    }
}

#[test]
fn a_read_two_versions_behind_is_measured() {
    let ms = 1_000_000;
    let history = History {
        operations: vec![
            op(0, Function::Write, "a", 0, ms),
            op(0, Function::Write, "b", 2 * ms, 3 * ms),
            op(0, Function::Write, "c", 4 * ms, 5 * ms),
            // Reads "a" at 10 ms: b and c had completed; b at 3 ms, so 7 ms behind.
            op(1, Function::Read, "a", 10 * ms, 11 * ms),
            op(1, Function::Read, "c", 12 * ms, 13 * ms),
            op(1, Function::Read, "", 14 * ms, 15 * ms),
        ],
    };
    let s = measure(&history, "");
    assert_eq!((s.reads, s.stale_reads, s.versions_behind_max), (3, 2, 3));
    assert_eq!(
        s.lag_ms_max, 13.0,
        "the initial value read at 14 ms lags the first write (1 ms)"
    );
    // Percentiles are nearest-rank, rounding half up: of [7, 13] the median is 13.
    assert_eq!(s.lag_ms_p50, 13.0);
    assert_eq!(s.versions_behind_mean, 5.0 / 3.0);
}

#[test]
fn fresh_reads_and_concurrent_writes_are_not_stale() {
    let history = History {
        operations: vec![
            op(0, Function::Write, "a", 0, 10),
            op(0, Function::Write, "b", 20, 100),
            // b is still in flight: reading a is not stale.
            op(1, Function::Read, "a", 30, 40),
        ],
    };
    let s = measure(&history, "");
    assert_eq!((s.reads, s.stale_reads), (1, 0));
}
