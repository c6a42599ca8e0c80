//! The lock through the whole pipeline: exact messages per critical
//! section for each design, every bug switch caught within a stated
//! number of seeds while the correct variant passes the same seeds, and
//! the safety properties under random fault schedules and configurations:
//! a single node with fencing under every fault kind, Redlock under
//! crashes.

mod common;
use common::{count, run, with};
use proptest::prelude::*;
use scenarios::duration::Dur;
use scenarios::strategies::{crash_schedule, fault_schedule};
use scenarios::Scenario;

fn lock(nodes: u32, duration: &str, protocol: &str, faults: &str) -> Scenario {
    lock_on(nodes, duration, 3, protocol, faults)
}

/// As `lock`, on a network whose latency is uniform in 1..=`latency_ms` ms.
fn lock_on(nodes: u32, duration: &str, latency_ms: u64, protocol: &str, faults: &str) -> Scenario {
    let text = format!(
        r#"Scenario(
            name: "lock-test",
            duration: "{duration}",
            nodes: Count({nodes}),
            network: (default: (latency: Uniform(min: "1ms", max: "{latency_ms}ms"))),
            protocol: {protocol},
            faults: (schedule: [{faults}]),
            checks: ["invariants"],
        )"#
    );
    scenarios::load_str(&text, "lock-test.ron").unwrap()
}

/// One client, no faults: every critical section sends the acquisition's
/// requests and answers (2 for one server, 2n for Redlock's n instances,
/// asked in turn), a read and a write with their answers (4), and the
/// release (1, or n). The run ends inside one more section at most.
#[test]
fn messages_per_critical_section_are_exact_for_each_design() {
    for (protocol, servers, acquire, release) in [
        ("Lock(design: SingleNode)", 1, 2, 1),
        ("Lock(design: Redlock, instances: 3)", 3, 6, 3),
        ("Lock(design: Redlock, instances: 5)", 5, 10, 5),
        ("Lock(design: Redlock, instances: 9)", 9, 18, 9),
    ] {
        let per_section = acquire + 4 + release;
        let scenario = lock(servers + 2, "2s", protocol, "");
        for seed in 0..5 {
            let outcome = run(&scenario, seed);
            assert!(outcome.passed(), "{protocol}: {:?}", outcome.failed());
            let sections = count(&outcome, "releases");
            assert!(
                sections >= 10,
                "{protocol} seed {seed}: {sections} sections"
            );
            let acquisitions = count(&outcome, "acquisitions");
            assert!(
                acquisitions == sections || acquisitions == sections + 1,
                "{protocol}: {acquisitions} acquisitions, {sections} sections"
            );
            let sent = outcome.metrics.messages_sent;
            assert!(
                sent >= per_section * sections && sent < per_section * (sections + 1),
                "{protocol} seed {seed}: {sent} messages for {sections} sections of {per_section}"
            );
        }
    }
}

/// A late or repeated release from a client whose try failed deletes the
/// lock another client holds, and a third gathers a majority beside it.
#[test]
fn releasing_without_the_owner_check_is_caught_within_5_seeds() {
    let correct = lock(9, "4s", "Lock(design: Redlock, instances: 5)", "");
    let buggy = with(&correct, "protocol.Lock.release_without_owner_check=true");
    let caught = (0..5).find(|seed| run(&buggy, *seed).failed() == ["mutual-exclusion"]);
    assert!(caught.is_some(), "the bug went unnoticed in 5 seeds");
    for seed in 0..5 {
        let outcome = run(&correct, seed);
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.failed());
    }
}

/// A client that waits on three unreachable instances of seven spends
/// three request timeouts gathering its majority. Counted against the TTL,
/// that leaves too little validity for its work and it does not enter;
/// ignored, it enters and writes after its grants expired, into the
/// critical section of a client that took the lock meanwhile.
#[test]
fn ignoring_the_acquisition_time_is_caught_within_20_seeds() {
    let correct = lock(
        10,
        "10s",
        r#"Lock(design: Redlock, instances: 7, ttl: "600ms", request_timeout: "50ms", work_min: "450ms", work_max: "490ms")"#,
        r#"(at: "0s", fault: Clog("n9", "n5")), (at: "0s", fault: Clog("n9", "n6")), (at: "0s", fault: Clog("n9", "n7"))"#,
    );
    let buggy = with(&correct, "protocol.Lock.redlock_ignore_elapsed=true");
    let caught = (0..20).find(|seed| run(&buggy, *seed).failed() == ["mutual-exclusion"]);
    assert!(caught.is_some(), "the bug went unnoticed in 20 seeds");
    for seed in 0..20 {
        let outcome = run(&correct, seed);
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.failed());
        assert!(
            count(&outcome, "too_little_validity") > 0,
            "seed {seed}: the slow client never judged its validity short"
        );
    }
}

/// The counter deleted with the key restarts at 1: caught on every seed,
/// at the second grant.
#[test]
fn a_token_that_does_not_increase_is_caught_on_every_seed() {
    let correct = lock(4, "1s", "Lock(design: SingleNode, fencing: true)", "");
    let buggy = with(&correct, "protocol.Lock.token_not_monotonic=true");
    for seed in 0..5 {
        assert_eq!(
            run(&buggy, seed).failed(),
            ["fencing-tokens-increase"],
            "seed {seed}"
        );
        let outcome = run(&correct, seed);
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.failed());
    }
}

fn names(nodes: u32) -> Vec<String> {
    (1..=nodes).map(|i| format!("n{i}")).collect()
}

/// A drawn configuration of a lock's timing: TTL, work, think and
/// request timeout, in milliseconds.
fn timing() -> impl Strategy<Value = String> {
    (50u64..2_000, 1u64..200, 0u64..100, 5u64..100).prop_map(|(ttl, work, think, timeout)| {
        format!(
            r#"ttl: "{ttl}ms", work_min: "{w0}ms", work_max: "{work}ms", think_min: "0ms", think_max: "{think}ms", request_timeout: "{timeout}ms""#,
            w0 = work / 2
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// One lock server with fencing keeps the resource safe whatever
    /// happens: crashes and power losses of any node, pauses (the zombie),
    /// clock jumps of the server, partitions, clogged links, loss and slow
    /// disks. Its tokens increase across restarts (the counter is synced
    /// before a grant is answered), and the resource refuses any older one.
    #[test]
    fn a_single_node_with_fencing_is_safe_under_any_faults(
        (nodes, schedule) in (3u32..8).prop_flat_map(|n| (Just(n), fault_schedule(names(n), Dur::secs(3)))),
        timing in timing(),
        latency_ms in 1u64..30,
        seed in any::<u64>(),
    ) {
        let protocol = format!("Lock(design: SingleNode, fencing: true, {timing})");
        let mut scenario = lock_on(nodes, "4s", latency_ms, &protocol, "");
        scenario.faults.schedule = schedule;
        scenarios::validate::validate(&scenario).map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
        let outcome = run(&scenario, seed);
        prop_assert!(outcome.passed(), "failed {:?}; checks {:?}", outcome.failed(), outcome.checks);
    }

    /// Redlock without fencing is safe when servers and clients only
    /// crash and restart (its servers sync before they grant): what
    /// breaks it is timing, which crashes leave alone. The lock's own
    /// history is a mutex's too (a crashed holder's grant is released
    /// by expiry, some time after the crash).
    #[test]
    fn redlock_is_safe_under_crashes(
        (instances, nodes, schedule) in (prop::sample::select(vec![3u32, 5, 7]), 1u32..5)
            .prop_flat_map(|(i, c)| (Just(i), Just(i + 1 + c), crash_schedule(names(i + 1 + c), Dur::secs(3)))),
        timing in timing(),
        seed in any::<u64>(),
    ) {
        let protocol = format!("Lock(design: Redlock, instances: {instances}, {timing})");
        let mut scenario = lock(nodes, "4s", &protocol, "");
        scenario.faults.schedule = schedule;
        scenario.checks.push("mutex".into());
        scenarios::validate::validate(&scenario).map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
        let outcome = run(&scenario, seed);
        prop_assert!(outcome.passed(), "failed {:?}; checks {:?}", outcome.failed(), outcome.checks);
    }
}

/// Each of the four lock scenarios meets its expectation (per group) over
/// 500 seeds.
#[test]
#[ignore = "heavy tier: cargo test --workspace --profile ci --tests -- --ignored"]
fn the_four_scenarios_meet_their_expectations_over_500_seeds() {
    for file in [
        "lock-gc-pause.ron",
        "redlock-clock-jump.ron",
        "lock-failover.ron",
        "lock-ttl-tradeoff.ron",
    ] {
        common::meets_expectations_over(file, 500);
    }
}
