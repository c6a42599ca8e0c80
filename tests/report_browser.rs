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

/// One drawn element of a chart's SVG, as the visual test reads it.
#[derive(Debug)]
struct Element {
    tag: String,
    /// Its box: (x0, y0, x1, y1), estimated for text.
    bounds: (f64, f64, f64, f64),
    /// Its stroke or fill colour ("#0072B2"), when it has one.
    colour: Option<String>,
    /// A text's content.
    text: Option<String>,
    font_px: f64,
    rotated: bool,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(tag[at..at + tag[at..].find('"')?].to_string())
}

fn num(tag: &str, name: &str) -> f64 {
    attr(tag, name).and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

/// The SVG's drawn elements in document order (the background first).
fn elements(svg: &str) -> Vec<Element> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        let name: String = tag.chars().take_while(|c| c.is_alphanumeric()).collect();
        let colour = attr(tag, "stroke")
            .filter(|c| c.starts_with('#'))
            .or_else(|| attr(tag, "fill").filter(|c| c.starts_with('#')));
        let element = match name.as_str() {
            "text" => {
                let close = rest.find("</text>").unwrap_or(end);
                let content = rest[end + 1..close].trim().to_string();
                let size = num(tag, "font-size");
                let (x, y) = (num(tag, "x"), num(tag, "y"));
                let width = content.chars().count() as f64 * size * 0.55;
                // How far the text runs back from its anchor point.
                let back = match attr(tag, "text-anchor").as_deref() {
                    Some("middle") => width / 2.0,
                    Some("end") => width,
                    _ => 0.0,
                };
                // A y-axis title turns a quarter left: it runs up from
                // its anchor, and its glyphs hang to the right.
                let rotated = tag.contains("rotate(");
                let bounds = if rotated {
                    (x, y - width + back, x + size, y + back)
                } else {
                    (x - back, y, x - back + width, y + size)
                };
                Some(Element {
                    tag: name,
                    bounds,
                    colour,
                    text: Some(content),
                    font_px: size,
                    rotated,
                })
            }
            "rect" => {
                let (x, y) = (num(tag, "x"), num(tag, "y"));
                Some(Element {
                    tag: name,
                    bounds: (x, y, x + num(tag, "width"), y + num(tag, "height")),
                    colour,
                    text: None,
                    font_px: 0.0,
                    rotated: false,
                })
            }
            "circle" => {
                let (x, y, r) = (num(tag, "cx"), num(tag, "cy"), num(tag, "r"));
                Some(Element {
                    tag: name,
                    bounds: (x - r, y - r, x + r, y + r),
                    colour,
                    text: None,
                    font_px: 0.0,
                    rotated: false,
                })
            }
            "polyline" | "polygon" | "line" => {
                let points: Vec<(f64, f64)> = match attr(tag, "points") {
                    Some(p) => p
                        .split_whitespace()
                        .filter_map(|xy| {
                            let (x, y) = xy.split_once(',')?;
                            Some((x.parse().ok()?, y.parse().ok()?))
                        })
                        .collect(),
                    None => vec![
                        (num(tag, "x1"), num(tag, "y1")),
                        (num(tag, "x2"), num(tag, "y2")),
                    ],
                };
                let xs = points.iter().map(|p| p.0);
                let ys = points.iter().map(|p| p.1);
                Some(Element {
                    tag: name,
                    bounds: (
                        xs.clone().fold(f64::INFINITY, f64::min),
                        ys.clone().fold(f64::INFINITY, f64::min),
                        xs.fold(f64::NEG_INFINITY, f64::max),
                        ys.fold(f64::NEG_INFINITY, f64::max),
                    ),
                    colour,
                    text: None,
                    font_px: 0.0,
                    rotated: false,
                })
            }
            _ => None,
        };
        out.extend(element);
        rest = &rest[end.min(rest.len())..];
    }
    out
}

/// What is wrong with one chart's SVG, as a teacher would see it: text
/// cut at the edge, no axis title, a key drawn over the data, or (across
/// a sweep's charts) a group in two colours.
fn chart_problems(
    name: &str,
    svg: &str,
    colours: &mut std::collections::BTreeMap<String, (String, String)>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let width = num(svg, "width");
    let height = num(svg, "height");
    let all = elements(svg);
    for e in all.iter().filter(|e| e.tag == "text") {
        let (x0, y0, x1, y1) = e.bounds;
        if x0 < -1.0 || y0 < -1.0 || x1 > width + 1.0 || y1 > height + 1.0 {
            problems.push(format!(
                "{name}: text {:?} is cut at the picture's edge",
                e.text
            ));
        }
    }
    let stem = name.rsplit('/').next().unwrap_or(name);
    let diagram = stem == "lamport"
        || stem.starts_with("txn-cycle")
        || stem.starts_with("pass-rate")
        || stem.starts_with("heatmap");
    if !diagram && !all.iter().any(|e| e.rotated) {
        problems.push(format!("{name}: no axis title up the side"));
    }
    // The key: every element before the caption (the first text of a
    // caption's size), drawn in a strip below the plot; nothing after it
    // may reach into that strip.
    let caption = all.iter().position(|e| e.tag == "text" && e.font_px > 11.0);
    if let Some(caption) = caption.filter(|&c| c > 1) {
        let key = &all[1..caption];
        let strip_top = key.iter().map(|e| e.bounds.1).fold(f64::INFINITY, f64::min) - 2.0;
        for e in &all[caption..] {
            if e.bounds.3 > strip_top + 0.5 && !e.rotated {
                problems.push(format!(
                    "{name}: a {} reaches into the key's strip (y {} > {strip_top})",
                    e.tag, e.bounds.3
                ));
                break;
            }
        }
        // Each key label's colour is its sample's, just before it.
        let mut sample: Option<&String> = None;
        for e in key {
            match (&e.text, &e.colour) {
                (Some(label), _) => {
                    if let Some(colour) =
                        sample.filter(|c| !["#000000", "#FFFFFF"].contains(&c.as_str()))
                    {
                        let seen = colours
                            .entry(label.clone())
                            .or_insert((colour.clone(), name.to_string()));
                        if &seen.0 != colour {
                            problems.push(format!(
                                "{label} is {} in {} but {colour} in {name}",
                                seen.0, seen.1
                            ));
                        }
                    }
                    sample = None;
                }
                (None, Some(colour)) => sample = Some(colour),
                _ => {}
            }
        }
    }
    problems
}

/// Every curated teaching scenario's report: each chart's SVG checked as
/// a teacher would look at it (`chart_problems`), and each page opened in
/// Chromium, with no console error and not blank.
#[test]
#[ignore = "heavy tier (needs Chromium): cargo test --workspace --release --tests -- --ignored"]
fn every_teaching_report_is_readable_and_opens_in_chromium() {
    let dir = scratch("report-visual");
    let cases: [(&str, &[&str]); 7] = [
        ("cap", &["sweep", "cap-partition", "--seeds", "0..4"]),
        ("pacelc", &["sweep", "pacelc-latency", "--seeds", "0..4"]),
        ("modes", &["sweep", "replication-modes", "--seeds", "0..4"]),
        ("election", &["sweep", "raft-election", "--seeds", "0..20"]),
        (
            "fencing",
            &["sweep", "split-brain-no-fencing", "--seeds", "0..4"],
        ),
        ("raft", &["run", "raft-leader-crash", "--seed", "1"]),
        (
            "split",
            &[
                "run",
                "split-brain-no-fencing",
                "--seed",
                "3",
                "--set",
                "protocol.PrimaryBackup.no_fencing=true",
            ],
        ),
    ];
    let mut problems = Vec::new();
    for (name, args) in cases {
        let out = dir.join(name);
        let mut args: Vec<&str> = args.to_vec();
        let out_text = out.to_str().unwrap().to_string();
        args.extend(["--out", &out_text]);
        let result = faultline(&args);
        assert!(matches!(result.code, 0 | 1), "{name}: {result:?}");
        let mut colours = std::collections::BTreeMap::new();
        let mut svgs: Vec<PathBuf> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "svg"))
            .collect();
        svgs.sort();
        assert!(!svgs.is_empty(), "{name}: no charts");
        for svg in &svgs {
            let chart = svg.file_stem().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(svg).unwrap();
            problems.extend(chart_problems(
                &format!("{name}/{chart}"),
                &text,
                &mut colours,
            ));
        }
        let page = std::fs::canonicalize(out.join("report.html")).unwrap();
        let png = dir.join(format!("{name}.png"));
        let log = screenshot(&page, &png, &dir.join(format!("profile-{name}")));
        assert!(
            !log.lines()
                .any(|l| l.contains("CONSOLE") && l.contains("ERROR")),
            "{name}: console errors:\n{log}"
        );
        let image = image::open(&png)
            .unwrap_or_else(|e| panic!("{name}: no screenshot ({e})"))
            .to_rgb8();
        let ink = image.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        assert!(
            ink > (image.width() * image.height()) as usize / 100,
            "{name}: blank page"
        );
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The visual test's own checks catch what they are for.
#[test]
fn the_visual_checks_catch_a_cut_label_a_missing_title_and_a_key_over_the_data() {
    let mut colours = std::collections::BTreeMap::new();
    let good = r##"<svg width="200" height="100">
<rect x="0" y="0" width="200" height="100" fill="#FFFFFF"/>
<polyline stroke="#0072B2" points="10,90 30,90 "/>
<text x="34" y="85" font-size="9.6">Raft</text>
<text x="100" y="5" text-anchor="middle" font-size="14">caption</text>
<text x="5" y="40" font-size="9.6" transform="rotate(270, 5, 40)">ms</text>
<polyline stroke="#0072B2" points="40,70 60,20 "/>
</svg>"##;
    assert_eq!(
        chart_problems("good", good, &mut colours),
        Vec::<String>::new()
    );
    let cut = good.replace("x=\"34\" y=\"85\"", "x=\"190\" y=\"85\"");
    assert!(chart_problems("cut", &cut, &mut colours)[0].contains("cut at the picture's edge"));
    let untitled = good.replace(" transform=\"rotate(270, 5, 40)\"", "");
    assert!(chart_problems("untitled", &untitled, &mut colours)[0].contains("no axis title"));
    let over = good.replace("points=\"40,70 60,20 \"", "points=\"40,95 60,20 \"");
    assert!(chart_problems("over", &over, &mut colours)[0].contains("reaches into the key"));
    let recoloured = good.replace(
        "stroke=\"#0072B2\" points=\"10,90",
        "stroke=\"#E69F00\" points=\"10,90",
    );
    assert!(chart_problems("recoloured", &recoloured, &mut colours)[0]
        .contains("Raft is #0072B2 in good"));
}
