//! End-to-end: `faultline bench pingpong` prints one JSON object with the
//! fields the benchmark promises, reproducibly, and rejects bad input with exit 2.

use faultline_e2e::faultline;

#[test]
fn pingpong_json_has_the_promised_fields_and_is_reproducible() {
    let run = || {
        faultline(&[
            "bench",
            "pingpong",
            "--nodes",
            "50",
            "--messages",
            "20000",
            "--json",
        ])
    };
    let (first, second) = (run(), run());
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.stdout.lines().count(), 1, "exactly one JSON line");
    let json: serde_json::Value = serde_json::from_str(&first.stdout).unwrap();
    for field in [
        "nodes",
        "delivered_messages",
        "wall_seconds",
        "messages_per_second",
        "peak_rss_bytes",
        "trace_hash",
    ] {
        assert!(json.get(field).is_some(), "missing {field}: {json}");
    }
    assert_eq!(json["nodes"], 50);
    assert_eq!(json["delivered_messages"], 20000);
    let again: serde_json::Value = serde_json::from_str(&second.stdout).unwrap();
    assert_eq!(
        json["trace_hash"], again["trace_hash"],
        "same seed, same trace"
    );
}

#[test]
fn pingpong_text_output_prints_seed_and_reproduce_command() {
    let out = faultline(&[
        "bench",
        "pingpong",
        "--nodes",
        "5",
        "--messages",
        "1000",
        "--seed",
        "9",
    ]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("seed 9"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("reproduce: faultline bench pingpong --nodes 5 --messages 1000 --seed 9"),
        "{}",
        out.stdout
    );
}

#[test]
fn bad_bench_input_exits_2_with_a_reason() {
    let out = faultline(&["bench", "pingpong", "--nodes", "1"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (2, "error: --nodes must be between 2 and 5000000, got 1\n")
    );
    let out = faultline(&["bench", "pingpong", "--nodes", "many"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("invalid value 'many'"),
        "{}",
        out.stderr
    );
}
