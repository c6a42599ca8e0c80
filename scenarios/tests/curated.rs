//! Every curated scenario in `scenarios/` validates, runs, round-trips
//! through its resolved form to the same trace hash, and meets its own
//! `expect` over 40 seeds (the heavy tier).

use scenarios::schema::Expect;
use std::path::{Path, PathBuf};

fn curated_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "the curated scenarios are missing: {files:?}"
    );
    files
}

#[test]
fn every_curated_scenario_validates_runs_and_round_trips() {
    for path in curated_files() {
        let scenario = scenarios::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        for seed in [scenario.seed, 1, 2] {
            let resolved = scenarios::resolve(&scenario, seed);
            let run = |s: &scenarios::Scenario| {
                std::panic::catch_unwind(|| scenarios::run(s).unwrap()).ok()
            };
            let text = scenarios::to_ron(&resolved);
            let reparsed = scenarios::load_str(&text, "resolved.ron")
                .unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()));
            assert_eq!(
                reparsed,
                resolved,
                "{}: the resolved scenario changed through RON",
                path.display()
            );
            // Resolving a resolved scenario changes nothing: every draw is written out.
            assert_eq!(
                scenarios::resolve(&reparsed, seed),
                resolved,
                "{}",
                path.display()
            );
            let (Some(first), Some(second)) = (run(&resolved), run(&reparsed)) else {
                // Only the panic demo may fail to produce an outcome.
                assert!(
                    path.ends_with("pingpong-panic.ron"),
                    "{} did not run",
                    path.display()
                );
                continue;
            };
            assert_eq!(
                first.trace_hash,
                second.trace_hash,
                "{} seed {seed}",
                path.display()
            );
            assert_eq!(
                first.history,
                second.history,
                "{} seed {seed}",
                path.display()
            );
        }
    }
}

#[test]
#[ignore = "heavy tier: cargo test --workspace --profile ci --tests -- --ignored"]
fn every_curated_scenario_meets_its_expectation_over_40_seeds() {
    for path in curated_files() {
        let scenario = scenarios::load_file(&path).unwrap();
        let mut violated = Vec::new();
        let mut unexpected = Vec::new();
        for seed in 0..40 {
            let resolved = scenarios::resolve(&scenario, seed);
            let failed = match std::panic::catch_unwind(|| scenarios::run(&resolved).unwrap()) {
                Ok(outcome) => {
                    assert!(
                        outcome.unknown().is_empty(),
                        "{} seed {seed}: inconclusive",
                        path.display()
                    );
                    outcome.failed()
                }
                Err(_) => vec!["panic".to_string()],
            };
            for name in failed {
                match &scenario.expect {
                    Expect::Violation(names) | Expect::Allow(names) if names.contains(&name) => {
                        violated.push(seed)
                    }
                    _ => unexpected.push((seed, name)),
                }
            }
        }
        assert!(
            unexpected.is_empty(),
            "{}: unexpected failures {unexpected:?}",
            path.display()
        );
        if let Expect::Violation(names) = &scenario.expect {
            assert!(
                !violated.is_empty(),
                "{}: no seed in 0..40 showed {names:?}",
                path.display()
            );
        }
    }
}
