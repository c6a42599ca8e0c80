//! History import: data-driven cases with the exact error text for bad
//! input, and fuzzing: random and mutated input never panics.

use proptest::prelude::*;
use sim_core::history::import::{import, Format};
use sim_core::history::{Function, Outcome};

fn check(text: &str, format: Format, expected: Result<usize, &str>) {
    match (import(text, format, "h"), expected) {
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
        "{:process :nemesis, :type :info, :f :start, :value nil}",
        Format::Edn,
        Ok(0),
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
fn nesting_is_bounded() {
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    check(
        &deep,
        Format::Edn,
        Err("h:1: nesting deeper than 32 levels"),
    );
}

fn corpus_samples() -> Vec<String> {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/histories/porcupine");
    ["jepsen/etcd_000.log", "kv/c01-ok.txt"]
        .iter()
        .map(|f| {
            std::fs::read_to_string(root.join(f))
                .unwrap()
                .lines()
                .take(60)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,300}", format in 0..5usize) {
        let format = [Format::Auto, Format::Edn, Format::PorcupineEtcd, Format::PorcupineKv, Format::Jsonl][format];
        let _ = import(&text, format, "fuzz");
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
        if let Ok(imported) = import(&text, Format::Auto, "fuzz") {
            // Whatever imports must also check without panicking.
            let model = sim_core::checker::model::KvModel { initial: imported.initial.unwrap_or_default() };
            let budget = sim_core::checker::Budget { steps_max: 100_000, ..Default::default() };
            let _ = sim_core::checker::linearizability::check(&imported.history, &model, &budget);
        }
    }
}
