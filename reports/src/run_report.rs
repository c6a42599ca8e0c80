//! A run's report: the charts as SVG and PNG files beside the run's other
//! files, and `report.html`, one self-contained page (nothing loaded from
//! the network, the charts inline) with the summary, the checks, every
//! chart, the metrics as tables and links to the raw files.
//!
//! It is made from what those files hold (`resolved.ron`,
//! `history.jsonl`, `metrics.json`, `checks.json`, `summary.json`): `run`
//! passes it from memory, and `faultline report DIR` reads it back, so the
//! latter remakes exactly what `run` wrote, on any machine, after the run.

use crate::bands::fault_bands;
use crate::charts::{Chart, ChartData, Drawable};
use crate::html::escape;
use crate::series::{latency_points, window_width_ms, windows};
use scenarios::Scenario;
use serde_json::Value as Json;
use sim_core::history::History;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The files the report writes into a run folder.
pub const REPORT_FILES: [&str; 7] = [
    "report.html",
    "latency.svg",
    "latency.png",
    "latency-quantiles.svg",
    "latency-quantiles.png",
    "availability.svg",
    "availability.png",
];

/// Window width when the metrics do not say (ms).
const WINDOW_MS_DEFAULT: f64 = 100.0;

/// What a run's report is made of: the run's outputs, as its files hold
/// them (see `RunFiles` for reading them back).
pub struct RunData<'a> {
    pub resolved: &'a Scenario,
    /// Absent when the scenario turned the history off.
    pub history: Option<&'a History>,
    pub metrics: Option<&'a Json>,
    pub checks: Option<&'a Json>,
    pub summary: Option<&'a Json>,
}

/// What a run folder holds, as read back.
pub struct RunFiles {
    pub resolved: Scenario,
    /// Absent when the scenario turned the history off.
    pub history: Option<History>,
    pub metrics: Option<Json>,
    pub checks: Option<Json>,
    pub summary: Option<Json>,
}

fn read_json(path: &Path) -> Result<Option<Json>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

impl RunFiles {
    /// Reads a run folder. `resolved.ron` must be there; the rest may not.
    pub fn read(dir: &Path) -> Result<RunFiles, String> {
        let resolved_path = dir.join("resolved.ron");
        let text = std::fs::read_to_string(&resolved_path)
            .map_err(|e| format!("{}: {e} (is this a run folder?)", resolved_path.display()))?;
        let resolved = scenarios::parse_str(&text, &resolved_path.display().to_string())
            .map_err(|e| e.to_string())?;
        let history_path = dir.join("history.jsonl");
        let history = match std::fs::File::open(&history_path) {
            Ok(file) => Some(
                History::read_jsonl(&mut std::io::BufReader::new(file))
                    .map_err(|e| format!("{}: {e}", history_path.display()))?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("{}: {e}", history_path.display())),
        };
        Ok(RunFiles {
            resolved,
            history,
            metrics: read_json(&dir.join("metrics.json"))?,
            checks: read_json(&dir.join("checks.json"))?,
            summary: read_json(&dir.join("summary.json"))?,
        })
    }

    pub fn data(&self) -> RunData<'_> {
        RunData {
            resolved: &self.resolved,
            history: self.history.as_ref(),
            metrics: self.metrics.as_ref(),
            checks: self.checks.as_ref(),
            summary: self.summary.as_ref(),
        }
    }
}

/// Writes the charts and `report.html` into the run folder `dir`, from the
/// files there; returns the page's path.
pub fn write_from_files(dir: &Path) -> Result<PathBuf, String> {
    write(dir, &RunFiles::read(dir)?.data())
}

/// Writes the charts and `report.html` of `data` into the run folder
/// `dir`; returns the page's path. `run` calls it with what it holds in
/// memory, `faultline report` with what it read back: the same bytes.
pub fn write(dir: &Path, data: &RunData<'_>) -> Result<PathBuf, String> {
    let duration_ns = data.resolved.duration.0.as_nanos();
    let end_ms = duration_ns as f64 / 1e6;
    let bands = fault_bands(&data.resolved.faults.schedule, duration_ns);
    let empty = History::default();
    let history = data.history.unwrap_or(&empty);
    let points = latency_points(history, duration_ns);
    let width = data
        .metrics
        .and_then(|m| m["run"]["window_ms"].as_f64())
        .unwrap_or(WINDOW_MS_DEFAULT);
    let windows = windows(history, duration_ns, window_width_ms(duration_ns, width));
    let charts = [
        ChartData::Latency(&points),
        ChartData::Quantiles(&windows),
        ChartData::Availability(&windows),
    ]
    .map(|data| Chart {
        data,
        bands: &bands,
        end_ms,
    });
    let mut svgs = Vec::new();
    for chart in &charts {
        let svg = chart.svg();
        std::fs::write(dir.join(format!("{}.svg", chart.name())), &svg)
            .map_err(|e| e.to_string())?;
        chart.png(&dir.join(format!("{}.png", chart.name())))?;
        svgs.push((chart.name(), svg));
    }
    let page = page(data, &svgs, &bands);
    let path = dir.join("report.html");
    std::fs::write(&path, page).map_err(|e| e.to_string())?;
    Ok(path)
}

/// A JSON leaf as table text.
fn leaf(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.3}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// A JSON object's leaves as table rows, with dotted paths; arrays (the
/// per-window series) are charts, not rows, and are left out.
fn rows(prefix: &str, value: &Json, out: &mut Vec<(String, String)>) {
    match value {
        Json::Object(map) => {
            for (key, inner) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                rows(&path, inner, out);
            }
        }
        Json::Array(_) => {}
        leafy => out.push((prefix.to_string(), leaf(leafy))),
    }
}

fn table(out: &mut String, rows: &[(String, String)]) {
    out.push_str("<table>\n");
    for (key, value) in rows {
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(key),
            escape(value)
        );
    }
    out.push_str("</table>\n");
}

fn page(data: &RunData<'_>, svgs: &[(&str, String)], bands: &[crate::bands::FaultBand]) -> String {
    let scenario = data.resolved;
    let summary = data.summary.unwrap_or(&Json::Null);
    let mut out = String::new();
    let title = format!("{} seed {}", scenario.name, scenario.seed);
    out.push_str(&crate::html::head(&title));
    if !scenario.description.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", escape(&scenario.description));
    }
    out.push_str("<h2>Summary</h2>\n");
    let mut head = vec![
        ("seed".to_string(), scenario.seed.to_string()),
        ("verdict".to_string(), leaf(&summary["verdict"])),
        ("trace hash".to_string(), leaf(&summary["trace_hash"])),
        ("stop reason".to_string(), leaf(&summary["stop_reason"])),
        (
            "simulated".to_string(),
            format!("{} s", leaf(&summary["simulated_seconds"])),
        ),
        ("events".to_string(), leaf(&summary["events"])),
    ];
    if let Some(reproduce) = summary["reproduce"].as_str() {
        head.push(("reproduce".to_string(), reproduce.to_string()));
    }
    if let Some(detail) = summary["inconclusive"]["detail"].as_str() {
        head.push(("inconclusive".to_string(), detail.to_string()));
    }
    table(&mut out, &head);
    if let Some(Json::Array(checks)) = data.checks {
        out.push_str(
            "<h2>Checks</h2>\n<table>\n<tr><th>check</th><th>verdict</th><th>detail</th></tr>\n",
        );
        for check in checks {
            let verdict = leaf(&check["verdict"]);
            let _ = writeln!(
                out,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&verdict),
                escape(&leaf(&check["name"])),
                escape(&verdict),
                escape(&leaf(&check["detail"]))
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("<h2>Faults</h2>\n");
    if bands.is_empty() {
        out.push_str("<p>No faults.</p>\n");
    } else {
        let rows: Vec<(String, String)> = bands
            .iter()
            .map(|b| {
                let span = if b.end_ms > b.start_ms {
                    format!("{:.1} ms to {:.1} ms", b.start_ms, b.end_ms)
                } else {
                    format!("at {:.1} ms", b.start_ms)
                };
                (b.label.clone(), span)
            })
            .collect();
        table(&mut out, &rows);
    }
    out.push_str("<h2>Charts</h2>\n");
    for (name, svg) in svgs {
        out.push_str(&crate::html::figure(name, svg));
    }
    if let Some(metrics) = data.metrics {
        out.push_str("<h2>Metrics</h2>\n");
        let mut run = Vec::new();
        let mut protocol = Vec::new();
        let mut engine = Vec::new();
        for (key, value) in metrics["run"].as_object().into_iter().flatten() {
            let target = if key.starts_with("protocol") {
                &mut protocol
            } else {
                &mut run
            };
            rows(key, value, target);
        }
        rows("", &metrics["engine"], &mut engine);
        out.push_str("<h3>Run</h3>\n");
        table(&mut out, &run);
        if !protocol.is_empty() {
            out.push_str("<h3>Protocol</h3>\n");
            table(&mut out, &protocol);
        }
        out.push_str("<h3>Engine</h3>\n");
        table(&mut out, &engine);
    }
    out.push_str("<h2>Files</h2>\n<ul>\n");
    for file in [
        "resolved.ron",
        "history.jsonl",
        "metrics.json",
        "checks.json",
        "summary.json",
        "trace.jsonl",
        "counterexample.html",
    ] {
        let _ = writeln!(out, "<li><a href=\"{file}\">{file}</a></li>");
    }
    out.push_str("</ul>\n</body>\n</html>\n");
    out
}
