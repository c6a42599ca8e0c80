//! Verdicts under limits: regressions from a new user's trial, each with
//! its postmortem. A run cut short is never a PASS, no valid scenario
//! aborts the process, and bad input found at run time is an error of that
//! seed, never a panic.

use faultline_e2e::{faultline, repo_root, scratch};
use serde_json::Value;

/// A curated scenario with one line changed, written to `dir`.
fn changed(curated: &str, from: &str, to: &str, dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(repo_root().join("scenarios").join(curated)).unwrap();
    assert!(text.contains(from), "{curated} no longer contains {from:?}");
    let path = dir.join(curated);
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    path.display().to_string()
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Postmortem: raft-figure8 with a 1 ns heartbeat floods the queue. The run
/// stopped at a limit at 0.10 s of 1.8 s, yet printed PASS, wrote
/// "passed": true and exited 0, because the verdict looked only at the
/// checks. Now completeness is part of the verdict: exit 3, the reason and
/// the simulated time reached, in the text and in summary.json. (A small
/// budget keeps the test quick; the default budget stops it the same way.)
#[test]
fn a_run_cut_short_is_inconclusive_not_a_pass() {
    let dir = scratch("cut-short");
    let path = changed(
        "raft-figure8.ron",
        "heartbeat_interval: \"20ms\"",
        "heartbeat_interval: \"1ns\"",
        &dir,
    );
    let out_dir = dir.join("out").display().to_string();
    let text = faultline(&["run", &path, "--memory", "32MiB", "--out", &out_dir]);
    assert_eq!(text.code, 3, "{}{}", text.stdout, text.stderr);
    assert!(
        text.stdout.contains("CUT SHORT (memory_limit)"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("INCONCLUSIVE: the run stopped at"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains("\nPASS"), "{}", text.stdout);
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["verdict"], "inconclusive");
    assert_eq!(summary["passed"], false);
    assert_eq!(summary["inconclusive"]["reason"], "memory_limit");
    let reached = summary["simulated_seconds"].as_f64().unwrap();
    assert!(reached < 1.8, "reached {reached}");
    assert!(summary["reproduce"]
        .as_str()
        .unwrap()
        .contains("limits.memory=\"32MiB\""));
    // The resolved file carries the budget, so it reproduces the same stop.
    let again = faultline(&[
        "run",
        &format!("{out_dir}/resolved.ron"),
        "--json",
        "--out",
        &format!("{out_dir}2"),
    ]);
    let again = json(&again.stdout);
    assert_eq!(again["trace_hash"], summary["trace_hash"]);
    assert_eq!(again["verdict"], "inconclusive");
}

/// Postmortem: pingpong with duplicate: 0.5 grows its pending messages
/// without bound (each round trip makes 1.5 of itself). The process
/// aborted at 4 GB, and as a sweep it exited 134 with no result recorded.
/// Now the run's memory estimate stops it at its budget, and a sweep
/// records every seed as inconclusive and exits 3.
#[test]
fn a_flood_of_duplicates_stops_at_the_budget_in_a_run_and_a_sweep() {
    let dir = scratch("duplicates");
    let path = changed(
        "pingpong.ron",
        "loss: 0.01)",
        "loss: 0.01, duplicate: 0.5)",
        &dir,
    );
    let run = faultline(&[
        "run",
        &path,
        "--memory",
        "16MiB",
        "--json",
        "--out",
        &dir.join("run").display().to_string(),
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let run = json(&run.stdout);
    assert_eq!(run["inconclusive"]["reason"], "memory_limit");
    // The estimate stops within one handler's pushes of the budget.
    assert!(run["memory_peak_bytes"].as_u64().unwrap() <= (16 << 20) + (1 << 20));
    let out = dir.join("sweep").display().to_string();
    let sweep = faultline(&[
        "sweep", &path, "--seeds", "0..4", "--memory", "16MiB", "--out", &out, "--json",
    ]);
    assert_eq!(sweep.code, 3, "{}{}", sweep.stdout, sweep.stderr);
    let summary = &json(&sweep.stdout)["summary"];
    assert_eq!(summary["units_run"], 4);
    assert_eq!(summary["inconclusive_total"], 4);
    assert_eq!(summary["expectation_held"], false);
    assert!(summary["inconclusive"][0]["why"]
        .as_str()
        .unwrap()
        .starts_with("memory_limit"));
}

/// Postmortem: Bully at its old limit of 10,000 servers failed an 8 GB
/// allocation: an election queues about n²/2 messages at once. Validation
/// now derives the limit from the memory budget and says why; within it,
/// a run that still outgrows the budget stops as inconclusive.
#[test]
fn bully_beyond_what_the_budget_holds_is_refused_with_the_reason() {
    let dir = scratch("bully");
    let path = changed(
        "bully-election.ron",
        "nodes: Count(6)",
        "nodes: Count(4096)",
        &dir,
    );
    let refused = faultline(&["validate", &path]);
    assert_eq!(refused.code, 2);
    assert!(
        refused
            .stderr
            .contains("at most 2048 servers run Bully within limits.memory = 1GiB"),
        "{}",
        refused.stderr
    );
    // At the limit a budget derives, an election with every server
    // standing (first_election: All) fits that budget and passes.
    let fits = changed(
        "bully-election.ron",
        "nodes: Count(6)",
        "nodes: Count(128)",
        &dir,
    );
    let run = faultline(&[
        "run",
        &fits,
        "--memory",
        "4MiB",
        "--json",
        "--out",
        &dir.join("o").display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let over = changed(
        "bully-election.ron",
        "nodes: Count(6)",
        "nodes: Count(129)",
        &dir,
    );
    assert_eq!(
        faultline(&[
            "run",
            &over,
            "--memory",
            "4MiB",
            "--out",
            &dir.join("o").display().to_string()
        ])
        .code,
        2
    );
}

/// Postmortem: Partition([["@leader", "n1"]]) passed validate; run exited 2
/// with "node #0 appears in more than one group" (an internal name, no
/// field path), and sweep counted every such seed as a panic. Now validate
/// warns, and the run names the field, the binding and the server, and a
/// sweep counts the seed as an input error.
#[test]
fn a_binding_that_overlaps_is_an_error_with_its_field_path() {
    let dir = scratch("leader-overlap");
    let path = changed(
        "raft-leader-crash.ron",
        "faults: (",
        "faults: (\n        schedule: [(at: \"1s\", fault: Partition([[\"@leader\", \"n1\", \"n2\", \"n3\"]]))],",
        &dir,
    );
    let text = std::fs::read_to_string(&path).unwrap();
    if text.matches("schedule:").count() > 1 {
        // The curated file has its own schedule: put ours in it instead.
        let original =
            std::fs::read_to_string(repo_root().join("scenarios/raft-leader-crash.ron")).unwrap();
        std::fs::write(
            &path,
            original.replacen(
                "schedule: [",
                "schedule: [\n            (at: \"1s\", fault: Partition([[\"@leader\", \"n1\", \"n2\", \"n3\"]])),",
                1,
            ),
        )
        .unwrap();
    }
    let validate = faultline(&["validate", &path]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    assert!(
        validate.stdout.contains(
            "warning: faults.schedule[0].fault: \"@leader\" and \"n1\" may be the same server"
        ),
        "{}",
        validate.stdout
    );
    // Some seed binds "@leader" to one of n1..n3: find one and look at it.
    let out = dir.join("sweep").display().to_string();
    let sweep = faultline(&["sweep", &path, "--seeds", "0..20", "--out", &out, "--json"]);
    let summary = &json(&sweep.stdout)["summary"];
    assert_eq!(sweep.code, 2, "{}", sweep.stdout);
    assert!(summary["errors_total"].as_u64().unwrap() > 0);
    assert_eq!(summary["groups"][0]["panicked"], 0);
    let error = &summary["errors"][0];
    let why = error["why"].as_str().unwrap();
    assert!(
        why.starts_with("faults.schedule[0].fault: at 1s, \"@leader\" is n"),
        "{why}"
    );
    assert!(!why.contains('#'), "{why}");
    let seed = error["seed"].as_u64().unwrap().to_string();
    let out = dir.join("run").display().to_string();
    let args = ["run", path.as_str(), "--seed", &seed, "--out", &out];
    let run = faultline(&args);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("faults.schedule[0].fault"),
        "{}",
        run.stderr
    );
    // With --json it is one error object, of the kind found only at run time.
    let run = faultline(&[&args[..], &["--json"]].concat());
    assert_eq!(run.code, 2);
    let error = &json(&run.stdout)["error"];
    assert_eq!(error["kind"], "run", "{error}");
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("faults.schedule[0].fault"));
}

/// Postmortem: a panic reported only its message; the person debugging had
/// no idea how far the run had got. Now the summary gives the simulated
/// time, the events and the trace hash at the panic.
#[test]
fn a_panicking_run_reports_how_far_it_got() {
    let dir = scratch("panic");
    let path = repo_root()
        .join("scenarios/pingpong-panic.ron")
        .display()
        .to_string();
    let sweep = faultline(&[
        "sweep",
        &path,
        "--json",
        "--out",
        &dir.join("sweep").display().to_string(),
    ]);
    let seed = json(&sweep.stdout)["summary"]["failures"][0]["seed"]
        .as_u64()
        .expect("a panicking seed")
        .to_string();
    let out = dir.display().to_string();
    let run_seed = || faultline(&["run", &path, "--seed", &seed, "--json", "--out", &out]);
    let run = run_seed();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let summary = json(&run.stdout);
    assert!(summary["panic"].is_string());
    assert!(summary["events"].as_u64().unwrap() > 0, "{summary}");
    assert!(
        summary["simulated_seconds"].as_f64().unwrap() > 0.0,
        "{summary}"
    );
    assert!(summary["trace_hash"].is_string(), "{summary}");
    // The same seed panics at the same point.
    let again = json(&run_seed().stdout);
    assert_eq!(again["trace_hash"], summary["trace_hash"]);
    assert_eq!(again["events"], summary["events"]);
}

/// Postmortem (issue: runs that never end): Async's `ship_interval` of 1 ns
/// was accepted, and a 3 s run then took about 20 minutes with no progress
/// line in 300 s, even with `--progress-every 1`, because the driver heard
/// from the engine only when outputs piled up. Now the engine runs in
/// slices of events, the progress line prints from inside a long run, and
/// `--timeout` ends it as inconclusive.
#[test]
fn a_one_nanosecond_timer_prints_progress_and_times_out_inconclusive() {
    let dir = scratch("one-ns");
    let out_dir = dir.join("out").display().to_string();
    let started = std::time::Instant::now();
    let result = faultline(&[
        "run",
        "split-brain-no-fencing",
        "--set",
        r#"protocol.PrimaryBackup.mode={"Async":{"ship_interval":"1ns"}}"#,
        "--timeout",
        "2s",
        "--progress-every",
        "0.2",
        "--no-report",
        "--out",
        &out_dir,
    ]);
    assert_eq!(result.code, 3, "{}{}", result.stdout, result.stderr);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "the timeout ended the run"
    );
    assert!(
        result.stderr.contains("progress: simulated"),
        "{}",
        result.stderr
    );
    assert!(
        result.stdout.contains("CUT SHORT (cancelled)") && result.stdout.contains("--timeout"),
        "{}",
        result.stdout
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["verdict"], "inconclusive");
    assert_eq!(summary["inconclusive"]["reason"], "cancelled");
    let bad = faultline(&["run", "quickstart", "--timeout", "0s"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    // `validate` warns of the rate such a timer implies, naming the field.
    let path = changed(
        "split-brain-no-fencing.ron",
        "mode: SemiSync(acks: 1, fallback_timeout: \"1s\")",
        "mode: Async(ship_interval: \"1ns\")",
        &dir,
    );
    let validated = faultline(&["validate", &path]);
    assert_eq!(validated.code, 0, "{validated:?}");
    assert!(
        validated
            .stdout
            .contains("warning: protocol.PrimaryBackup.mode.Async.ship_interval: 1ns on 3 servers implies about 3.0e9 events per simulated second"),
        "{}",
        validated.stdout
    );
    let plain = faultline(&["validate", "split-brain-no-fencing"]);
    assert!(!plain.stdout.contains("warning"), "{}", plain.stdout);
}

/// Postmortem (issue: outages can erase a user's faults): outages with tiny
/// means filled the whole schedule cap (100,000 entries) server by server,
/// and the user's later faults were silently cut: a partition at 5 s
/// vanished, and the run said PASS. Now the schedule is complete only
/// before a cut time (`faults.cut_at`, written to resolved.ron), the run
/// stops there and is inconclusive (`schedule_full`), and the user's
/// partition is still in the resolved schedule.
#[test]
fn outages_that_overflow_the_schedule_make_the_run_inconclusive() {
    let dir = scratch("schedule-full");
    let path = dir.join("outages.ron");
    std::fs::write(
        &path,
        r#"Scenario(
    name: "outages-flood",
    duration: "8s",
    nodes: Count(3),
    protocol: KvSingle(),
    workload: (clients: 2, mix: (read: 0.5, write: 0.5)),
    faults: (
        schedule: [(at: "5s", fault: Partition([["n1"], ["n2", "n3"]])), (at: "6s", fault: Heal)],
        outages: (up_mean: "20us", down_mean: "20us"),
    ),
)"#,
    )
    .unwrap();
    let validated = faultline(&["validate", path.to_str().unwrap()]);
    assert!(
        validated.stdout.contains("warning: faults.outages: about")
            && validated.stdout.contains("the schedule holds 100000"),
        "{}",
        validated.stdout
    );
    let out_dir = dir.join("out");
    let result = faultline(&[
        "run",
        path.to_str().unwrap(),
        "--no-report",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(result.code, 3, "{}{}", result.stdout, result.stderr);
    assert!(
        result.stdout.contains("CUT SHORT (schedule_full)"),
        "{}",
        result.stdout
    );
    let resolved = scenarios::load_file(&out_dir.join("resolved.ron")).expect("resolved.ron loads");
    let cut = resolved.faults.cut_at.expect("the cut is written out");
    assert!(cut.0 < sim_core::SimDuration::from_secs(5), "{cut}");
    assert!(resolved.faults.schedule.len() <= scenarios::validate::SCHEDULE_MAX);
    assert!(
        resolved
            .faults
            .schedule
            .iter()
            .any(|e| matches!(e.fault, scenarios::schema::FaultSpec::Partition(_))),
        "the user's partition is kept"
    );
    assert!(resolved
        .faults
        .schedule
        .iter()
        .filter(|e| !matches!(
            e.fault,
            scenarios::schema::FaultSpec::Partition(_) | scenarios::schema::FaultSpec::Heal
        ))
        .all(|e| e.at <= cut));
    // The resolved file reproduces the same cut run.
    let again = faultline(&[
        "run",
        out_dir.join("resolved.ron").to_str().unwrap(),
        "--no-report",
        "--out",
        dir.join("again").to_str().unwrap(),
    ]);
    assert_eq!(again.code, 3, "{}{}", again.stdout, again.stderr);
    let hash = |text: &str| {
        text.lines()
            .find(|l| l.contains("trace hash"))
            .map(str::to_string)
    };
    assert_eq!(hash(&result.stdout), hash(&again.stdout));
}

/// Postmortem (issue: validation gaps): `validate` took 34 s on
/// `Count(100000)`: the clients-cut-off warning looked each node up in the
/// list of servers, quadratic in the cluster. Now it uses a set, and skips
/// schedules without partitions. (BENCHMARKS.md has the time; this test
/// keeps the path exercised at full size.)
#[test]
fn validating_a_hundred_thousand_servers_is_linear() {
    let dir = scratch("validate-big");
    let path = dir.join("big.ron");
    std::fs::write(
        &path,
        r#"Scenario(
    name: "big",
    duration: "1s",
    nodes: Count(100000),
    protocol: KvSingle(),
    workload: (clients: 2, mix: (read: 0.5, write: 0.5)),
    faults: (schedule: [(at: "100ms", fault: Partition([["n1"], ["n2", "client1", "client2"]]))]),
)"#,
    )
    .unwrap();
    let result = faultline(&["validate", path.to_str().unwrap()]);
    assert_eq!(result.code, 0, "{result:?}");
    assert!(!result.stdout.contains("warning"), "{}", result.stdout);
}
