//! History import: data-driven cases with the exact error text for bad
//! input, and fuzzing: random and mutated input never panics.

use proptest::prelude::*;
use sim_core::history::import::{import, Format};
use sim_core::history::stream::import_reader;
use sim_core::history::{Function, Outcome};

/// Imports `text` whole and streamed; both must give the same answer.
fn both(text: &str, format: Format) -> Result<sim_core::history::import::Imported, String> {
    let whole = import(text, format, "h").map_err(|e| e.to_string());
    let streamed = import_reader(&mut text.as_bytes(), format, "h").map_err(|e| e.to_string());
    match (&whole, &streamed) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.history, b.history, "{text}");
            assert_eq!(
                (a.format, &a.initial, &a.unknown_fields),
                (b.format, &b.initial, &b.unknown_fields),
                "{text}"
            );
        }
        // Both refuse it; which error comes first may differ (the whole
        // text is parsed before any event is paired, a stream pairs as it
        // reads). The data-driven cases pin both messages.
        (Err(_), Err(_)) => {}
        _ => panic!("{text}: whole {whole:?}, streamed {streamed:?}"),
    }
    whole
}

fn check(text: &str, format: Format, expected: Result<usize, &str>) {
    if let Err(message) = expected {
        let streamed = import_reader(&mut text.as_bytes(), format, "h").map_err(|e| e.to_string());
        assert_eq!(streamed.err().as_deref(), Some(message), "streamed: {text}");
    }
    match (both(text, format), expected) {
        (Ok(imported), Ok(ops)) => assert_eq!(imported.history.len(), ops, "{text}"),
        (Err(error), Err(message)) => assert_eq!(error, message, "{text}"),
        (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn well_formed_histories_import() {
    check("{:process 0, :type :invoke, :f :write, :value 3}\n{:process 0, :type :ok, :f :write, :value 3}", Format::Edn, Ok(1));
    check(
        "[{:process 0 :type :invoke :f :read :value nil} {:process 0 :type :ok :f :read :value 3}]",
        Format::Edn,
        Ok(1),
    );
    check(
        "{:process :nemesis, :type :info, :f :start, :value nil}\n{:process 0, :type :invoke, :f :write, :value 1}",
        Format::Edn,
        Ok(1),
    );
    check("INFO  jepsen.util - 1\t:invoke\t:cas\t[3 0]\nINFO  jepsen.util - 1\t:fail\t:cas\t[3 0]\nother log line", Format::Auto, Ok(1));
}

#[test]
fn knossos_nil_reads_are_unknown_and_etcd_nil_reads_are_no_value() {
    let edn = import("{:process 0 :type :invoke :f :read :value nil}\n{:process 0 :type :ok :f :read :value nil}", Format::Edn, "h").unwrap();
    assert_eq!(edn.history.operations[0].value, None);
    let etcd = import(
        "INFO jepsen.util - 0 :invoke :read nil\nINFO jepsen.util - 0 :ok :read nil",
        Format::PorcupineEtcd,
        "h",
    )
    .unwrap();
    assert_eq!(etcd.history.operations[0].value.as_deref(), Some(""));
    let open = import(
        "INFO jepsen.util - 0 :invoke :write 4\nINFO jepsen.util - 0 :info :write :timed-out",
        Format::Auto,
        "h",
    )
    .unwrap();
    let op = &open.history.operations[0];
    assert_eq!(
        (op.f, op.outcome, op.complete_ns, op.value.as_deref()),
        (Function::Write, Outcome::Info, None, Some("4"))
    );
}

#[test]
fn bad_input_names_the_line_and_what_was_expected() {
    check("{:process 0, :type :invoke, :f :write, :value 3}\n{:process 1, :type :ok, :f :write, :value 3}", Format::Edn,
        Err("h:2: process 1 completes a Write it never invoked"));
    check("{:process 0, :type :invoke, :f :write, :value 3}\n{:process 0, :type :invoke, :f :read, :value nil}", Format::Edn,
        Err("h:2: process 0 invokes Read while its Write invoked earlier is still open (one operation at a time per process)"));
    check("{:process 0, :type :invoke, :f :frob, :value 3}", Format::Edn,
        Err("h:1: expected :f :read, :write, :cas, :get, :put or :append in {:process 0, :type :invoke, :f :frob, :value 3}"));
    check(
        "{:process 0, :type :invoke",
        Format::Edn,
        Err("h:1: missing `}`"),
    );
    check(
        "{:process 0, :type :invoke, :f :cas, :value 3}",
        Format::Edn,
        Err("h:1: a cas needs [expected new], got 3"),
    );
    check(
        "INFO jepsen.util - x :invoke :read nil",
        Format::PorcupineEtcd,
        Err("h:1: expected a process number in `INFO jepsen.util - x :invoke :read nil`"),
    );
    check(
        "{\"process\": 0}",
        Format::Jsonl,
        Err("h:1: missing field `f` at line 1 column 14"),
    );
    check("{:process 0, :type :invoke, :f :read, :key 1.5}", Format::PorcupineKv,
        Err("h:1: expected :key with a string or integer in {:process 0, :type :invoke, :f :read, :key 1.5}"));
}

#[test]
fn a_history_without_operations_is_an_error_not_a_pass() {
    for text in [
        "",
        "   ",
        "\n\n\n",
        "\u{feff}",
        "[]",
        "{:process :nemesis, :type :info, :f :start, :value nil}",
    ] {
        let error = import(text, Format::Auto, "h").unwrap_err();
        assert_eq!((error.file.as_str(), error.line), ("h", None));
        assert!(
            error.message.starts_with("no operations"),
            "{text:?}: {error}"
        );
    }
}

#[test]
fn a_byte_order_mark_and_json_arrays_are_detected() {
    let line = r#"{"process":0,"f":"write","key":"k","value":"1","outcome":"ok","invoke_ns":1,"complete_ns":2}"#;
    let bom = format!("\u{feff}{line}\n");
    assert_eq!(sim_core::history::import::detect(&bom), Format::Jsonl);
    assert_eq!(import(&bom, Format::Auto, "h").unwrap().history.len(), 1);
    let array = format!("[\n  {line},\n  {line}\n]");
    let imported = import(&array, Format::Auto, "h").unwrap();
    assert_eq!((imported.format, imported.history.len()), (Format::Json, 2));
    // Jepsen's events as JSON, as `jepsen.history` writes them.
    let jepsen = r#"[{"process": 0, "type": "invoke", "f": "write", "value": 3, "time": 10},
        {"process": 0, "type": "ok", "f": "write", "value": 3, "time": 12},
        {"process": 1, "type": "invoke", "f": "read", "value": null},
        {"process": 1, "type": "ok", "f": "read", "value": 3}]"#;
    let imported = import(jepsen, Format::Auto, "h").unwrap();
    assert_eq!(imported.format, Format::Json);
    let ops = &imported.history.operations;
    assert_eq!(
        (ops[0].f, ops[0].value.as_deref()),
        (Function::Write, Some("3"))
    );
    assert_eq!(
        (ops[1].f, ops[1].value.as_deref()),
        (Function::Read, Some("3"))
    );
    assert!(
        imported.unknown_fields.is_empty(),
        "{:?}",
        imported.unknown_fields
    );
    // EDN vectors are still EDN.
    assert_eq!(
        sim_core::history::import::detect("[{:process 0 :type :invoke :f :read}]"),
        Format::Edn
    );
}

#[test]
fn unknown_fields_are_reported_with_their_first_line() {
    let edn = "{:process 0, :type :invoke, :f :write, :value 3, :valeu 3, :time 5}\n{:process 0, :type :ok, :f :write, :value 3, :extra 1}";
    let imported = import(edn, Format::Edn, "h").unwrap();
    assert_eq!(
        imported.unknown_fields,
        [("valeu".to_string(), 1), ("extra".to_string(), 2)]
    );
    let jsonl = r#"{"process":0,"f":"write","key":"k","value":"1","outcome":"ok","invoke_ns":1,"complete_ns":2,"note":"x"}"#;
    let imported = import(jsonl, Format::Jsonl, "h").unwrap();
    assert_eq!(imported.unknown_fields, [("note".to_string(), 1)]);
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    check(
        &deep,
        Format::Edn,
        Err("h:1: nesting deeper than 32 levels"),
    );
}

/// Seeds for mutation: the first lines of two real histories where the
/// external corpus is named (`FAULTLINE_SHARED`, CI), and histories of the
/// same shapes written here otherwise (a fresh clone has no corpus).
fn corpus_samples() -> Vec<String> {
    let root = sim_core::testkit::shared_corpus("histories/porcupine");
    let own = [
        "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\t3\nINFO  jepsen.util - 2\t:invoke\t:cas\t[3 4]\nINFO  jepsen.util - 2\t:fail\t:cas\t[3 4]\nINFO  jepsen.util - 0\t:invoke\t:write\t1\nINFO  jepsen.util - 0\t:info\t:write\t:timed-out",
        "{:process 0, :type :invoke, :f :put, :key \"1\", :value \"x 0 0 y\"}\n{:process 0, :type :ok, :f :put, :key \"1\", :value \"x 0 0 y\"}\n{:process 1, :type :invoke, :f :get, :key \"1\", :value nil}\n{:process 1, :type :ok, :f :get, :key \"1\", :value \"x 0 0 y\"}",
    ];
    ["jepsen/etcd_000.log", "kv/c01-ok.txt"]
        .iter()
        .zip(own)
        .map(
            |(f, own)| match root.as_ref().map(|r| std::fs::read_to_string(r.join(f))) {
                Some(Ok(text)) => text.lines().take(60).collect::<Vec<_>>().join("\n"),
                _ => own.to_string(),
            },
        )
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,300}", format in 0..6usize) {
        let format = [Format::Auto, Format::Edn, Format::PorcupineEtcd, Format::PorcupineKv, Format::Jsonl, Format::Json][format];
        let _ = both(&text, format);
    }

    #[test]
    fn mutated_histories_never_panic(which in 0..2usize, cuts in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut bytes = corpus_samples()[which].clone().into_bytes();
        for (at, byte) in cuts {
            if bytes.is_empty() { break; }
            let i = at % bytes.len();
            if byte % 3 == 0 { bytes.remove(i); } else { let table = b"{}[]():\" \n-0123456789abc"; bytes[i] = table[byte as usize % table.len()]; }
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(imported) = both(&text, Format::Auto) {
            // Whatever imports must also check without panicking.
            let model = sim_core::checker::model::KvModel { initial: imported.initial.unwrap_or_default() };
            let budget = sim_core::checker::Budget { steps_max: 100_000, ..Default::default() };
            let _ = sim_core::checker::linearizability::check(&imported.history, &model, &budget);
        }
    }
}

#[test]
fn a_streamed_history_is_read_a_line_at_a_time_with_forms_over_several_lines() {
    // Jepsen writes some maps over several lines; a vector holds a whole history.
    let multi = "{:process 0,\n :type :invoke,\n :f :write, :value 3}\n{:process 0, :type :ok, :f :write, :value 3}\n; a comment\n{:process 1 :type :invoke :f :read :value nil} {:process 1 :type :ok :f :read :value 3}";
    assert_eq!(both(multi, Format::Auto).unwrap().history.len(), 2);
    let open_form = "{:process 0, :type :invoke, :f :write, :value 3}\n{:process 0, :type :ok,";
    assert_eq!(
        both(open_form, Format::Edn).unwrap_err(),
        "h:2: missing `}`"
    );
    let jsonl = "{\"process\":0,\"f\":\"write\",\"key\":\"k\",\"value\":\"1\",\"outcome\":\"ok\",\"invoke_ns\":1,\"complete_ns\":2}\r\n\n{\"process\":1,\"f\":\"read\",\"key\":\"k\",\"outcome\":\"info\",\"invoke_ns\":3,\"gave_up_ns\":9}";
    let imported = both(jsonl, Format::Auto).unwrap();
    assert_eq!(imported.history.len(), 2);
    assert!(
        imported.unknown_fields.is_empty(),
        "gave_up_ns is a field of the format"
    );
    let bad = "{\"process\":0,\"f\":\"write\",\"key\":\"k\",\"outcome\":\"ok\",\"invoke_ns\":1,\"complete_ns\":2}";
    assert_eq!(
        both(bad, Format::Jsonl).unwrap_err(),
        "h:1: a write, append, transfer, order or txn needs a value"
    );
}
