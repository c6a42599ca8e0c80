//! Shrinking from Rust: failing scenarios shrink to smaller ones that fail
//! the same check, the same way whatever the parallelism, within budget.

mod common;

use scenarios::shrink::{self, Options, Target};

fn load(path: &str, sets: &[&str]) -> scenarios::Scenario {
    let mut scenario = scenarios::load_file(std::path::Path::new(path)).expect("loads");
    for set in sets {
        scenario = common::with(&scenario, set);
    }
    scenario
}

#[test]
fn forgotten_vote_keeps_the_clog_the_crash_and_the_restart() {
    let scenario = load(
        "../scenarios/raft-forgotten-vote.ron",
        &["protocol.Raft.vote_without_persist=true"],
    );
    let seed = common::first_seed_failing(&scenario, 10, &["election-safety"]).expect("fails");
    let resolved = scenarios::resolve(&scenario, seed);
    let shrunk = shrink::shrink(&resolved, &Options::default(), &shrink::run_trial, &mut ())
        .expect("shrinks");
    for step in &shrunk.steps {
        eprintln!("{} [{}]: {}", step.pass, step.candidates, step.what);
    }
    eprintln!("{}", shrunk.to_file());
    assert_eq!(shrunk.target, Target::Check("election-safety".into()));
}
