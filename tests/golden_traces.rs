//! The curated scenarios' trace hashes for seeds 0..20, pinned.
//!
//! A refactor must not change a single run: the heavy tier replays every
//! curated scenario over 20 seeds and compares each trace hash with
//! `golden/trace_hashes.txt`; the fast tier replays seeds 0 and 1 of each,
//! without reports, against the same file. A change that is meant to alter
//! runs (a new rule, a new model) updates the file in the same commit, and
//! says so:
//! `FAULTLINE_BLESS=1 cargo test --profile ci -p faultline-e2e --test golden_traces -- --include-ignored`
//! rewrites it.

use faultline_e2e::{faultline, repo_root};
use serde_json::Value;

/// The seeds pinned, and those the fast tier replays.
const SEEDS: &str = "0..20";
const SEEDS_FAST: &str = "0..2";

/// "scenario group seed hash" lines for every curated scenario over
/// `seeds`, in list order.
fn current(seeds: &str) -> String {
    let list: Value = serde_json::from_str(&faultline(&["list", "--json"]).stdout).unwrap();
    // One folder per seed range: both tests may run at once.
    let dir = std::env::temp_dir().join(format!(
        "faultline-golden-{}-{}",
        std::process::id(),
        seeds.replace("..", "-")
    ));
    let mut lines = String::new();
    for scenario in list["scenarios"].as_array().unwrap() {
        let name = scenario["name"].as_str().unwrap();
        let out = dir.join(name).display().to_string();
        let result = faultline(&[
            "sweep",
            name,
            "--seeds",
            seeds,
            "--out",
            &out,
            "--force",
            "--jobs",
            "2",
            "--json",
            "--no-report",
        ]);
        assert!(result.code != 2, "{name}: {result:?}");
        let results = std::fs::read_to_string(dir.join(name).join("results.jsonl")).unwrap();
        let mut units: Vec<(u64, u64, String)> = results
            .lines()
            .skip(1)
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .map(|u| {
                let hash = u["trace_hash"].as_str().unwrap_or("none").to_string();
                (
                    u["group"].as_u64().unwrap(),
                    u["seed"].as_u64().unwrap(),
                    hash,
                )
            })
            .collect();
        units.sort();
        for (group, seed, hash) in units {
            lines.push_str(&format!("{name} {group} {seed} {hash}\n"));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    lines
}

#[test]
#[ignore = "heavy tier: cargo test --workspace --profile ci --tests -- --ignored"]
fn every_curated_scenario_replays_its_pinned_trace_hashes() {
    let golden = repo_root().join("tests/golden/trace_hashes.txt");
    let now = current(SEEDS);
    if std::env::var_os("FAULTLINE_BLESS").is_some() {
        std::fs::write(&golden, &now).unwrap();
        return;
    }
    let pinned = std::fs::read_to_string(&golden).unwrap();
    compare(&pinned, &now);
}

/// The fast tier's share: seeds 0 and 1 of every curated scenario.
#[test]
fn every_curated_scenario_replays_its_first_pinned_seeds() {
    let golden = repo_root().join("tests/golden/trace_hashes.txt");
    let pinned: String = std::fs::read_to_string(&golden)
        .unwrap()
        .lines()
        .filter(|line| {
            let seed: u64 = line.split(' ').nth(2).unwrap().parse().unwrap();
            seed < 2
        })
        .map(|line| format!("{line}\n"))
        .collect();
    compare(&pinned, &current(SEEDS_FAST));
}

fn compare(pinned: &str, now: &str) {
    let changed: Vec<String> = pinned
        .lines()
        .zip(now.lines())
        .filter(|(a, b)| a != b)
        .take(10)
        .map(|(a, b)| format!("pinned {a}, now {b}"))
        .collect();
    assert!(
        changed.is_empty() && pinned.lines().count() == now.lines().count(),
        "trace hashes changed (first 10 shown; {} lines pinned, {} now):\n{}\nIf the change is meant to alter runs, rerun with FAULTLINE_BLESS=1 and say so in the commit.",
        pinned.lines().count(),
        now.lines().count(),
        changed.join("\n")
    );
}
