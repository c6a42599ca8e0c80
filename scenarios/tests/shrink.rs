//! Shrinking from Rust, as CI uses it: a failing scenario shrinks to a
//! smaller one that fails the same check, the same whatever the
//! parallelism, within its candidate budget; a passing run or another
//! failure is refused; and a failing proptest case built with the scenario
//! strategies shrinks further than proptest alone takes it.

mod common;

use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use scenarios::duration::Dur;
use scenarios::schema::FaultSpec;
use scenarios::shrink::{self, Options, Refusal, ShrinkWatcher, Stopped, Target};

fn load(path: &str, sets: &[&str]) -> scenarios::Scenario {
    let mut scenario = scenarios::load_file(std::path::Path::new(path)).expect("loads");
    for set in sets {
        scenario = common::with(&scenario, set);
    }
    scenario
}

/// raft-forgotten-vote with its bug switch, resolved at its first failing seed.
fn forgotten_vote() -> scenarios::Scenario {
    let scenario = load(
        "../scenarios/raft-forgotten-vote.ron",
        &["protocol.Raft.vote_without_persist=true"],
    );
    let seed = common::first_seed_failing(&scenario, 10, &["election-safety"]).expect("fails");
    scenarios::resolve(&scenario, seed)
}

fn shrink_with(resolved: &scenarios::Scenario, options: &Options) -> shrink::Shrunk {
    shrink::shrink(resolved, options, &shrink::run_trial, &mut ()).expect("shrinks")
}

#[test]
fn forgotten_vote_keeps_the_clogs_the_crash_and_the_restart() {
    let resolved = forgotten_vote();
    let shrunk = shrink_with(&resolved, &Options::default());
    assert_eq!(shrunk.target, Target::Check("election-safety".into()));
    assert!(shrunk.trial.fails(&shrunk.target));
    assert_eq!(shrunk.stopped, None);
    let faults: Vec<&FaultSpec> = shrunk
        .scenario
        .faults
        .schedule
        .iter()
        .map(|e| &e.fault)
        .collect();
    let s = |n: &str| n.to_string();
    // n2 must not reach n1 (or n1 learns of term 1 from it) and must reach
    // n3 only after the restart: two clogs, the crash, the restart and the
    // release. The third clog and the final release-all are gone.
    assert_eq!(
        faults,
        [
            &FaultSpec::Clog(s("n1"), s("n2")),
            &FaultSpec::Clog(s("n2"), s("n3")),
            &FaultSpec::Crash(s("n3")),
            &FaultSpec::Restart(s("n3")),
            &FaultSpec::Release(s("n2"), s("n3")),
        ]
    );
    assert_eq!(shrunk.removed_faults.len(), 2);
    assert!(
        shrunk.after.events * 10 < shrunk.before.events,
        "{:?}",
        shrunk.after
    );
    // The file runs as the search ran it.
    let file = scenarios::load_str(&shrunk.to_file(), "shrunk.ron").expect("parses");
    let again = scenarios::run(&scenarios::resolve(&file, file.seed)).unwrap();
    assert_eq!(again.trace_hash, shrunk.trial.trace_hash);
    assert_eq!(again.failed(), shrunk.trial.failed);
}

#[test]
fn the_result_does_not_depend_on_jobs_and_every_step_is_smaller() {
    let scenario = load(
        "../scenarios/raft-swarm.ron",
        &["protocol.Raft.vote_without_log_check=true"],
    );
    let resolved = scenarios::resolve(&scenario, 1);
    let one = shrink_with(&resolved, &Options::default());
    let three = shrink_with(
        &resolved,
        &Options {
            jobs: 3,
            ..Options::default()
        },
    );
    assert_eq!(one.to_file(), three.to_file());
    assert_eq!(one.candidates, three.candidates);
    assert_eq!(one.steps.len(), three.steps.len());
    assert!(one.after.faults * 4 < one.before.faults, "{:?}", one.after);
    let mut faults = one.before.faults;
    for step in &one.steps {
        assert!(step.size.faults <= faults, "{step:?}");
        faults = step.size.faults;
    }
}

#[test]
fn a_candidate_budget_stops_the_search_with_the_best_so_far() {
    let resolved = forgotten_vote();
    let full = shrink_with(&resolved, &Options::default());
    let cut = shrink_with(
        &resolved,
        &Options {
            candidates_max: 10,
            ..Options::default()
        },
    );
    assert_eq!(cut.stopped, Some(Stopped::Candidates));
    assert_eq!(cut.candidates, 10);
    assert!(cut.trial.fails(&cut.target));
    assert!(cut.after.faults <= cut.before.faults);
    assert!(full.candidates > 10);
    // The budgeted search is the full one's beginning.
    for (a, b) in cut.steps.iter().zip(&full.steps) {
        assert_eq!(a.what, b.what);
    }

    /// Stops before the first batch.
    struct Now;
    impl ShrinkWatcher for Now {
        fn stop(&mut self) -> bool {
            true
        }
    }
    let stopped =
        shrink::shrink(&resolved, &Options::default(), &shrink::run_trial, &mut Now).unwrap();
    assert_eq!(stopped.stopped, Some(Stopped::Time));
    assert_eq!(stopped.candidates, 0);
    assert_eq!(stopped.scenario, resolved);
}

#[test]
fn a_passing_run_or_another_failure_is_refused() {
    let scenario = load("../scenarios/raft-forgotten-vote.ron", &[]);
    let passing = scenarios::resolve(&scenario, 0);
    match shrink::shrink(&passing, &Options::default(), &shrink::run_trial, &mut ()) {
        Err(refusal @ Refusal::DidNotFail(_)) => {
            assert!(refusal.to_string().contains("the run passed"), "{refusal}")
        }
        other => panic!("{other:?}"),
    }
    let options = Options {
        target: Some(Target::Check("log-matching".into())),
        ..Options::default()
    };
    match shrink::shrink(&forgotten_vote(), &options, &shrink::run_trial, &mut ()) {
        Err(refusal @ Refusal::OtherFailure { .. }) => {
            let text = refusal.to_string();
            assert!(text.contains("did not fail log-matching"), "{text}");
            assert!(text.contains("election-safety"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

const BASE: &str = r#"Scenario(
    name: "raft-ci",
    duration: "2s",
    nodes: Count(5),
    protocol: Raft(election_timeout: ("50ms", "100ms"), vote_without_log_check: true),
    workload: (clients: 3, mix: (read: 0.5, write: 0.5), keys: 2, attempt_timeout: "40ms", op_timeout: "300ms"),
)"#;

/// What a CI user writes: a property over random schedules (here of a
/// Raft with a bug switch on); proptest finds a failing case, and the
/// shrinker takes it further, with the network, clients and servers as
/// well as the faults.
#[test]
fn a_failing_proptest_case_shrinks() {
    let names: Vec<String> = (1..=5).map(|i| format!("n{i}")).collect();
    let base = scenarios::load_str(BASE, "raft-ci.ron").unwrap();
    let config = Config {
        cases: 64,
        // proptest's own shrinking is left out: ours follows.
        max_shrink_iters: 0,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let strategy = scenarios::strategies::fault_schedule(names.clone(), Dur::secs(1));
    let case = |schedule: &Vec<scenarios::schema::TimedFault>| {
        let mut scenario = base.clone();
        scenario.faults.schedule = schedule.clone();
        scenario
            .faults
            .schedule
            .extend(common::heal_everything(&names, Dur::secs(1)));
        scenarios::resolve(&scenario, 1)
    };
    let result = runner.run(&strategy, |schedule| {
        let outcome = scenarios::run(&case(&schedule)).unwrap();
        proptest::prop_assert!(outcome.passed(), "{:?}", outcome.failed());
        Ok(())
    });
    let Err(TestError::Fail(_, schedule)) = result else {
        panic!("no case of 64 caught the bug switch: {result:?}");
    };
    let resolved = case(&schedule);
    let shrunk = shrink_with(&resolved, &Options::default());
    assert!(shrunk.trial.fails(&shrunk.target));
    assert!(
        shrunk.after.faults < shrunk.before.faults,
        "{:?} -> {:?}",
        shrunk.before,
        shrunk.after
    );
    assert!(shrunk.after.events < shrunk.before.events);
}

/// Whatever random schedule makes the buggy Raft fail, a shrink under a
/// tiny budget gives a valid scenario that fails the same check and is no
/// bigger, and the same one again when run with more threads. Cases that
/// do not fail are counted, not passed: the test demands that enough of
/// them failed and shrank for it to have tested anything.
#[test]
fn any_failing_random_case_shrinks_to_a_valid_smaller_failure() {
    let names: Vec<String> = (1..=5).map(|i| format!("n{i}")).collect();
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let strategy = (
        scenarios::strategies::fault_schedule(names.clone(), Dur::secs(1)),
        0u64..1_000,
    );
    let shrunk_cases = std::cell::Cell::new(0u32);
    let result = runner.run(&strategy, |(schedule, seed)| {
        let mut scenario = scenarios::load_str(BASE, "raft-ci.ron").unwrap();
        scenario.duration = Dur::ms(1_500);
        scenario.faults.schedule = schedule;
        scenario
            .faults
            .schedule
            .extend(common::heal_everything(&names, Dur::secs(1)));
        let resolved = scenarios::resolve(&scenario, seed);
        let options = Options {
            candidates_max: 25,
            ..Options::default()
        };
        match shrink::shrink(&resolved, &options, &shrink::run_trial, &mut ()) {
            Err(Refusal::DidNotFail(_)) => {}
            Err(other) => proptest::prop_assert!(false, "{other:?}"),
            Ok(shrunk) => {
                proptest::prop_assert!(shrunk.trial.fails(&shrunk.target));
                proptest::prop_assert!(scenarios::validate::validate(&shrunk.scenario).is_ok());
                proptest::prop_assert!(
                    shrink::Complexity::of(&shrunk.scenario) <= shrink::Complexity::of(&resolved)
                );
                proptest::prop_assert!(shrunk.candidates <= 25);
                let parallel = shrink::shrink(
                    &resolved,
                    &Options { jobs: 4, ..options },
                    &shrink::run_trial,
                    &mut (),
                )
                .unwrap();
                proptest::prop_assert_eq!(parallel.to_file(), shrunk.to_file());
                shrunk_cases.set(shrunk_cases.get() + 1);
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(
        shrunk_cases.get() >= CASES_SHRUNK_MIN,
        "only {} of {CASES} random cases failed and shrank: the property tested too little",
        shrunk_cases.get()
    );
}

/// Random cases drawn, and how many of them must fail and shrink.
const CASES: u32 = 12;
const CASES_SHRUNK_MIN: u32 = 3;
