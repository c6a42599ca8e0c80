//! Helpers the protocol test files share: load a curated scenario, apply a
//! `--set` assignment, run one seed, read a protocol count.

// Each test file is its own crate and uses only some of these.
#![allow(dead_code)]

use scenarios::duration::Dur;
use scenarios::schema::{FaultSpec, TimedFault};
use scenarios::{RunOutcome, Scenario};

/// A curated scenario from `scenarios/`.
pub fn load(file: &str) -> Scenario {
    scenarios::load_file(std::path::Path::new(&format!("../scenarios/{file}"))).unwrap()
}

/// `scenario` with `path=value` applied, as `--set` does.
pub fn with(scenario: &Scenario, assignment: &str) -> Scenario {
    let (path, values) = scenarios::set::parse_assignment(assignment).unwrap();
    scenarios::set::apply(scenario, &path, values[0].clone()).unwrap()
}

/// Resolves `scenario` for `seed` and runs it.
pub fn run(scenario: &Scenario, seed: u64) -> RunOutcome {
    scenarios::run(&scenarios::resolve(scenario, seed)).unwrap()
}

/// The first seed in `0..limit` where `scenario` fails one of the checks
/// in `failing`, or `None`.
pub fn first_seed_failing(scenario: &Scenario, limit: u64, failing: &[&str]) -> Option<u64> {
    (0..limit).find(|seed| {
        let failed = run(scenario, *seed).failed();
        failing.iter().any(|name| failed.iter().any(|f| f == name))
    })
}

/// A protocol count from the run's metrics (0 if never counted).
pub fn count(outcome: &RunOutcome, name: &str) -> u64 {
    outcome
        .metrics
        .protocol_counts
        .get(name)
        .copied()
        .unwrap_or(0)
}

/// Faults at `at` that undo every fault kind on the servers `names`:
/// afterwards the cluster is whole (for liveness after a random schedule).
pub fn heal_everything(names: &[String], at: Dur) -> Vec<TimedFault> {
    let mut undo = vec![
        FaultSpec::Heal,
        FaultSpec::RestoreLoss,
        FaultSpec::Release("*".into(), "*".into()),
    ];
    for name in names {
        undo.push(FaultSpec::Resume(name.clone()));
        undo.push(FaultSpec::Restart(name.clone()));
    }
    undo.into_iter()
        .map(|fault| TimedFault {
            jitter: None,
            at,
            fault,
        })
        .collect()
}

/// Asserts that the curated scenario `file` meets its expectation, per
/// group, over seeds `0..seeds`, with no run cut short.
pub fn meets_expectations_over(file: &str, seeds: u64) {
    meets_expectations_over_with(file, seeds, &[]);
}

/// As `meets_expectations_over`, each (path, RON value) in `sets` applied
/// to every group after the file's own sweep, as `faultline sweep --set`
/// does.
pub fn meets_expectations_over_with(file: &str, seeds: u64, sets: &[(&str, &str)]) {
    let scenario = load(file);
    let extra: Vec<(String, Vec<ron::Value>)> = (sets.iter())
        .map(|(path, value)| (path.to_string(), vec![ron::from_str(value).unwrap()]))
        .collect();
    let groups = scenarios::sweep::plan_groups(&scenario, &extra).unwrap();
    let range = (0, seeds);
    let results = scenarios::sweep::run_all(&groups, range);
    let header = scenarios::sweep::Header::new(file, &groups, range, None);
    let summary = scenarios::sweep::summarise(&header, results.len() as u64, &results);
    assert!(
        summary.expectation_held && summary.inconclusive_total == 0,
        "{file}: {} ({} inconclusive, e.g. {:?})",
        summary.expectation_note,
        summary.inconclusive_total,
        summary.failures.first().map(|f| &f.reproduce)
    );
}
