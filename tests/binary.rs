//! The installed binary, run as a user runs it: from an empty folder, with
//! stderr a pipe (as in CI). A test of the root package (it needs
//! `CARGO_BIN_EXE_faultline`); the in-process tests live in this folder's
//! `faultline-e2e` crate.

use std::path::PathBuf;
use std::process::Command;

fn empty_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faultline-bin-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn faultline(dir: &PathBuf, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn curated_scenarios_run_by_name_from_an_empty_folder() {
    let dir = empty_dir("curated");
    let out = faultline(&dir, &["run", "quickstart"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("reproduce: faultline run quickstart --seed 1"),
        "{stdout}"
    );
    assert!(dir
        .join("faultline-out/quickstart/seed-1/resolved.ron")
        .exists());
    // The resolved file reproduces the run from that folder too.
    let again = faultline(
        &dir,
        &[
            "run",
            "faultline-out/quickstart/seed-1/resolved.ron",
            "--out",
            "again",
        ],
    );
    assert!(again.status.success(), "{again:?}");
}

#[test]
fn a_file_in_the_folder_wins_over_a_curated_name() {
    let dir = empty_dir("path-wins");
    let curated = faultline(&dir, &["show", "quickstart"]);
    let text = String::from_utf8(curated.stdout).unwrap();
    std::fs::write(
        dir.join("quickstart"),
        text.replace("name: \"quickstart\"", "name: \"mine\""),
    )
    .unwrap();
    let out = faultline(&dir, &["run", "quickstart", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["scenario"], "mine");
}

#[test]
fn a_sweep_with_stderr_piped_prints_progress_lines() {
    let dir = empty_dir("progress");
    let out = faultline(
        &dir,
        &[
            "sweep",
            "quickstart",
            "--seeds",
            "0..4",
            "--progress-every",
            "0",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("progress: 4/4 seeds (100%)")),
        "{stderr}"
    );
}

/// Postmortem (issue: sweeps in the CLI): a results file that could not be
/// written (a full disk) panicked the sweep (`expect("results file
/// writable")`), which also broke the rule of one JSON object on every
/// exit. Now it is an error, exit 2, with how to go on. A file-size limit
/// stands in for a full disk: with SIGXFSZ ignored, a write past it fails
/// with EFBIG, as one to a full disk fails with ENOSPC.
#[test]
fn a_results_file_that_cannot_be_written_is_an_error_not_a_panic() {
    let dir = empty_dir("full-disk");
    let script = format!(
        "trap '' XFSZ; ulimit -f 8; exec '{}' sweep quickstart --seeds 0..40 --jobs 1 --no-report --out full --json",
        env!("CARGO_BIN_EXE_faultline")
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let error: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("cannot write the results") && message.contains("--resume"),
        "{message}"
    );
}
