//! `faultline check` prints the expected verdict and exits with the
//! matching code, on histories made here with known verdicts and, where
//! `FAULTLINE_SHARED` names it (CI), on every history of the external
//! corpus; bad input exits 2 with file:line.

use faultline_e2e::faultline;
use sim_core::testkit::histories::{concurrent_kv, to_jsonl, with_stale_read, KvShape};

fn corpus() -> Option<std::path::PathBuf> {
    sim_core::testkit::shared_corpus("histories/porcupine")
}

/// A linearizable history of `processes` clients, as a file.
fn generated(name: &str, processes: u64, operations: u64) -> String {
    let history = concurrent_kv(
        7,
        KvShape {
            processes,
            operations,
            keys: 4,
            overlap_steps_max: 12,
        },
    );
    scratch_file(name, &to_jsonl(&history))
}

/// A history that is not linearizable: one read of an overwritten value.
fn generated_bad(name: &str) -> String {
    let history = concurrent_kv(
        3,
        KvShape {
            processes: 4,
            operations: 40,
            keys: 1,
            overlap_steps_max: 2,
        },
    );
    let (bad, _) = with_stale_read(history).expect("a key was overwritten");
    scratch_file(name, &to_jsonl(&bad))
}

/// An etcd log in Jepsen's format, with a compare-and-set.
const ETCD_LOG: &str = "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\tnil\nINFO  jepsen.util - 0\t:invoke\t:write\t3\nINFO  jepsen.util - 0\t:ok\t:write\t3\nINFO  jepsen.util - 2\t:invoke\t:cas\t[3 4]\nINFO  jepsen.util - 2\t:ok\t:cas\t[3 4]\n";

const ETCD_LINEARIZABLE: [u32; 23] = [
    2, 5, 7, 18, 25, 31, 38, 45, 48, 49, 51, 53, 56, 67, 75, 76, 80, 87, 92, 98, 100, 101, 102,
];

#[test]
fn every_shared_history_gets_its_verdict_from_the_cli() {
    let Some(corpus) = corpus() else { return };
    let mut files: Vec<(String, bool)> = (0..=102u32)
        .filter(|n| *n != 95)
        .map(|n| {
            (
                format!("jepsen/etcd_{n:03}.log"),
                ETCD_LINEARIZABLE.contains(&n),
            )
        })
        .collect();
    for name in ["c01", "c10", "c50"] {
        files.push((format!("kv/{name}-ok.txt"), true));
        files.push((format!("kv/{name}-bad.txt"), false));
    }
    for (file, linearizable) in files {
        let path = corpus.join(&file).display().to_string();
        let result = faultline(&["check", &path, "--model", "kv", "--json"]);
        let expected = if linearizable { 0 } else { 1 };
        assert_eq!(
            result.code, expected,
            "{file}: {}{}",
            result.stdout, result.stderr
        );
        let summary: serde_json::Value = serde_json::from_str(result.stdout.trim()).unwrap();
        assert_eq!(
            summary["verdict"],
            if linearizable { "pass" } else { "fail" },
            "{file}"
        );
        if !linearizable {
            assert!(
                summary["explanation"]
                    .as_str()
                    .unwrap()
                    .contains("cannot place next"),
                "{file}"
            );
        }
    }
}

/// The project's own histories, whose verdicts are known by construction:
/// what a fresh clone checks in place of the external corpus.
#[test]
fn generated_histories_get_their_verdicts_from_the_cli() {
    for processes in [1, 10, 50] {
        let path = generated(&format!("ok-{processes}.jsonl"), processes, 400);
        let result = faultline(&["check", &path, "--json"]);
        assert_eq!(result.code, 0, "{processes} clients: {result:?}");
        assert_eq!(faultline_e2e::one_json(&result.stdout)["verdict"], "pass");
    }
    let bad = faultline(&["check", &generated_bad("bad.jsonl"), "--json"]);
    assert_eq!(bad.code, 1, "{bad:?}");
    let summary = faultline_e2e::one_json(&bad.stdout);
    assert_eq!(summary["verdict"], "fail");
    assert!(
        summary["explanation"]
            .as_str()
            .unwrap()
            .contains("cannot place next"),
        "{summary}"
    );
}

#[test]
fn text_output_shows_the_counterexample() {
    // Its own file: tests run at once, and one rewriting a file another
    // reads made this test read half a history (exit 2) now and then.
    let path = generated_bad("bad-text.jsonl");
    let html = std::env::temp_dir().join(format!("faultline-cx-{}.html", std::process::id()));
    let result = faultline(&["check", &path, "--html", html.to_str().unwrap()]);
    assert_eq!(result.code, 1);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("is not linearizable") && page.contains("<svg"),
        "the timeline was written"
    );
    assert!(
        result.stdout.contains("NOT LINEARIZABLE"),
        "{}",
        result.stdout
    );
    assert!(result.stdout.contains("<== culprit"), "{}", result.stdout);
}

#[test]
fn the_register_model_refuses_cas_and_bad_files_exit_2() {
    let path = scratch_file("etcd.log", ETCD_LOG);
    let register = faultline(&["check", &path, "--model", "register"]);
    assert_eq!(register.code, 2);
    assert!(
        register
            .stderr
            .contains("the register model has no Cas operations"),
        "{}",
        register.stderr
    );
    let dir = std::env::temp_dir().join(format!("faultline-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.edn");
    std::fs::write(&bad, "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :read, :value 1}\n").unwrap();
    let result = faultline(&["check", bad.to_str().unwrap(), "--format", "edn"]);
    assert_eq!(result.code, 2);
    assert!(
        result
            .stderr
            .contains("bad.edn:2: process 0 completes Read on key \"\" but invoked Write"),
        "{}",
        result.stderr
    );
    let timeout = faultline(&["check", &path, "--timeout", "soon"]);
    assert_eq!(timeout.code, 2);
}

#[test]
fn a_deadline_gives_unknown_not_a_verdict() {
    // A search that fails must rule out every order: 50 clients over a few
    // keys, as one object, need far longer than 50 ms for that.
    let history = concurrent_kv(
        50,
        KvShape {
            processes: 50,
            operations: 1_700,
            keys: 4,
            overlap_steps_max: 40,
        },
    );
    let (bad, _) = with_stale_read(history).expect("a key was overwritten");
    let path = scratch_file("c50-bad.jsonl", &to_jsonl(&bad));
    let result = faultline(&["check", &path, "--whole", "--timeout", "50ms", "--json"]);
    assert_eq!(result.code, 3, "{}", result.stdout);
    assert!(result.stdout.contains("\"verdict\":\"unknown\""));
}

fn scratch_file(name: &str, text: &str) -> String {
    let dir = faultline_e2e::scratch(&format!("check-{name}"));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const OP: &str = r#"{"process":0,"f":"write","key":"k","value":"1","outcome":"ok","invoke_ns":1,"complete_ns":2}"#;

/// Issue: an empty history passed as LINEARIZABLE; a BOM or a JSON array
/// was taken for EDN; unknown fields went unnoticed; check had no budget.
#[test]
fn empty_histories_are_refused_and_formats_are_detected() {
    for (name, text) in [("empty", ""), ("blank", "  \n\t\n"), ("newlines", "\n\n\n")] {
        let result = faultline(&["check", &scratch_file(name, text)]);
        assert_eq!(result.code, 2, "{name}: {result:?}");
        assert!(result.stderr.contains("no operations"), "{}", result.stderr);
    }
    let bom = faultline(&[
        "check",
        &scratch_file("bom.jsonl", &format!("\u{feff}{OP}\n")),
        "--json",
    ]);
    assert_eq!(bom.code, 0, "{bom:?}");
    assert_eq!(faultline_e2e::one_json(&bom.stdout)["format"], "jsonl");
    let array = faultline(&[
        "check",
        &scratch_file("a.json", &format!("[{OP}, {OP}]")),
        "--json",
    ]);
    assert_eq!(array.code, 0, "{array:?}");
    assert_eq!(faultline_e2e::one_json(&array.stdout)["format"], "json");
}

#[test]
fn unknown_fields_warn_and_strict_refuses_them() {
    let path = scratch_file(
        "extra.jsonl",
        &format!("{}\n", OP.replace("\"key\"", "\"note\":\"x\",\"key\"")),
    );
    let warned = faultline(&["check", &path]);
    assert_eq!(warned.code, 0, "{warned:?}");
    assert!(
        warned.stdout.contains(
            "warning: fields the jsonl format does not define were ignored: note (first at line 1)"
        ),
        "{}",
        warned.stdout
    );
    let strict = faultline(&["check", &path, "--strict"]);
    assert_eq!(strict.code, 2, "{strict:?}");
    assert!(
        strict
            .stderr
            .contains("`note` is not a field of the jsonl format"),
        "{}",
        strict.stderr
    );
}

#[test]
fn check_runs_within_its_memory_budget_or_answers_unknown() {
    let mut text = String::new();
    for i in 0..2_000u64 {
        text.push_str(&format!(
            "{{\"process\":{},\"f\":\"write\",\"key\":\"k\",\"value\":\"{i}\",\"outcome\":\"ok\",\"invoke_ns\":{},\"complete_ns\":{}}}\n",
            i % 8,
            i * 10,
            i * 10 + 25
        ));
    }
    let path = scratch_file("big.jsonl", &text);
    let tiny = faultline(&["check", &path, "--memory", "64KiB", "--json"]);
    assert_eq!(tiny.code, 3, "{tiny:?}");
    assert!(tiny.stdout.contains("memory"), "{}", tiny.stdout);
    let enough = faultline(&["check", &path, "--memory", "256MiB"]);
    assert_eq!(enough.code, 0, "{enough:?}");
    let bad = faultline(&["check", &path, "--memory", "lots"]);
    assert_eq!(bad.code, 2, "{bad:?}");
}

/// A register history whose writes are all distinct is decided by the
/// distinct-values check, and the output says so; `--algorithm search`
/// decides the same history by the search, with the same verdict.
#[test]
fn distinct_value_histories_say_which_algorithm_decided() {
    let dir = faultline_e2e::scratch("check-distinct");
    let out = |name: &str| dir.join(name).display().to_string();
    for (name, violation) in [("ok.jsonl", false), ("bad.jsonl", true)] {
        let mut args = vec![
            "generate",
            "--model",
            "register",
            "--operations",
            "3000",
            "--processes",
            "5",
            "--seed",
            "4",
        ];
        if violation {
            args.push("--violation");
        }
        let path = out(name);
        args.extend(["--out", path.as_str()]);
        let made = faultline(&args);
        assert_eq!(made.code, 0, "{made:?}");
        let code = u8::from(violation);
        let auto = faultline(&["check", &path, "--model", "register", "--json"]);
        assert_eq!(auto.code, code, "{auto:?}");
        let json: serde_json::Value = serde_json::from_str(&auto.stdout).unwrap();
        assert_eq!(json["decided_by"]["distinct_values"], 1, "{json}");
        assert_eq!(json["decided_by"]["search"], 0, "{json}");
        assert_eq!(json["steps"], 0);
        let search = faultline(&["check", &path, "--algorithm", "search", "--json"]);
        assert_eq!(search.code, code, "{search:?}");
        let json_search: serde_json::Value = serde_json::from_str(&search.stdout).unwrap();
        assert_eq!(json_search["decided_by"]["search"], 1);
        if violation {
            // A window of a few operations, not the key's 3,000, with the culprit.
            let cx = &json["counterexample"];
            assert_eq!(cx["algorithm"], "distinct-values");
            assert_eq!(cx["key_operations"], 3000);
            let window = cx["sub_history"].as_array().unwrap();
            assert!(window.len() <= 4, "{cx}");
            assert!(window.contains(&cx["culprit"]), "{cx}");
            assert_eq!(json_search["counterexample"]["algorithm"], "search");
            let text = faultline(&["check", &path]);
            assert!(text
                .stdout
                .contains("decided by: the distinct-values check (1 key)"));
            assert!(
                text.stdout.contains(
                    "3000 operations, not linearizable; these 3 are not linearizable on their own"
                ),
                "{}",
                text.stdout
            );
        } else {
            let text = faultline(&["check", &path, "--algorithm", "search"]);
            assert!(
                text.stdout.contains("decided by: the search (1 key)"),
                "{}",
                text.stdout
            );
        }
    }
    let bad = faultline(&["check", &out("ok.jsonl"), "--algorithm", "fastest"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(
        bad.stderr.contains("expected auto or search"),
        "{}",
        bad.stderr
    );
}

/// Regression. Postmortem: `gave_up_ns` (when a client stopped waiting
/// without an answer) is a field of faultline's own `history.jsonl`, and
/// the import read it, but the list of the format's fields lacked it: a
/// run's history with a give-up was checked with a warning that the
/// field was ignored, and `--strict` refused faultline's own file.
#[test]
fn regression_a_runs_own_history_with_give_ups_checks_under_strict() {
    let dir = faultline_e2e::scratch("check-gave-up");
    let out = dir.display().to_string();
    let run = faultline(&[
        "run",
        "raft-majority-partition",
        "--no-report",
        "--out",
        &out,
    ]);
    assert!(run.code == 0 || run.code == 1, "{run:?}");
    let history = dir.join("history.jsonl");
    let text = std::fs::read_to_string(&history).unwrap();
    assert!(
        text.contains("gave_up_ns"),
        "the partition makes clients give up"
    );
    let path = history.display().to_string();
    let strict = faultline(&["check", &path, "--strict"]);
    assert_eq!(strict.code, 0, "{strict:?}");
    assert!(!strict.stdout.contains("warning"), "{}", strict.stdout);
}

/// A lock's run writes its own acquires and releases as mutex.edn, and
/// `check --model mutex` gives the run's own `mutex` verdict: with fencing
/// the resource is safe (invariants pass) while the lock itself gave two
/// clients the lock at once (the paused holder's and the next one's).
#[test]
fn a_locks_own_history_is_written_and_checked_as_a_mutex() {
    for fencing in ["true", "false"] {
        let dir = faultline_e2e::scratch(&format!("lock-mutex-{fencing}"));
        let out = dir.display().to_string();
        let fencing_set = format!("protocol.Lock.fencing={fencing}");
        let run = faultline(&[
            "run",
            "lock-gc-pause",
            "--seed",
            "0",
            "--no-report",
            "--set",
            &fencing_set,
            "--set",
            r#"checks=["invariants","mutex"]"#,
            "--out",
            &out,
        ]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stdout.contains("mutex                FAIL"),
            "{}",
            run.stdout
        );
        assert_eq!(
            run.stdout.contains("invariants           PASS"),
            fencing == "true",
            "{}",
            run.stdout
        );
        let edn = dir.join("mutex.edn").display().to_string();
        let check = faultline(&["check", &edn, "--model", "mutex"]);
        assert_eq!(check.code, 1, "{check:?}");
        assert!(check.stdout.contains("INVALID"), "{}", check.stdout);
    }
    // Without the pause the lock's history is a mutex's.
    let dir = faultline_e2e::scratch("lock-mutex-quiet");
    let out = dir.display().to_string();
    let run = faultline(&[
        "run",
        "lock-gc-pause",
        "--no-report",
        "--set",
        "faults.schedule=[]",
        "--set",
        r#"checks=["invariants","mutex"]"#,
        "--out",
        &out,
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let edn = dir.join("mutex.edn").display().to_string();
    let check = faultline(&["check", &edn, "--model", "mutex"]);
    assert_eq!(check.code, 0, "{check:?}");
}
