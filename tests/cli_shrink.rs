//! `faultline shrink` and `sweep --shrink` end to end: every curated
//! scenario that expects a violation, and every bug switch a curated
//! scenario names, shrinks to a file that still fails the same check with
//! at most the stated number of faults; the result is the same every time
//! and whatever --jobs; a passing seed is refused; a budget stops the
//! search with the best so far.

use faultline_e2e::{faultline, one_json, scratch};
use serde_json::Value;

fn s(path: &std::path::Path) -> String {
    path.display().to_string()
}

/// (curated scenario, --set assignments separated by spaces or "", the
/// most faults a shrunk failure of it keeps). The counts are what the shrinker reaches today (BENCHMARKS.md,
/// "Shrinking"); a change that makes it keep more fails here.
const CASES: [(&str, &str, u64); 40] = [
    ("txn-list-append", "", 1),
    ("pingpong-panic", "", 0),
    ("kv-lost-writes", "", 2),
    (
        "raft-figure8",
        "protocol.Raft.commit_previous_terms=true",
        7,
    ),
    ("raft-lease-drift", "", 3),
    (
        "raft-lease-drift",
        "protocol.Raft.lease_drift_bound_ppm=100000 protocol.Raft.lease_without_drift_bound=true",
        3,
    ),
    ("raft-swarm", "protocol.Raft.vote_without_log_check=true", 2),
    (
        "raft-forgotten-vote",
        "protocol.Raft.vote_without_persist=true",
        5,
    ),
    (
        "ring-election",
        "protocol.RingElection.forward_smaller_ids=true",
        0,
    ),
    (
        "bully-election",
        "protocol.BullyElection.accept_lower_leader=true",
        1,
    ),
    (
        "bully-election",
        "protocol.BullyElection.declare_without_election=true",
        0,
    ),
    (
        "2pc-coordinator-crash",
        "protocol.TwoPhaseCommit.commit_on_timeout=true",
        1,
    ),
    (
        "2pc-coordinator-crash",
        "protocol.TwoPhaseCommit.decide_before_sync=true",
        2,
    ),
    (
        "3pc-coordinator-crash",
        "protocol.ThreePhaseCommit.commit_on_timeout=true",
        1,
    ),
    ("saga-choreography", "protocol.Saga.no_dedup=true", 0),
    ("saga-choreography", "protocol.Saga.skip_refund=true", 0),
    ("saga-orchestration", "protocol.Saga.no_dedup=true", 0),
    ("saga-orchestration", "protocol.Saga.skip_refund=true", 0),
    ("split-brain-no-fencing", "", 1),
    ("replica-lag-reads", "", 0),
    ("3pc-partition", "", 1),
    ("bully-split-brain", "", 1),
    ("cap-partition", "", 1),
    ("lww-clock-skew", "", 0),
    ("pacelc-latency", "", 0),
    // The partition and its Heal: a run that ends partitioned cannot fail
    // `eventual` (not applicable), so the shrinker may not drop the Heal.
    ("quorum-repair", "", 2),
    ("ring-split-brain", "", 1),
    ("semisync-fallback", "", 2),
    ("replication-modes", "", 1),
    ("isolation-levels", "", 0),
    ("write-skew", "", 0),
    ("lost-update", "", 0),
    ("clock-skew-si", "", 0),
    // The pause of the holder.
    ("lock-gc-pause", "", 1),
    // The four clogs that leave n3 deciding, and the jump; the group
    // with fencing (allowed to fail) keeps all five.
    ("redlock-clock-jump", "", 5),
    // The crash of the primary before it replicated.
    ("lock-failover", "", 1),
    // The pause; the crash of the holder goes.
    ("lock-ttl-tradeoff", "", 1),
    // No fault: the slow link alone reorders.
    ("multi-leader-causality", "", 0),
    // The crash of region 1 stops the ring and the star.
    ("multi-leader-topologies", "", 1),
    // Duplication alone double-counts: the partition and its heal go.
    ("crdt-counter", "", 0),
];

#[test]
#[ignore = "heavy tier: cargo test --workspace --profile ci --tests -- --ignored"]
fn every_expected_violation_and_bug_switch_shrinks_and_still_fails() {
    let dir = scratch("shrink-all");
    for (i, (name, set, faults_max)) in CASES.iter().enumerate() {
        let out = dir.join(format!("case-{i}"));
        let out_text = s(&out);
        let mut args = vec![
            "sweep",
            name,
            "--seeds",
            "0..40",
            "--shrink",
            "--no-report",
            "--json",
            "--out",
            &out_text,
        ];
        for assignment in set.split_whitespace() {
            args.extend(["--set", assignment]);
        }
        let result = faultline(&args);
        let value = one_json(&result.stdout);
        let shrunk = value["shrunk"].as_array().expect("a shrunk list");
        assert!(
            !shrunk.is_empty(),
            "{name} {set}: no failing group to shrink"
        );
        for entry in shrunk {
            let (before, after) = (&entry["before"], &entry["after"]);
            let case = format!("{name} {set} [{}] seed {}", entry["group"], entry["seed"]);
            assert!(entry["complete"].as_bool().unwrap(), "{case}: {entry}");
            assert!(
                after["faults"].as_u64().unwrap() <= *faults_max,
                "{case}: kept {} faults, more than {faults_max}",
                after["faults"]
            );
            assert!(
                after["events"].as_u64() < before["events"].as_u64(),
                "{case}: {before} -> {after}"
            );
            // The shrunk file fails the same check when run on its own.
            let target = entry["target"].as_str().unwrap();
            let run_dir = s(&out.join(format!("rerun-{}", entry["seed"])));
            let file = entry["shrunk"].as_str().unwrap();
            let rerun = faultline(&["run", file, "--no-report", "--json", "--out", &run_dir]);
            assert_eq!(rerun.code, 1, "{case}: {}", rerun.stdout);
            let summary = one_json(&rerun.stdout);
            let failed: Vec<&str> = summary["failed"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            assert!(failed.contains(&target), "{case}: {failed:?}");
            assert_eq!(summary["events"], after["events"], "{case}");
        }
    }
}

/// Every curated scenario that expects a violation (in any group), and
/// every bug switch a curated scenario names, is one of `CASES`.
#[test]
fn the_cases_cover_every_curated_violation_and_named_bug_switch() {
    let listed = one_json(&faultline(&["list", "--json"]).stdout);
    let switches: Vec<String> = listed["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["bug_switches"].as_array().unwrap().clone())
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let dir = faultline_e2e::repo_root().join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    for file in files {
        let name = file.file_stem().unwrap().to_str().unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        if text.contains("Violation") {
            assert!(
                CASES.iter().any(|(n, _, _)| *n == name),
                "{name} expects a violation but is not shrunk in CASES"
            );
        }
        // A switch the file sets itself (in its params or as a swept
        // path: the sweep shrinks each failing group), or names for the
        // reader to turn on.
        for switch in switches.iter().filter(|s| text.contains(s.as_str())) {
            let set_in_file = text.contains(&format!("{switch}: true"))
                || text.contains(&format!("\"{switch}\": true"))
                || text.contains(&format!("{switch}: 0."))
                || text.contains(&format!(".{switch}\""));
            assert!(
                CASES.iter().any(|(n, set, _)| *n == name
                    && (set.contains(switch.as_str()) || set_in_file)),
                "{name} names the bug switch {switch}, which CASES does not shrink"
            );
        }
    }
}

/// `faultline run FILE --no-report` into `out`, which must fail (exit 1).
fn run_fails(file: &std::path::Path, out: &std::path::Path) -> faultline_e2e::CliOutput {
    let rerun = faultline(&["run", &s(file), "--no-report", "--out", &s(out)]);
    assert_eq!(rerun.code, 1, "{}: {}", file.display(), rerun.stdout);
    rerun
}

fn shrink_json(args: &[&str]) -> Value {
    let mut all = vec!["shrink"];
    all.extend(args);
    all.push("--json");
    let result = faultline(&all);
    assert_eq!(result.code, 0, "{args:?}: {result:?}");
    one_json(&result.stdout)
}

#[test]
fn a_shrink_writes_a_failing_file_the_same_every_time_and_whatever_jobs() {
    let dir = scratch("shrink-same");
    let (a, b) = (dir.join("a"), dir.join("b"));
    let set = "--set=protocol.Raft.vote_without_log_check=true";
    let first = shrink_json(&[
        "raft-swarm",
        "--seed",
        "1",
        set,
        "--jobs",
        "1",
        "--out",
        &s(&a),
    ]);
    let second = shrink_json(&[
        "raft-swarm",
        "--seed",
        "1",
        set,
        "--jobs",
        "2",
        "--out",
        &s(&b),
    ]);
    let read = |d: &std::path::Path| std::fs::read(d.join("shrunk.ron")).unwrap();
    assert_eq!(
        read(&a),
        read(&b),
        "shrunk.ron differs between --jobs 1 and 2"
    );
    assert_eq!(first["candidates"], second["candidates"]);
    assert_eq!(first["steps"], second["steps"]);
    assert_eq!(first["target"], "leader-completeness");
    assert!(first["after"]["faults"].as_u64() < first["before"]["faults"].as_u64());
    assert!(
        first["removed"].as_array().unwrap().len() >= 10,
        "{}",
        first["removed"]
    );
    // The shrunk run's files and report, with its space-time diagram.
    for file in [
        "shrink.json",
        "resolved.ron",
        "checks.json",
        "report.html",
        "lamport.svg",
    ] {
        assert!(a.join(file).is_file(), "{file} missing");
    }
    // The reproduce command runs the file, which fails the target.
    let reproduce = first["reproduce"].as_str().unwrap();
    assert!(reproduce.starts_with("faultline run ") && reproduce.contains("shrunk.ron"));
    let rerun = run_fails(&a.join("shrunk.ron"), &dir.join("r"));
    assert!(
        rerun.stdout.contains("leader-completeness"),
        "{}",
        rerun.stdout
    );
    // The text form: the before/after table, what was removed, the commands.
    let text = faultline(&[
        "shrink",
        "raft-swarm",
        "--seed",
        "1",
        set,
        "--out",
        &s(&dir.join("t")),
    ]);
    assert_eq!(text.code, 0, "{text:?}");
    for line in [
        "before",
        "faults",
        "events",
        "operations",
        "clients",
        "servers",
        "duration",
        "removed faults",
        "DONE",
        "reproduce: faultline run",
    ] {
        assert!(
            text.stdout.contains(line),
            "{line:?} missing:\n{}",
            text.stdout
        );
    }
}

#[test]
fn a_seed_that_does_not_fail_is_refused_with_exit_2() {
    let dir = scratch("shrink-refused");
    let out = s(&dir.join("x"));
    let passing = faultline(&[
        "shrink",
        "raft-forgotten-vote",
        "--seed",
        "0",
        "--out",
        &out,
    ]);
    assert_eq!(passing.code, 2, "{passing:?}");
    assert!(
        passing
            .stderr
            .contains("the run passed, so there is nothing to shrink"),
        "{}",
        passing.stderr
    );
    assert!(!dir.join("x").exists(), "a refused shrink writes nothing");
    let json = faultline(&["shrink", "raft-forgotten-vote", "--seed", "0", "--json"]);
    assert_eq!(json.code, 2);
    assert_eq!(one_json(&json.stdout)["error"]["kind"], "refused");
    // Another failure than the one named does not count.
    let set = "--set=protocol.Raft.vote_without_persist=true";
    let other = faultline(&[
        "shrink",
        "raft-forgotten-vote",
        set,
        "--check",
        "log-matching",
    ]);
    assert_eq!(other.code, 2, "{other:?}");
    assert!(
        other
            .stderr
            .contains("did not fail log-matching; it failed election-safety"),
        "{}",
        other.stderr
    );
    let unknown = faultline(&[
        "shrink",
        "raft-forgotten-vote",
        set,
        "--check",
        "linearisability",
    ]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("--check"), "{}", unknown.stderr);
}

#[test]
fn a_budget_stops_the_search_with_the_best_so_far() {
    let dir = scratch("shrink-budget");
    let set = "--set=protocol.Raft.vote_without_log_check=true";
    let few = shrink_json(&[
        "raft-swarm",
        "--seed",
        "1",
        set,
        "--candidates",
        "5",
        "--out",
        &s(&dir.join("few")),
    ]);
    assert_eq!(few["complete"], false);
    assert_eq!(few["stopped"], "candidates");
    assert_eq!(few["candidates"], 5);
    let none = shrink_json(&[
        "raft-swarm",
        "--seed",
        "1",
        set,
        "--budget",
        "1ns",
        "--out",
        &s(&dir.join("none")),
    ]);
    assert_eq!(none["stopped"], "time");
    assert_eq!(none["candidates"], 0);
    assert_eq!(none["after"], none["before"]);
    // The best so far is still a file that fails.
    run_fails(&dir.join("few/shrunk.ron"), &dir.join("r"));
    let text = faultline(&[
        "shrink",
        "raft-swarm",
        "--seed",
        "1",
        set,
        "--progress-every",
        "0",
        "--candidates",
        "5",
        "--out",
        &s(&dir.join("t")),
    ]);
    assert!(
        text.stdout.contains("STOPPED at the candidate budget"),
        "{}",
        text.stdout
    );
    // Progress lines go to stderr, one per batch at --progress-every 0.
    assert!(
        text.stderr.contains("shrink: 5 candidates, "),
        "{}",
        text.stderr
    );
}

/// A shrunk scenario that does not fail when its file is run again (a
/// protocol that is not deterministic) is reported as such, not written as
/// a reproducer.
#[test]
fn a_shrunk_file_that_does_not_fail_again_is_an_error_not_a_result() {
    use scenarios::shrink::{Shrunk, Size, Target, Trial};
    let scenario =
        scenarios::load_file(&faultline_e2e::repo_root().join("scenarios/raft-forgotten-vote.ron"))
            .unwrap();
    let passing = scenarios::resolve(&scenario, 0);
    let mut claimed = Trial::input_error(String::new());
    claimed.failed = vec!["election-safety".into()];
    let size = Size::of(&passing, &claimed);
    let shrunk = Shrunk {
        target: Target::Check("election-safety".into()),
        scenario: passing,
        trial: claimed.clone(),
        original: claimed,
        before: size,
        after: size,
        steps: Vec::new(),
        removed_faults: Vec::new(),
        candidates: 0,
        stopped: None,
    };
    let dir = scratch("shrink-not-reproduced");
    match faultline::shrinking::write(&dir, &shrunk, 0.0, String::new(), None) {
        Err(faultline::shrinking::WriteError::NotReproduced(message)) => {
            assert!(
                message.contains("did not fail election-safety"),
                "{message}"
            );
            assert!(message.contains("not deterministic"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
