//! External histories with known verdicts (the corpus `FAULTLINE_SHARED`
//! names, `histories/porcupine` in it; skipped where it is not set): all 102
//! etcd logs and the six kv files, the kv files both per key and as one
//! object, give the verdicts Porcupine's own tests assert.

use sim_core::checker::linearizability::{self, Report};
use sim_core::checker::model::KvModel;
use sim_core::checker::{Budget, Verdict};
use sim_core::history::import::{import, Format};
use sim_core::history::History;
use std::path::PathBuf;

fn corpus() -> Option<PathBuf> {
    sim_core::testkit::shared_corpus("histories/porcupine")
}

const ETCD_LINEARIZABLE: [u32; 23] = [
    2, 5, 7, 18, 25, 31, 38, 45, 48, 49, 51, 53, 56, 67, 75, 76, 80, 87, 92, 98, 100, 101, 102,
];

fn load(path: &PathBuf, format: Format) -> (History, KvModel) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let imported = import(&text, format, &path.display().to_string()).unwrap();
    let initial = imported.initial.unwrap_or_default();
    (imported.history, KvModel { initial })
}

fn check(history: &History, model: &KvModel) -> Report {
    linearizability::check(history, model, &Budget::default())
}

#[test]
fn every_etcd_log_gets_its_known_verdict() {
    let Some(corpus) = corpus() else { return };
    let mut checked = 0;
    for n in 0..=102u32 {
        if n == 95 {
            continue; // Empty: that Jepsen run never started.
        }
        let path = corpus.join(format!("jepsen/etcd_{n:03}.log"));
        let (history, model) = load(&path, Format::Auto);
        assert!(
            history.len() > 10,
            "etcd_{n:03}: only {} operations parsed",
            history.len()
        );
        let expected = if ETCD_LINEARIZABLE.contains(&n) {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        let report = check(&history, &model);
        assert_eq!(report.verdict, expected, "etcd_{n:03}: {report:?}");
        checked += 1;
    }
    assert_eq!(checked, 102);
}

#[test]
fn the_kv_files_get_their_verdicts_per_key_and_as_one_object() {
    let Some(corpus) = corpus() else { return };
    for (name, ops, linearizable) in [
        ("c01-ok", 58, true),
        ("c01-bad", 38, false),
        ("c10-ok", 337, true),
        ("c10-bad", 405, false),
        ("c50-ok", 1712, true),
        ("c50-bad", 2024, false),
    ] {
        let (history, model) = load(&corpus.join(format!("kv/{name}.txt")), Format::Auto);
        assert_eq!(history.len(), ops, "{name}");
        let expected = if linearizable {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        assert_eq!(check(&history, &model).verdict, expected, "{name} per key");
        if name.starts_with("c50") {
            continue; // As one object, c50 is beyond any checker's search; per key is the real test.
        }
        let one_object = linearizability::check_whole(&history, &model, &Budget::default());
        assert_eq!(one_object.verdict, expected, "{name} as one object");
    }
}

/// Whether every write and compare-and-set to the key writes a value no
/// other does and not the initial one, with no appends: the histories the
/// distinct-values check must decide (counted here on their own, not by
/// asking the check).
fn distinct_writes(ops: &[&sim_core::history::Operation], initial: &str) -> bool {
    use sim_core::history::{Function, Outcome};
    let mut written = std::collections::BTreeSet::new();
    ops.iter().all(|op| match op.f {
        _ if op.outcome == Outcome::Fail => true,
        Function::Read => true,
        Function::Write | Function::Cas => op
            .value
            .as_deref()
            .is_some_and(|v| v != initial && written.insert(v.to_string())),
        _ => false,
    })
}

#[test]
fn the_distinct_values_check_decides_every_distinct_value_key_as_the_search_does() {
    use sim_core::checker::distinct_values::{self, KeyVerdict};
    let Some(corpus) = corpus() else { return };
    let mut files: Vec<PathBuf> = Vec::new();
    for sub in ["jepsen", "kv"] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(corpus.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "log" || e == "txt"))
            .collect();
        found.sort();
        files.extend(found);
    }
    let (mut keys, mut eligible, mut decided) = (0, 0, 0);
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let Ok(imported) = import(&text, Format::Auto, &path.display().to_string()) else {
            continue; // The empty etcd log.
        };
        let initial = imported.initial.clone().unwrap_or_default();
        let model = KvModel {
            initial: initial.clone(),
        };
        let history = imported.history;
        let mut by_key: std::collections::BTreeMap<&str, Vec<&sim_core::history::Operation>> =
            Default::default();
        for op in &history.operations {
            by_key.entry(op.key.as_str()).or_default().push(op);
        }
        for (key, ops) in by_key {
            keys += 1;
            let fast = distinct_values::check_key(&ops, &initial);
            let expected = distinct_writes(&ops, &initial);
            assert_eq!(
                !matches!(fast, KeyVerdict::NotApplicable(_)),
                expected,
                "{} key {key}: {fast:?}",
                path.display()
            );
            if !expected {
                continue;
            }
            eligible += 1;
            let alone = History {
                operations: ops.into_iter().cloned().collect(),
            };
            let search = linearizability::check_with(
                &alone,
                &model,
                &Budget::default(),
                linearizability::Algorithms::SearchOnly,
            )
            .verdict;
            let verdict = match fast {
                KeyVerdict::Linearizable => Verdict::Pass,
                _ => Verdict::Fail,
            };
            assert_eq!(verdict, search, "{} key {key}", path.display());
            decided += 1;
        }
    }
    eprintln!(
        "{} files, {keys} keys: {eligible} with distinct writes, all {decided} decided as the search decides",
        files.len()
    );
    assert_eq!(decided, eligible);
    assert!(keys > 100, "the corpus was read");
}

/// No key of the corpus writes distinct values (etcd's tests write 0 to 4,
/// the kv files append). Each etcd log up to its first repeated write is
/// one that does, with a real system's timing: the two algorithms must
/// agree on every such prefix.
#[test]
fn etcd_logs_cut_before_their_first_repeated_write_get_the_searchs_verdict() {
    use sim_core::history::{Function, Outcome};
    let Some(corpus) = corpus() else { return };
    let (mut prefixes, mut failing, mut operations) = (0, 0, 0);
    for n in 0..=102u32 {
        if n == 95 {
            continue;
        }
        let (history, model) = load(
            &corpus.join(format!("jepsen/etcd_{n:03}.log")),
            Format::Auto,
        );
        let mut written = std::collections::BTreeSet::new();
        let cut = history
            .operations
            .iter()
            .position(|op| {
                matches!(op.f, Function::Write | Function::Cas)
                    && op.outcome != Outcome::Fail
                    && !written.insert(op.value.clone())
            })
            .unwrap_or(history.len());
        let prefix = History {
            operations: history.operations[..cut].to_vec(),
        };
        let by = |algorithms| {
            linearizability::check_with(&prefix, &model, &Budget::default(), algorithms)
        };
        let auto = by(linearizability::Algorithms::Auto);
        let search = by(linearizability::Algorithms::SearchOnly);
        assert_eq!(auto.verdict, search.verdict, "etcd_{n:03} cut at {cut}");
        assert_eq!(
            auto.decided_by.search, 0,
            "etcd_{n:03}: decided without a search"
        );
        prefixes += 1;
        operations += cut;
        failing += usize::from(auto.verdict == Verdict::Fail);
    }
    eprintln!("{prefixes} prefixes, {operations} operations, {failing} not linearizable");
    assert_eq!(prefixes, 102);
}
