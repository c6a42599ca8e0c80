//! Frozen reproducers: every failure a correct protocol (or a check) once
//! showed, as the scenario file that showed it, in `regressions/`. Each
//! file's head is its postmortem; each must now pass at its seed, with
//! every check it names judged (a check left out must say why).

mod common;

use scenarios::{load_str, resolve, run};
use std::path::PathBuf;

fn files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    files
}

fn outcome(file: &str) -> scenarios::RunOutcome {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let scenario = load_str(&text, file).unwrap();
    let seed = scenario.seed;
    run(&resolve(&scenario, seed)).unwrap()
}

#[test]
fn every_frozen_reproducer_passes_at_its_seed() {
    let files = files();
    assert!(files.len() >= 4, "the reproducers are missing: {files:?}");
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("// Regression:") && text.contains("Postmortem:"),
            "{name} must open with its postmortem"
        );
        let outcome = outcome(&name);
        assert!(
            outcome.passed(),
            "{name} fails again: {:?}; checks {:?}",
            outcome.failed(),
            outcome.checks
        );
        // Not a pass by leaving the checks out: each named one was judged
        // ("session" stands for its four guarantees).
        for check in &outcome.resolved.checks {
            let parts: Vec<&str> = match check.as_str() {
                "session" => vec![
                    "read-your-writes",
                    "monotonic-reads",
                    "monotonic-writes",
                    "writes-follow-reads",
                ],
                other => vec![other],
            };
            for part in parts {
                let judged = outcome.checks.iter().any(|c| c.name == part)
                    || outcome.skipped.iter().any(|s| s.name == part);
                assert!(judged, "{name}: {part} was neither judged nor skipped");
            }
        }
    }
}

#[test]
fn eventual_is_not_applicable_to_a_run_that_ends_partitioned() {
    let outcome = outcome("raft-isolated-never-healed.ron");
    assert!(outcome.checks.iter().all(|c| c.name != "eventual"));
    let skipped = outcome
        .skipped
        .iter()
        .find(|s| s.name == "eventual")
        .expect("eventual is reported as not applicable");
    assert!(skipped.why.starts_with("not applicable"), "{}", skipped.why);
    assert!(
        skipped
            .why
            .contains(r#"Isolate("n3") at 100ms is never healed"#),
        "{}",
        skipped.why
    );
}

#[test]
fn the_semisync_reproducer_still_reaches_a_lost_write_with_the_promote_any_switch() {
    // Not a pass by a configuration that no longer reaches the danger:
    // with `promote_any` (votes for any candidate, however far behind),
    // the same file loses a promised write.
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/regressions/semisync-one-ack-of-six.ron"),
    )
    .unwrap();
    let scenario = load_str(&text, "semisync.ron").unwrap();
    let buggy = common::with(&scenario, "protocol.PrimaryBackup.promote_any=true");
    let caught = common::first_seed_failing(&buggy, 20, &["no-promised-write-lost"]);
    assert!(
        caught.is_some(),
        "the file no longer reaches a lost promised write"
    );
}
