//! `faultline check` on the hand-written histories of Jepsen's workload
//! family (tests/histories/README.md gives each verdict), in EDN, JSON and
//! the Plume format; and the bad-input corpus of the new formats: each
//! exits 2 with the file, the line and what is wrong.

use faultline_e2e::{faultline, one_json, repo_root};

fn fixture(name: &str) -> String {
    repo_root()
        .join("tests/histories")
        .join(name)
        .display()
        .to_string()
}

fn check(name: &str, model: &str, extra: &[&str]) -> (u8, serde_json::Value) {
    let path = fixture(name);
    let mut args = vec!["check", path.as_str(), "--model", model, "--json"];
    args.extend_from_slice(extra);
    let result = faultline(&args);
    assert!(result.code == 0 || result.code == 1, "{name}: {result:?}");
    (result.code, one_json(&result.stdout))
}

fn names(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn list_append_anomalies_and_models() {
    let (code, json) = check("list-append-g-single.edn", "list-append", &[]);
    assert_eq!(code, 1);
    assert!(
        json["anomaly_counts"]["G-single"].as_u64() >= Some(1),
        "{json}"
    );
    assert_eq!(names(&json["strongest_consistent"]), vec!["read-committed"]);
    assert!(names(&json["ruled_out"]).contains(&"snapshot-isolation".to_string()));
    // Asking only for read committed: it holds.
    let (code, _) = check(
        "list-append-g-single.edn",
        "list-append",
        &["--consistency-models", "read-committed"],
    );
    assert_eq!(code, 0);

    let (code, json) = check("list-append-g2.json", "list-append", &[]);
    assert_eq!(code, 1);
    assert_eq!(json["format"], "json");
    assert_eq!(json["anomaly_counts"]["G2-item"], 1, "{json}");
    let (code, _) = check(
        "list-append-g2.json",
        "list-append",
        &["--consistency-models", "snapshot-isolation,causal"],
    );
    assert_eq!(code, 0, "write skew is allowed by snapshot isolation");

    let (code, json) = check("list-append-ok.edn", "list-append", &[]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(
        names(&json["strongest_consistent"]),
        vec!["strict-serializable"]
    );
}

#[test]
fn rw_register_and_plume() {
    let (code, json) = check("rw-register-g1c.edn", "rw-register", &[]);
    assert_eq!(code, 1);
    assert_eq!(json["anomaly_counts"]["G1c"], 1, "{json}");
    assert!(names(&json["ruled_out"]).contains(&"read-committed".to_string()));

    let (code, json) = check("plume-causal.txt", "rw-register", &[]);
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["format"], "plume");
    assert!(names(&json["ruled_out"]).contains(&"causal".to_string()));
    assert!(!names(&json["ruled_out"]).contains(&"read-atomic".to_string()));

    let (code, json) = check("plume-ok.txt", "rw-register", &[]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(
        names(&json["models_checked"]),
        vec!["read-committed", "read-atomic", "causal"]
    );
    // Serializability needs the version order Plume does not record: unknown, exit 3.
    let path = fixture("plume-ok.txt");
    let result = faultline(&[
        "check",
        &path,
        "--model",
        "rw-register",
        "--consistency-models",
        "serializable",
        "--json",
    ]);
    assert_eq!(result.code, 3, "{result:?}");
    assert!(one_json(&result.stdout)["unknown_reason"]
        .as_str()
        .unwrap()
        .contains("version order"));
}

#[test]
fn workloads_find_their_errors() {
    let (code, json) = check("bank-bad.edn", "bank", &[]);
    assert_eq!(code, 1);
    assert_eq!(json["error_counts"]["wrong-total"], 1, "{json}");
    assert_eq!(json["error_counts"]["negative-balance"], 1);
    let (code, json) = check("bank-bad.edn", "bank", &["--negative-balances"]);
    assert_eq!(code, 1);
    assert!(json["error_counts"].get("negative-balance").is_none());
    let (code, _) = check("bank-ok.json", "bank", &["--total", "100"]);
    assert_eq!(code, 0);
    let (code, json) = check("bank-ok.json", "bank", &["--total", "90"]);
    assert_eq!(code, 1);
    assert_eq!(json["error_counts"]["wrong-total"], 2);

    let (code, json) = check("counter-bad.edn", "counter", &[]);
    assert_eq!(code, 1);
    assert_eq!(json["error_counts"]["read-too-high"], 1, "{json}");

    let (code, json) = check("set-lost.edn", "set", &[]);
    assert_eq!(code, 1);
    assert_eq!(json["error_counts"]["lost"], 1, "{json}");
    assert_eq!(json["stats"]["recovered"], 1.0);

    let (code, json) = check("set-full-stale.edn", "set-full", &[]);
    assert_eq!(code, 1);
    assert_eq!(json["error_counts"]["stale"], 1, "{json}");
    assert_eq!(json["error_counts"]["lost"], 1);

    let (code, json) = check("long-fork.edn", "long-fork", &[]);
    assert_eq!(code, 1);
    assert_eq!(json["error_counts"]["long-fork"], 1, "{json}");

    let (code, _) = check("mutex-bad.edn", "mutex", &[]);
    assert_eq!(code, 1);
    let (code, _) = check("mutex-ok.edn", "mutex", &[]);
    assert_eq!(code, 0);
}

#[test]
fn the_explanation_walks_through_the_cycle_and_the_page_draws_it() {
    let path = fixture("list-append-g-single.edn");
    let dir = faultline_e2e::scratch("family-html");
    let html = dir.join("counterexample.html");
    let result = faultline(&[
        "check",
        &path,
        "--model",
        "list-append",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(result.code, 1, "{result:?}");
    assert!(result.stdout.contains("T1 read key 7 without 3 (it read the empty list); T0 appended 3, so T1 precedes T0 (rw)."), "{}", result.stdout);
    assert!(result
        .stdout
        .contains("T1 read key 9 ending in 5, which T0 appended, so T0 precedes T1 (wr)."));
    assert!(result.stdout.contains("a cycle, G-single"));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<svg") && page.contains("G-single"),
        "the page shows the cycle"
    );
    assert!(dir.join("counterexample-G-single.png").exists());
    assert!(dir.join("counterexample-G-single.svg").exists());
}

fn scratch_file(name: &str, text: &str) -> String {
    let dir = faultline_e2e::scratch(&format!("family-{name}"));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Each bad file exits 2, naming the line and the field or what is wrong.
#[test]
fn bad_input_is_refused_with_its_line() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("empty.edn", "", "list-append", "no operations"),
        ("empty.txt", "\n\n", "bank", "no operations"),
        ("mop.edn", "{:process 0, :type :invoke, :f :txn, :value [[:push 1 2]]}\n", "list-append", ":1: field `value`, micro-op 1: :push is not a list-append micro-op"),
        ("short.edn", "{:process 0, :type :invoke, :f :txn, :value [[:append 1]]}\n", "list-append", ":1: field `value`, micro-op 1: expected three parts"),
        ("val.edn", "{:process 0, :type :invoke, :f :txn, :value [[:append 1 \"x\"]]}\n", "list-append", "an appended value must be an integer"),
        ("mixed.edn", "{:process 0, :type :invoke, :f :txn, :value [[:append 1 1]]}\n{:process 0, :type :ok, :f :txn, :value [[:append 1 1]]}\n{:process 1, :type :invoke, :f :txn, :value [[:w 1 1]]}\n", "list-append", ":3: field `value`, micro-op 1: :w is not a list-append micro-op"),
        ("notxn.edn", "{:process 0, :type :invoke, :f :read, :value nil}\n", "list-append", ":1: field `f`: :read is not a transaction"),
        ("dup.edn", "{:process 0, :type :invoke, :f :txn, :value [[:append 1 1]]}\n{:process 0, :type :ok, :f :txn, :value [[:append 1 1]]}\n{:process 1, :type :invoke, :f :txn, :value [[:append 1 1]]}\n{:process 1, :type :ok, :f :txn, :value [[:append 1 1]]}\n", "list-append", "appended to key 1 twice"),
        ("okread.edn", "{:process 0, :type :invoke, :f :txn, :value [[:r 1 nil]]}\n{:process 0, :type :ok, :f :txn, :value [[:r 1 nil]]}\n", "list-append", "needs its list"),
        ("plume.txt", "w(1,1,0,0)\nx(1,1,0,0)\n", "rw-register", ":2: unknown micro-op"),
        ("plume2.txt", "w(1,1,0,0)\nr(1,a,0,0)\n", "rw-register", ":2: field `value` is not an integer"),
        ("plume3.txt", "w(1,1,0)\n", "rw-register", ":1: missing field `txn`"),
        ("plume4.txt", "r(1,1,0,-1)\n", "rw-register", "a read cannot be aborted"),
        ("bank.edn", "{:process 0, :type :invoke, :f :transfer, :value {:from 0}}\n", "bank", ":1: field `value`: a transfer is"),
        ("counter.edn", "{:process 0, :type :invoke, :f :add, :value :x}\n", "counter", ":1: field `value`: an add needs an integer"),
        ("set.edn", "{:process 0, :type :invoke, :f :remove, :value 1}\n", "set", ":1: field `f`: the set model has :add and :read"),
        ("mutex.edn", "{:process 0, :type :invoke, :f :lock, :value nil}\n", "mutex", ":1: field `f`: the mutex model"),
        ("json.json", "{\"process\": 0, \"type\": \"invoke\", \"f\": \"txn\", \"value\": [[\"append\", 1, 2]]}\n{\"process\": 0, \"type\": \"ok\"\n", "list-append", ":2: not a JSON event"),
        ("open.edn", "{:process 0, :type :invoke, :f :txn, :value []}\n{:process 0, :type :invoke, :f :txn, :value []}\n", "list-append", ":2: process 0 invokes :txn while its :txn from line 1 is still open"),
        ("jsonl.jsonl", "{\"process\":0,\"f\":\"txn\",\"txn\":[[\"append\",\"1\",2]],\"outcome\":\"ok\",\"invoke_ns\":5}\n", "list-append", ":1: field `complete_ns`"),
        ("plume-model.txt", "w(1,1,0,0)\n", "list-append", "give --model rw-register"),
    ];
    for (name, text, model, expected) in cases {
        let path = scratch_file(name, text);
        let result = faultline(&["check", &path, "--model", model]);
        assert_eq!(result.code, 2, "{name}: {result:?}");
        assert!(
            result.stderr.contains(expected),
            "{name}: expected {expected:?} in {}",
            result.stderr
        );
        assert!(
            result.stderr.contains(name),
            "{name}: the error names the file: {}",
            result.stderr
        );
        let json = faultline(&["check", &path, "--model", model, "--json"]);
        assert_eq!(json.code, 2);
        assert_eq!(one_json(&json.stdout)["error"]["kind"], "history", "{name}");
    }
}

#[test]
fn unknown_models_and_consistency_models_are_argument_errors() {
    let path = fixture("list-append-ok.edn");
    let result = faultline(&["check", &path, "--model", "list-apend"]);
    assert_eq!(result.code, 2);
    assert!(result.stderr.contains("list-append"), "{}", result.stderr);
    let result = faultline(&[
        "check",
        &path,
        "--model",
        "list-append",
        "--consistency-models",
        "serialisable",
    ]);
    assert_eq!(result.code, 2);
    assert!(
        result.stderr.contains("--consistency-models") && result.stderr.contains("serializable"),
        "{}",
        result.stderr
    );
}

/// A run whose transactions fail the list-append check explains every
/// anomaly in counterexample.html and draws the first in its report.
#[test]
fn a_failing_transactional_run_draws_its_cycle() {
    let dir = faultline_e2e::scratch("family-run");
    let out = dir.join("run");
    let out_text = out.display().to_string();
    let result = faultline(&[
        "run",
        "txn-list-append",
        "--seed",
        "3",
        "--set",
        "protocol.Raft.read_mode=Follower",
        "--out",
        &out_text,
    ]);
    assert_eq!(result.code, 1, "{result:?}");
    let page = std::fs::read_to_string(out.join("counterexample.html")).unwrap();
    assert!(page.contains("G-single") && page.contains("<svg"), "{page}");
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        report.contains("id=\"txn-cycle\""),
        "the report draws the cycle"
    );
    assert!(out.join("txn-cycle.png").exists());
    // The history it wrote explains the same anomaly from the command line.
    let history = out.join("history.jsonl").display().to_string();
    let check = faultline(&["check", &history, "--model", "list-append"]);
    assert_eq!(check.code, 1, "{check:?}");
    assert!(check.stdout.contains("G-single"), "{}", check.stdout);
}

/// Every EDN fixture, written as Jepsen JSON (one object per line), gets
/// the same verdict and the same error counts.
#[test]
fn every_edn_history_gives_the_same_verdict_as_json() {
    use sim_core::history::edn::{Edn, Reader};
    fn json(edn: &Edn) -> serde_json::Value {
        use serde_json::Value;
        match edn {
            Edn::Nil => Value::Null,
            Edn::Bool(b) => Value::Bool(*b),
            Edn::Int(i) => Value::from(*i),
            Edn::Float(f) => Value::from(*f),
            Edn::Str(s) | Edn::Symbol(s) => Value::from(s.clone()),
            Edn::Keyword(k) => Value::from(k.clone()),
            Edn::Vector(items) | Edn::List(items) | Edn::Set(items) => {
                Value::Array(items.iter().map(json).collect())
            }
            Edn::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let key = match k {
                            Edn::Keyword(s) | Edn::Str(s) | Edn::Symbol(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (key, json(v))
                    })
                    .collect(),
            ),
        }
    }
    let dir = faultline_e2e::scratch("family-json");
    let mut seen = 0;
    for entry in std::fs::read_dir(repo_root().join("tests/histories")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("edn") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let model = [
            "list-append",
            "rw-register",
            "bank",
            "counter",
            "set-full",
            "set",
            "long-fork",
            "mutex",
        ]
        .into_iter()
        .find(|m| stem.starts_with(&format!("{m}-")) || stem == *m)
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut reader = Reader::new(&text);
        let mut lines = String::new();
        while reader.skip_space() {
            lines.push_str(&json(&reader.read().unwrap()).to_string());
            lines.push('\n');
        }
        let json_path = dir.join(format!("{stem}.json"));
        std::fs::write(&json_path, lines).unwrap();
        let (edn_code, edn) = check(&format!("{stem}.edn"), model, &[]);
        let result = faultline(&[
            "check",
            json_path.to_str().unwrap(),
            "--model",
            model,
            "--json",
        ]);
        let from_json = one_json(&result.stdout);
        assert_eq!(result.code, edn_code, "{stem}: {from_json}");
        assert_eq!(from_json["format"], "json", "{stem}");
        for field in [
            "anomaly_counts",
            "error_counts",
            "ruled_out",
            "strongest_consistent",
        ] {
            assert_eq!(from_json[field], edn[field], "{stem}: {field}");
        }
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} EDN fixtures");
}

/// `faultline generate` writes histories `check` finds valid (and, with
/// stale reads, invalid), the same for the same seed; bad flags exit 2.
#[test]
fn generated_histories_round_trip_through_check() {
    let dir = faultline_e2e::scratch("family-generate");
    let path = |name: &str| dir.join(name).display().to_string();
    for (args, file, model, code) in [
        (vec!["--txns", "500"], "la.edn", "list-append", 0u8),
        (
            vec!["--txns", "500", "--stale-percent", "20"],
            "stale.edn",
            "list-append",
            1,
        ),
        (
            vec![
                "--model",
                "rw-register",
                "--format",
                "plume",
                "--txns",
                "500",
                "--writes-per-key",
                "0",
            ],
            "p.txt",
            "rw-register",
            0,
        ),
    ] {
        let out = path(file);
        let mut command = vec!["generate", "--seed", "3", "--out", &out];
        command.extend(args.iter().copied());
        assert_eq!(faultline(&command).code, 0, "{args:?}");
        let first = std::fs::read(&out).unwrap();
        assert_eq!(faultline(&command).code, 0);
        assert_eq!(
            std::fs::read(&out).unwrap(),
            first,
            "the same seed writes the same file"
        );
        let result = faultline(&["check", &out, "--model", model]);
        assert_eq!(result.code, code, "{args:?}: {}", result.stdout);
    }
    for bad in [
        vec!["generate", "--model", "bank"],
        vec!["generate", "--txns", "0"],
        vec!["generate", "--format", "plume"],
        vec!["generate", "--read-percent", "101"],
    ] {
        let result = faultline(&bad);
        assert_eq!(result.code, 2, "{bad:?}: {result:?}");
        assert!(
            result.stderr.contains("--"),
            "{bad:?}: the error names the flag: {}",
            result.stderr
        );
    }
}
