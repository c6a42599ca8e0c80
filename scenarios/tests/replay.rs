//! Replays: a window of a run, run again with its events recorded, holds
//! exactly the events the whole run recorded in that window (the engine is
//! deterministic, and recording does not change what it decides).

mod common;
use common::{load, with};
use scenarios::replay::replay;
use sim_core::SimTime;

fn ms(ms: u64) -> SimTime {
    SimTime::from_nanos(ms * 1_000_000)
}

#[test]
fn a_replayed_window_holds_the_events_the_whole_run_recorded_there() {
    let scenario = with(&load("raft-leader-crash.ron"), "outputs.trace=true");
    let resolved = scenarios::resolve(&scenario, 3);
    let whole = scenarios::run(&resolved).unwrap();
    assert!(whole.trace.len() > 10_000, "{} events", whole.trace.len());
    // Across the leader's crash at 2 s.
    let (from, to) = (ms(1_900), ms(2_400));
    let window = replay(&resolved, from, to, resolved.limits.memory.0).unwrap();
    let expected: Vec<_> = whole
        .trace
        .iter()
        .filter(|r| r.time >= from && r.time <= to)
        .cloned()
        .collect();
    assert!(expected.len() > 1_000, "{} events", expected.len());
    assert_eq!(window.records, expected);
    assert!(!window.truncated && window.panicked.is_none() && window.cut.is_none());
    // It stopped at the window's end rather than running on.
    assert!(window.end <= to, "{:?}", window.end);
    // Replays of the same window are the same.
    assert_eq!(
        replay(&resolved, from, to, resolved.limits.memory.0)
            .unwrap()
            .records,
        window.records
    );
}

#[test]
fn a_replay_of_a_panicking_run_keeps_what_led_to_the_panic() {
    let scenario = load("pingpong-panic.ron");
    // The first seed whose run panics.
    let seed = (0..40)
        .find(|&seed| {
            let resolved = scenarios::resolve(&scenario, seed);
            std::panic::catch_unwind(|| scenarios::run(&resolved)).is_err()
        })
        .expect("a seed of pingpong-panic panics");
    let resolved = scenarios::resolve(&scenario, seed);
    let window = replay(&resolved, ms(0), ms(200), resolved.limits.memory.0).unwrap();
    let message = window
        .panicked
        .expect("the replay panics where the run did");
    assert!(message.contains("panic"), "{message}");
    assert!(!window.records.is_empty());
}

#[test]
fn a_replay_stays_within_what_the_run_left_of_its_budget_and_says_where_it_stopped() {
    let scenario = with(&load("raft-leader-crash.ron"), "workload.clients=200");
    let resolved = scenarios::resolve(&scenario, 3);
    let whole = scenarios::run(&resolved).unwrap();
    let budget = resolved.limits.memory.0;
    // The run took part of its budget; the replay gets the rest.
    let left = scenarios::replay::replay_memory_bytes(
        budget,
        whole.memory_peak_bytes,
        whole.history.heap_bytes(),
    );
    assert_eq!(left, budget - whole.memory_peak_bytes);
    let (from, to) = (ms(0), ms(3_000));
    let full = replay(&resolved, from, to, left).unwrap();
    assert!(full.cut.is_none(), "{:?}", full.cut);
    // With a twentieth of the run's peak, the replay stops early, keeps
    // what it recorded, and says why.
    let cut = replay(&resolved, from, to, whole.memory_peak_bytes / 20).unwrap();
    let why = cut.cut.expect("a replay past its memory is cut");
    assert!(why.contains("memory"), "{why}");
    assert!(cut.end < to, "{:?}", cut.end);
    assert!(!cut.records.is_empty());
    assert!(cut.records.len() < full.records.len());
    assert_eq!(cut.records[..], full.records[..cut.records.len()]);
}
