//! Bully election through the whole pipeline: exact message counts against
//! theory, fail-over and take-over after a crash, safety under random
//! crash-recovery schedules, settling after any faults, and both bug
//! switches caught.

mod common;
use common::{count, load, run, with};
use proptest::prelude::*;
use scenarios::duration::Dur;
use scenarios::strategies::{crash_schedule, fault_schedule};
use scenarios::{RunOutcome, Scenario};

/// `n` fully connected servers without faults, running `protocol`.
fn cluster(n: u32, protocol: &str) -> Scenario {
    let text = format!(
        r#"Scenario(
            name: "bully-test",
            duration: "1s",
            nodes: Count({n}),
            network: (default: (latency: Uniform(min: "1ms", max: "3ms"))),
            protocol: {protocol},
        )"#
    );
    scenarios::load_str(&text, "bully-test.ron").unwrap()
}

/// (election, answer, coordinator) messages of a run.
fn messages(outcome: &RunOutcome) -> (u64, u64, u64) {
    (
        count(outcome, "election_messages"),
        count(outcome, "answer_messages"),
        count(outcome, "coordinator_messages"),
    )
}

/// Runs Bully on `n` servers with `first_election` and compares the
/// message counts with theory, over ids in every order.
fn check(n: u32, first_election: &str, expected: (u64, u64, u64)) {
    for (seed, ids) in [
        (0, "Increasing"),
        (1, "Decreasing"),
        (2, "Random"),
        (3, "Random"),
    ] {
        let protocol = format!("BullyElection(ids: {ids}, first_election: {first_election})");
        let outcome = run(&cluster(n, &protocol), seed);
        assert!(outcome.passed(), "{protocol} n={n}: {:?}", outcome.failed());
        assert_eq!(
            messages(&outcome),
            expected,
            "{protocol} n={n} seed {seed}: (election, answer, coordinator) messages"
        );
        assert_eq!(count(&outcome, "leaders_elected"), 1, "{protocol} n={n}");
    }
}

#[test]
fn message_counts_match_theory() {
    for n in [2u32, 5, 8, 16, 33] {
        let n = u64::from(n);
        let pairs = n * (n - 1) / 2;
        // The largest id stands alone: nobody to ask, n−1 coordinators.
        check(n as u32, "Highest", (0, 0, n - 1));
        // The smallest stands: it asks all n−1 larger ids, each of which
        // answers and stands in turn; every pair exchanges one election
        // and one answer. n²−1 in all.
        check(n as u32, "Lowest", (pairs, pairs, n - 1));
        // Everyone at once: the same pairs, the same count.
        check(n as u32, "All", (pairs, pairs, n - 1));
    }
}

/// The leader of six crashes at 1 s and never comes back: the largest
/// survivor leads within a failure timeout, a heartbeat and an answer
/// timeout, and sends one coordinator to each of the n−2 smaller servers.
#[test]
fn the_largest_survivor_takes_over_within_the_timeouts() {
    let mut scenario = load("bully-election.ron");
    scenario.faults.schedule.truncate(1);
    for seed in 0..20 {
        let outcome = run(&scenario, seed);
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.failed());
        assert_eq!(count(&outcome, "leaders_elected"), 2, "seed {seed}");
        // 5 at boot, then 4 from the stand-in.
        assert_eq!(
            count(&outcome, "coordinator_messages"),
            5 + 4,
            "seed {seed}"
        );
        let spells = &outcome.metrics.protocol["leaderless_ms"];
        assert_eq!(spells.count, 2, "seed {seed}: the boot and the crash");
        // failure_timeout 200 ms after the last heartbeat (sent up to 50 ms
        // before the crash), answer_timeout 50 ms, and latencies of 5 ms.
        let bound_ms = 200.0 + 50.0 + 50.0 + 3.0 * 5.0;
        assert!(
            spells.max <= bound_ms && spells.max >= 150.0,
            "seed {seed}: leaderless for {} ms",
            spells.max
        );
    }
}

/// ... and when it restarts it bullies its way back: one takeover, and the
/// restarted server leads at the end (max-id-leader).
#[test]
fn a_restarted_larger_id_takes_over() {
    let scenario = load("bully-election.ron");
    for seed in 0..20 {
        let outcome = run(&scenario, seed);
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.failed());
        assert_eq!(count(&outcome, "leaders_elected"), 3, "seed {seed}");
        assert_eq!(count(&outcome, "takeovers"), 1, "seed {seed}");
    }
}

#[test]
fn accepting_a_lower_leader_is_caught_on_every_seed() {
    let scenario = with(
        &load("bully-election.ron"),
        "protocol.BullyElection.accept_lower_leader=true",
    );
    for seed in 0..10 {
        let outcome = run(&scenario, seed);
        assert_eq!(
            outcome.failed(),
            vec!["max-id-leader".to_string()],
            "seed {seed}: the restarted largest id followed its stand-in unnoticed"
        );
    }
}

#[test]
fn declaring_without_an_election_is_caught_on_every_seed() {
    let scenario = with(
        &load("bully-election.ron"),
        "protocol.BullyElection.declare_without_election=true",
    );
    for seed in 0..10 {
        let outcome = run(&scenario, seed);
        assert!(
            outcome.failed().contains(&"no-lower-leader".to_string()),
            "seed {seed}: smaller ids declared beside larger ones unnoticed: {:?}",
            outcome.failed()
        );
    }
}

fn names() -> Vec<String> {
    (1..=6).map(|i| format!("n{i}")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Under any crash-recovery schedule in the first 2 s: no smaller id
    /// ever leads beside a larger live leader, and 2 s after the last
    /// fault everyone follows the largest live id.
    #[test]
    fn bully_is_safe_and_settles_under_crashes(
        schedule in crash_schedule(names(), Dur::secs(2)),
        first in prop::sample::select(vec!["All", "Lowest", "Highest"]),
        seed in any::<u64>(),
    ) {
        let mut scenario = cluster(6, &format!("BullyElection(ids: Random, first_election: {first})"));
        scenario.duration = Dur::secs(4);
        scenario.faults.schedule = schedule;
        scenarios::validate::validate(&scenario).map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
        let outcome = run(&scenario, seed);
        prop_assert!(outcome.passed(), "failed {:?}; checks {:?}", outcome.failed(), outcome.checks);
    }

    /// Partitions, pauses, loss and clock jumps break Bully's timing
    /// assumption, so two leaders may overlap; but once the faults are
    /// over (pauses end by 4 s), everyone follows the largest live id.
    #[test]
    fn bully_settles_after_any_faults(
        schedule in fault_schedule(names(), Dur::secs(2)),
        seed in any::<u64>(),
    ) {
        let mut scenario = cluster(6, "BullyElection(ids: Random)");
        scenario.duration = Dur::secs(6);
        scenario.checks = vec!["max-id-leader".to_string()];
        scenario.faults.schedule = schedule;
        scenarios::validate::validate(&scenario).map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
        let outcome = run(&scenario, seed);
        prop_assert!(outcome.passed(), "failed {:?}; checks {:?}", outcome.failed(), outcome.checks);
    }
}
