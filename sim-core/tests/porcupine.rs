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
