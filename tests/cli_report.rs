//! A run's charts and report.html: written by `run`, made again by
//! `faultline report` byte for byte, self-contained, PNGs that decode to
//! their size and are not blank, and SVGs pinned for two small fixed runs.

use faultline_e2e::{faultline, one_json, repo_root, scratch};
use std::path::Path;

const CHARTS: [&str; 3] = ["latency", "latency-quantiles", "availability"];

fn run(name: &str, seed: &str, out: &Path) {
    let result = faultline(&["run", name, "--seed", seed, "--out", out.to_str().unwrap()]);
    assert_eq!(result.code, 0, "{result:?}");
    assert!(
        result
            .stdout
            .contains(&format!("report: {}", out.join("report.html").display())),
        "{}",
        result.stdout
    );
}

#[test]
fn run_writes_every_chart_and_a_self_contained_page() {
    let dir = scratch("report-run");
    run("raft-leader-crash", "1", &dir);
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert_eq!(
        page.matches("<svg").count(),
        4,
        "the three charts and the space-time diagram inline"
    );
    assert!(dir.join("lamport.svg").is_file() && dir.join("lamport.png").is_file());
    assert!(page.contains("Space-time diagram"));
    for chart in CHARTS {
        assert!(dir.join(format!("{chart}.svg")).is_file(), "{chart}.svg");
        assert!(page.contains(&format!("href=\"{chart}.png\"")), "{chart}");
    }
    // Nothing is loaded from elsewhere: no scripts, no style sheets, no
    // remote images (the SVG namespace is a name, not a fetch).
    for banned in ["<script", "<link", "src=\"http", "url(http", "@import"] {
        assert!(!page.contains(banned), "{banned}");
    }
    // The summary, the checks and the fault are on the page.
    assert!(
        page.contains("faultline run raft-leader-crash --seed 1"),
        "reproduce"
    );
    assert!(page.contains("linearizability"), "checks");
    // The fault names the node the role was bound to.
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    let leader = metrics["run"]["fault_bindings"][0]["node"]
        .as_str()
        .unwrap();
    assert!(
        page.contains(&format!("crash {leader} (@leader)")),
        "the fault, with its node"
    );
    assert!(page.contains("leaderless_ms"), "the protocol's metrics");
    // Only files the run wrote are linked (issue: dead links): a passing
    // run without `outputs.trace` has no trace.jsonl nor counterexample.
    assert!(page.contains("href=\"history.jsonl\""));
    for absent in ["trace.jsonl", "counterexample.html"] {
        assert!(!dir.join(absent).exists(), "{absent}");
        assert!(!page.contains(&format!("href=\"{absent}\"")), "{absent}");
    }
}

#[test]
fn pngs_decode_to_their_size_and_are_not_blank() {
    let dir = scratch("report-png");
    run("raft-leader-crash", "2", &dir);
    for chart in CHARTS {
        let image = image::open(dir.join(format!("{chart}.png")))
            .unwrap_or_else(|e| panic!("{chart}.png: {e}"))
            .to_rgb8();
        assert_eq!(image.dimensions(), (1200, 520), "{chart}");
        let white = image.pixels().filter(|p| p.0 == [255, 255, 255]).count();
        let total = (image.width() * image.height()) as usize;
        assert!(white < total * 97 / 100, "{chart}.png is nearly blank");
        // Text was drawn with the shipped font: dark pixels in the caption.
        let caption_dark = (0..image.width())
            .flat_map(|x| (0..30).map(move |y| (x, y)))
            .filter(|&(x, y)| image.get_pixel(x, y).0.iter().all(|c| *c < 100))
            .count();
        assert!(caption_dark > 50, "{chart}: no caption text");
    }
}

#[test]
fn report_makes_the_same_files_again_from_the_folder() {
    let dir = scratch("report-again");
    run("quickstart", "3", &dir);
    let files = [
        "report.html",
        "latency.svg",
        "latency.png",
        "latency-quantiles.svg",
        "latency-quantiles.png",
        "availability.svg",
        "availability.png",
        "lamport.svg",
        "lamport.png",
    ];
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    for file in files {
        std::fs::remove_file(dir.join(file)).unwrap();
    }
    let again = faultline(&["report", dir.to_str().unwrap(), "--json"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(
        one_json(&again.stdout)["report"],
        dir.join("report.html").display().to_string()
    );
    for (file, bytes) in files.iter().zip(&before) {
        assert_eq!(
            &std::fs::read(dir.join(file)).unwrap(),
            bytes,
            "{file} differs"
        );
    }
}

#[test]
fn report_refuses_a_folder_that_is_not_a_run() {
    let dir = scratch("report-not-a-run");
    let result = faultline(&["report", dir.to_str().unwrap(), "--json"]);
    assert_eq!(result.code, 2, "{result:?}");
    let error = &one_json(&result.stdout)["error"];
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("no resolved.ron"),
        "{error}"
    );
    assert!(
        error["hint"].as_str().unwrap().contains("faultline run"),
        "{error}"
    );
}

#[test]
fn no_report_skips_the_charts() {
    let dir = scratch("report-skipped");
    let result = faultline(&[
        "run",
        "quickstart",
        "--out",
        dir.to_str().unwrap(),
        "--no-report",
    ]);
    assert_eq!(result.code, 0, "{result:?}");
    assert!(!dir.join("report.html").exists());
    assert!(!dir.join("latency.svg").exists());
}

/// The SVGs of two small fixed runs, pinned: the same input gives the
/// same bytes on every machine. A change meant to alter the pictures
/// updates `golden/chart_hashes.txt` in the same commit:
/// `FAULTLINE_BLESS=1 cargo test --release -p faultline-e2e --test cli_report`.
#[test]
fn the_svgs_of_two_fixed_runs_are_pinned() {
    let mut now = String::new();
    for (name, seed) in [("quickstart", "1"), ("raft-leader-crash", "1")] {
        let dir = scratch(&format!("report-golden-{name}"));
        run(name, seed, &dir);
        for chart in CHARTS.iter().chain(&["lamport"]) {
            let svg = std::fs::read(dir.join(format!("{chart}.svg"))).unwrap();
            let hash = sim_core::hash::stable_hash(&svg);
            now.push_str(&format!("{name} {seed} {chart} {hash:016x}\n"));
        }
    }
    let golden = repo_root().join("tests/golden/chart_hashes.txt");
    if std::env::var_os("FAULTLINE_BLESS").is_some() {
        std::fs::write(&golden, &now).unwrap();
        return;
    }
    let pinned = std::fs::read_to_string(&golden).unwrap();
    assert_eq!(
        pinned, now,
        "chart SVGs changed; if meant, rerun with FAULTLINE_BLESS=1 and say so in the commit"
    );
}

#[test]
fn sweep_writes_figure_16_and_report_makes_it_again() {
    let dir = scratch("report-sweep");
    let out = dir.to_str().unwrap();
    let result = faultline(&[
        "sweep",
        "raft-election",
        "--seeds",
        "0..20",
        "--out",
        out,
        "--json",
    ]);
    assert_eq!(result.code, 0, "{result:?}");
    let json = one_json(&result.stdout);
    assert_eq!(
        json["report"],
        dir.join("report.html").display().to_string()
    );
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    // Figure 16: the CDF of the time without a leader, one line per range,
    // named by the range; and each range's mean with its interval.
    for chart in ["verdicts", "cdf-leaderless_ms", "mean-leaderless_ms"] {
        assert!(page.contains(&format!("id=\"{chart}\"")), "{chart}");
        assert!(dir.join(format!("{chart}.png")).is_file(), "{chart}.png");
    }
    let cdf = std::fs::read_to_string(dir.join("cdf-leaderless_ms.svg")).unwrap();
    // Named by the scenario's short names for its ranges.
    for range in ["150-300 ms", "12-24 ms"] {
        assert!(cdf.contains(range), "{range} in the key");
    }
    assert!(cdf.contains("log scale"), "election times span a log axis");
    assert!(page.contains("bootstrap"), "the interval method is stated");
    let files = [
        "report.html",
        "cdf-leaderless_ms.svg",
        "mean-leaderless_ms.svg",
        "verdicts.png",
    ];
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    let again = faultline(&["report", out]);
    assert_eq!(again.code, 0, "{again:?}");
    for (file, bytes) in files.iter().zip(&before) {
        assert_eq!(
            &std::fs::read(dir.join(file)).unwrap(),
            bytes,
            "{file} differs"
        );
    }
}

#[test]
fn a_two_axis_sweep_gets_a_pass_rate_grid() {
    let dir = scratch("report-heatmap");
    let result = faultline(&[
        "sweep",
        "kv-lost-writes",
        "--seeds",
        "0..10",
        "--set",
        "protocol.ack_before_sync=false,true",
        "--set",
        "network.default.loss=0,0.2",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(result.code == 0 || result.code == 1, "{result:?}");
    let svg = std::fs::read_to_string(dir.join("pass-rate.svg")).unwrap();
    // Without the bug switch every run passes.
    assert!(svg.contains("100%"), "a full cell");
    assert!(
        svg.contains("ack_before_sync") && svg.contains("loss"),
        "both axes named"
    );
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(page.contains("id=\"pass-rate\""));
}

/// Regression: a sweep's report depended on `--jobs`.
///
/// Postmortem: a parallel sweep writes its runs to results.jsonl as they
/// finish, and the report built each group's runs in file order; the
/// bootstrap resamples runs by position, so the mean chart's interval (and
/// report.html) moved with the order threads finished in. Found by merging
/// two shards and comparing with the whole sweep. The report now takes
/// runs in seed order.
#[test]
fn regression_a_sweep_report_does_not_depend_on_jobs_or_sharding() {
    let dir = scratch("report-jobs");
    let sweep = |name: &str, extra: &[&str]| {
        let out = dir.join(name);
        let mut args = vec![
            "sweep",
            "raft-election",
            "--seeds",
            "0..24",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let result = faultline(&args);
        assert_eq!(result.code, 0, "{result:?}");
        out
    };
    let one = sweep("jobs1", &["--jobs", "1"]);
    let two = sweep("jobs2", &["--jobs", "2"]);
    let part1 = sweep("part1", &["--shard", "1/2", "--no-report"]);
    let part2 = sweep("part2", &["--shard", "2/2", "--no-report"]);
    let merged = dir.join("merged");
    let result = faultline(&[
        "merge",
        part1.to_str().unwrap(),
        part2.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(result.code, 0, "{result:?}");
    assert_eq!(
        one_json(&result.stdout)["report"],
        merged.join("report.html").display().to_string()
    );
    let page = |dir: &Path| std::fs::read(dir.join("report.html")).unwrap();
    assert_eq!(page(&one), page(&two), "--jobs changed the report");
    assert_eq!(
        page(&one),
        page(&merged),
        "the merged shards' report differs"
    );
    // A second merge into the same folder is refused without --force.
    let again = faultline(&[
        "merge",
        part1.to_str().unwrap(),
        part2.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(
        again.stderr.contains("already holds results")
            || again.stdout.contains("already holds results"),
        "{again:?}"
    );
}

/// The text of each `<text>` element of an SVG, trimmed.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|element| {
            let (_, rest) = element.split_once('>')?;
            let (text, _) = rest.split_once("</text>")?;
            Some(text.trim().to_string())
        })
        .collect()
}

#[test]
fn a_violation_is_marked_on_the_space_time_diagram() {
    let dir = scratch("report-lamport-violation");
    let result = faultline(&["run", "bully-split-brain", "--out", dir.to_str().unwrap()]);
    assert_eq!(result.code, 1, "the split brain is caught: {result:?}");
    let svg = std::fs::read_to_string(dir.join("lamport.svg")).unwrap();
    // The violation, at its node, in the window around it.
    assert!(svg.contains("no-lower-leader"), "the violation is marked");
    assert!(
        svg.contains("dropped: partition"),
        "drops carry their reason"
    );
    assert!(
        svg.contains("Election") && svg.contains("Coordinator"),
        "message kinds label the arrows"
    );
    let checks: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("checks.json")).unwrap()).unwrap();
    let at_ns = checks[0]["violations"][0]["time"].as_u64().unwrap();
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let window = format!(
        "from {:.3} ms to {:.3} ms",
        (at_ns - 1_000_000_000) as f64 / 1e6,
        (at_ns + 100_000_000) as f64 / 1e6
    );
    assert!(page.contains(&window), "{window}");
    // The PNG is the SVG's size, and not blank.
    let image = image::open(dir.join("lamport.png")).unwrap().to_rgb8();
    let size = format!("width=\"{}\" height=\"{}\"", image.width(), image.height());
    assert!(svg.contains(&size), "{size}");
    assert!(image.height() > 520, "a row per event time");
    let white = image.pixels().filter(|p| p.0 == [255, 255, 255]).count();
    assert!(white < image.pixels().count() * 97 / 100, "nearly blank");
}

#[test]
fn report_draws_the_diagram_of_a_chosen_window_and_nodes() {
    let dir = scratch("report-lamport-window");
    run("raft-leader-crash", "1", &dir);
    let out = dir.to_str().unwrap();
    let result = faultline(&[
        "report",
        out,
        "--from",
        "1.99s",
        "--to",
        "2.05s",
        "--nodes",
        "n1,n5,client1",
    ]);
    assert_eq!(result.code, 0, "{result:?}");
    let svg = std::fs::read_to_string(dir.join("lamport.svg")).unwrap();
    assert!(
        svg.contains("1990.000 ms to 2050.000 ms"),
        "the window in the caption"
    );
    let texts = svg_texts(&svg);
    for drawn in ["n1", "n5", "client1"] {
        assert!(texts.iter().any(|t| t == drawn), "{drawn}");
    }
    for left_out in ["n2", "client2"] {
        assert!(!texts.iter().any(|t| t == left_out), "{left_out}");
    }
    // The leader's crash at 2 s is on n5's line; messages to it are dropped.
    assert!(texts.iter().any(|t| t == "crash"), "the crash");
    assert!(
        svg.contains("dropped: node_down"),
        "drops at the crashed node"
    );
    // Bad choices are refused with what to do, before anything is written.
    let unknown = faultline(&["report", out, "--nodes", "n1,n9", "--json"]);
    assert_eq!(unknown.code, 2, "{unknown:?}");
    let message = one_json(&unknown.stdout)["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("\"n9\"") && message.contains("n1, n2, n3, n4, n5, client1"),
        "{message}"
    );
    let backwards = faultline(&["report", out, "--from", "2s", "--to", "1s"]);
    assert_eq!(backwards.code, 2, "{backwards:?}");
    let run_unknown = faultline(&[
        "run",
        "quickstart",
        "--out",
        dir.join("q").to_str().unwrap(),
        "--nodes",
        "zz",
    ]);
    assert_eq!(run_unknown.code, 2, "{run_unknown:?}");
    assert!(!dir.join("q").exists(), "refused before the run");
}

/// The README's example window of a few nodes draws what they said to the
/// rest: it drew an empty diagram, with exit 0, because client1 and the
/// two followers exchange nothing among themselves. A window that catches
/// nothing says so in the picture and on stderr, naming the busy nodes.
#[test]
fn a_few_chosen_nodes_show_their_messages_to_the_rest_and_an_empty_window_says_so() {
    let dir = scratch("report-lamport-readme");
    run("raft-leader-crash", "3", &dir);
    let out = dir.to_str().unwrap();
    let args = [
        "report",
        out,
        "--from",
        "2.1s",
        "--to",
        "2.3s",
        "--nodes",
        "n1,n2,client1",
    ];
    let result = faultline(&args);
    assert_eq!(result.code, 0, "{result:?}");
    assert!(!result.stderr.contains("warning"), "{}", result.stderr);
    let svg = std::fs::read_to_string(dir.join("lamport.svg")).unwrap();
    let texts = svg_texts(&svg);
    assert!(
        texts.iter().any(|t| t == "other nodes"),
        "the lane of the rest"
    );
    assert!(
        texts.iter().any(|t| t.starts_with("RequestVote from n")),
        "the election seen from the chosen nodes: {texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.ends_with("ms with nothing drawn")),
        "gaps shown"
    );
    // The run's last 40 ms on n1 alone: Raft's heartbeats go to the
    // others, so n1 has them; a window with no messages at all says so.
    let empty = faultline(&[
        "report", out, "--from", "4.999s", "--to", "5s", "--nodes", "client1",
    ]);
    assert_eq!(empty.code, 0, "{empty:?}");
    assert!(
        empty.stderr.contains("warning: the space-time diagram (4999.000 ms to 5000.000 ms) is empty: nothing to draw"),
        "{}",
        empty.stderr
    );
    let svg = std::fs::read_to_string(dir.join("lamport.svg")).unwrap();
    assert!(svg.contains("nothing to draw in this window on these nodes"));
}

#[test]
fn ring_theory_draws_messages_against_n_with_n_h_n() {
    let dir = scratch("report-ring-theory");
    let result = faultline(&[
        "sweep",
        "ring-theory",
        "--seeds",
        "0..6",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(result.code, 0, "{result:?}");
    let svg = std::fs::read_to_string(dir.join("mean-election_messages.svg")).unwrap();
    assert!(svg.contains("n·H_n"), "the theory line is in the legend");
    // n = 8, 64, 512 on a log axis, and messages too.
    assert_eq!(svg.matches("(log scale)").count(), 2, "log-log");
    assert!(svg.contains("Count (log scale)"), "against the swept value");
}

#[test]
fn the_cdf_axis_can_be_chosen_and_two_axes_map_each_metric() {
    let dir = scratch("report-cdf-axis");
    let out = dir.to_str().unwrap();
    let result = faultline(&[
        "sweep",
        "raft-election",
        "--seeds",
        "0..6",
        "--set",
        "network.default.loss=0,0.1",
        "--out",
        out,
        "--cdf-x",
        "linear",
    ]);
    assert_eq!(result.code, 0, "{result:?}");
    let cdf = || std::fs::read_to_string(dir.join("cdf-leaderless_ms.svg")).unwrap();
    assert!(!cdf().contains("log scale"), "--cdf-x linear");
    let again = faultline(&["report", out, "--cdf-x", "log"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(cdf().contains("log scale"), "--cdf-x log");
    // Two axes: the pass rate and each metric's mean as grids.
    let map = std::fs::read_to_string(dir.join("heatmap-leaderless_ms.svg")).unwrap();
    assert!(map.contains("mean time without a leader after the crash (ms) per pair of values"));
    assert!(map.contains("election_timeout") && map.contains("loss"));
    assert!(dir.join("pass-rate.svg").is_file());
    let bad = faultline(&["report", out, "--cdf-x", "sideways"]);
    assert_eq!(bad.code, 2, "{bad:?}");
}

#[test]
fn a_counterexample_page_shows_faults_and_links_the_same_window() {
    let dir = scratch("report-counterexample");
    let result = faultline(&[
        "run",
        "kv-lost-writes",
        "--seed",
        "0",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(result.code, 1, "the lost write is caught: {result:?}");
    let report = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        report.contains("href=\"counterexample.html\""),
        "linked where it exists"
    );
    let page = std::fs::read_to_string(dir.join("counterexample.html")).unwrap();
    assert!(page.contains("time (ms)"), "a time axis in ms");
    assert!(page.contains("power loss n1"), "the fault band is labelled");
    // The lost write was found by the distinct-values check: the focus
    // is around its window.
    assert!(page.contains("focus: the 40 operations around the 3 not linearizable on their own"));
    // Each chart of the report says what to notice in it.
    let run_page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        run_page.contains("<p class=\"says\">Of the operations drawn, half completed within"),
        "latency"
    );
    assert!(
        run_page.contains("<p class=\"says\">Per window, p99 latency was typically"),
        "quantiles"
    );
    // The culprit in words, with the run's client names.
    assert!(
        page.contains("<strong>In words.</strong> The write of 2.109 to k1 by client3, acknowledged at 995.196 ms, was lost"),
        "the lost write said in a sentence"
    );
    assert!(page.contains("<a href=\"report.html#space-time\">"));
    // The link's window is the report's space-time window: the two
    // numbers after each page's phrase.
    let window = |text: &str, before: &str| -> Vec<String> {
        let at = text.find(before).unwrap() + before.len();
        text[at..]
            .split(" ms")
            .take(2)
            .map(|part| part.trim_start_matches(" to ").to_string())
            .collect()
    };
    let report = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let focus = window(&page, "focus window (");
    assert_eq!(focus, window(&report, "client operations from "));
    assert!(
        focus[0].parse::<f64>().unwrap() < focus[1].parse::<f64>().unwrap(),
        "{focus:?}"
    );
    let svg = std::fs::read_to_string(dir.join("lamport.svg")).unwrap();
    assert!(
        svg.contains("not linearizable"),
        "the culprit is marked in the diagram"
    );
    // Without a report, no link to one.
    let bare = dir.join("bare");
    let result = faultline(&[
        "run",
        "kv-lost-writes",
        "--seed",
        "0",
        "--out",
        bare.to_str().unwrap(),
        "--no-report",
    ]);
    assert_eq!(result.code, 1);
    let page = std::fs::read_to_string(bare.join("counterexample.html")).unwrap();
    assert!(
        !page.contains("href="),
        "no link to a report that is not there"
    );
}

#[test]
fn bench_report_times_every_part_of_a_run_report() {
    let dir = scratch("report-bench");
    run("quickstart", "1", &dir);
    let result = faultline(&[
        "bench",
        "report",
        dir.to_str().unwrap(),
        "--runs",
        "2",
        "--json",
    ]);
    assert_eq!(result.code, 0, "{result:?}");
    let json = one_json(&result.stdout);
    assert!(json["operations"].as_u64().unwrap() > 0);
    for part in reports::run_report::LAPS {
        let seconds = json["median_seconds"][part].as_f64();
        assert!(seconds.is_some_and(|s| s >= 0.0), "{part}: {json}");
    }
    let zero = faultline(&["bench", "report", dir.to_str().unwrap(), "--runs", "0"]);
    assert_eq!(zero.code, 2, "{zero:?}");
}
