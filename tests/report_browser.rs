//! `report.html` in a real browser: headless Chromium opens it with no
//! console error and draws a page that is not blank.
//!
//! Needs Chromium (`chromium`, `chromium-browser` or `google-chrome` on the
//! PATH, or its path in `CHROMIUM`). `.ci/run` installs Debian's
//! `chromium` when it is missing; elsewhere, install it first. It is in
//! the heavy tier, so the README's test command needs no browser.

use faultline_e2e::{faultline, scratch};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Chromium gets this long to draw the page.
const BROWSER_SECONDS_MAX: u64 = 120;

fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "the report's browser test needs Chromium: install it (Debian: apt-get install chromium; `.ci/run` does) or set CHROMIUM to its path"
    );
}

/// Opens `page` headless and screenshots it; returns what Chromium logged.
fn screenshot(page: &Path, png: &Path, profile: &Path) -> String {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("chromium is waited for").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(BROWSER_SECONDS_MAX) {
            let _ = child.kill();
            panic!("chromium did not finish within {BROWSER_SECONDS_MAX} s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().expect("chromium's output");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
#[ignore = "heavy tier (needs Chromium): cargo test --workspace --release --tests -- --ignored"]
fn the_run_report_opens_in_chromium_without_errors_and_is_not_blank() {
    let dir = scratch("report-browser");
    let run = faultline(&[
        "run",
        "raft-leader-crash",
        "--seed",
        "1",
        "--out",
        dir.join("run").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let page = std::fs::canonicalize(dir.join("run/report.html")).unwrap();
    let png = dir.join("screenshot.png");
    let log = screenshot(&page, &png, &dir.join("profile"));
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains("CONSOLE")
                && (l.contains("ERROR") || l.contains("Uncaught") || l.contains("Failed to load"))
        })
        .collect();
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    let image = image::open(&png)
        .unwrap_or_else(|e| panic!("no screenshot ({e}); chromium said:\n{log}"))
        .to_rgb8();
    let total = (image.width() * image.height()) as usize;
    let ink = image.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    assert!(
        ink > total / 100,
        "the screenshot is blank ({ink} of {total} pixels)"
    );
}
