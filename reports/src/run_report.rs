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
use crate::error::ReportError;
use crate::html::escape;
use crate::lamport::{choose_window, chosen_nodes, Diagram, LamportWindow, Mark, OpSpan};
use crate::series::{latency_points, window_width_ms, windows};
use scenarios::Scenario;
use serde_json::Value as Json;
use sim_core::checker::explain::describe;
use sim_core::history::History;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The files the report writes into a run folder.
pub const REPORT_FILES: [&str; 11] = [
    "report.html",
    "txn-cycle.svg",
    "txn-cycle.png",
    "lamport.svg",
    "lamport.png",
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
    pub fn read(dir: &Path) -> Result<RunFiles, ReportError> {
        let read_error = |path: &Path, message: String| ReportError::Read {
            path: path.to_path_buf(),
            message,
        };
        let resolved_path = dir.join("resolved.ron");
        let text = std::fs::read_to_string(&resolved_path).map_err(|e| {
            read_error(
                &resolved_path,
                format!("{}: {e} (is this a run folder?)", resolved_path.display()),
            )
        })?;
        let resolved = scenarios::parse_str(&text, &resolved_path.display().to_string())
            .map_err(|e| read_error(&resolved_path, e.to_string()))?;
        let history_path = dir.join("history.jsonl");
        let history = match std::fs::File::open(&history_path) {
            Ok(file) => Some(
                History::read_jsonl(&mut std::io::BufReader::new(file)).map_err(|e| {
                    read_error(&history_path, format!("{}: {e}", history_path.display()))
                })?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(read_error(
                    &history_path,
                    format!("{}: {e}", history_path.display()),
                ))
            }
        };
        let json = |name: &str| {
            let path = dir.join(name);
            read_json(&path).map_err(|message| read_error(&path, message))
        };
        Ok(RunFiles {
            resolved,
            history,
            metrics: json("metrics.json")?,
            checks: json("checks.json")?,
            summary: json("summary.json")?,
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

/// What a run report may be asked to do differently.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunOptions {
    /// The space-time diagram's window and nodes.
    pub lamport: LamportWindow,
}

impl RunOptions {
    /// Checks the options against the run: the nodes named (`--nodes`)
    /// exist.
    pub fn check(&self, resolved: &Scenario) -> Result<(), ReportError> {
        let names = scenarios::scenario::all_node_names(resolved);
        chosen_nodes(&self.lamport, &names)
            .map(|_| ())
            .map_err(ReportError::Option)
    }
}

/// Each violation and the non-linearizable operation, from `checks.json`,
/// where and when it happened.
pub fn marks(
    checks: Option<&Json>,
    history: &History,
    servers: usize,
    clients: usize,
) -> Vec<Mark> {
    let mut marks = Vec::new();
    for check in checks.and_then(Json::as_array).into_iter().flatten() {
        for v in check["violations"].as_array().into_iter().flatten() {
            if let Some(time_ns) = v["time"].as_u64() {
                marks.push(Mark {
                    time_ns,
                    node: v["node"].as_u64().map(|n| n as usize),
                    text: format!("{}: {}", leaf(&v["invariant"]), leaf(&v["message"])),
                    window_ns: None,
                });
            }
        }
        let cx = &check["counterexample"];
        let culprit = cx["culprit"].as_u64().map(|i| i as usize);
        if let Some(op) = culprit.and_then(|i| history.operations.get(i)) {
            // The window of the counterexample timeline's focus, so that
            // its link shows the messages behind the same operations.
            let mut sub: Vec<usize> = cx["sub_history"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i.as_u64().map(|i| i as usize))
                .filter(|&i| i < history.operations.len())
                .collect();
            // A window of the key: the timeline shows the whole key, its
            // focus around the window.
            let mut window = Vec::new();
            if cx["key_operations"]
                .as_u64()
                .is_some_and(|n| n as usize > sub.len())
            {
                if let Some(key) = cx["key"].as_str() {
                    window = std::mem::replace(
                        &mut sub,
                        sim_core::checker::linearizability::key_indices(history, key),
                    );
                }
            }
            marks.push(Mark {
                time_ns: op.complete_ns.unwrap_or(op.invoke_ns),
                node: (clients > 0).then(|| servers + (op.process % clients as u64) as usize),
                text: format!(
                    "not linearizable: {}'s {} (the culprit)",
                    scenarios::names::client_of_process(op.process, clients as u64),
                    culprit_words(op)
                ),
                window_ns: culprit
                    .map(|c| crate::timeline::culprit_window(history, &sub, c, &window)),
            });
        }
    }
    marks.sort_by_key(|m| m.time_ns);
    marks
}

/// Each fault band's start, and its end when it has one, as the diagram
/// labels the rules across it: as the scenario file writes the fault.
fn fault_labels(bands: &[crate::bands::FaultBand]) -> Vec<(u64, String)> {
    let ns = |ms: f64| (ms * 1e6).round() as u64;
    let mut labels = Vec::new();
    for band in bands {
        labels.push((ns(band.start_ms), band.label.clone()));
        if band.end_ms > band.start_ms {
            labels.push((ns(band.end_ms), format!("end of {}", band.label)));
        }
    }
    labels
}

/// The culprit operation in a few words: "read of k1 returned 3.72".
fn culprit_words(op: &sim_core::history::Operation) -> String {
    use sim_core::history::Function;
    let value = op.value.as_deref().unwrap_or("nothing");
    match op.f {
        Function::Read => format!("read of {} returned {value}", op.key),
        Function::Write => format!("write of {value} to {}", op.key),
        Function::Cas => format!(
            "compare-and-set of {} from {} to {value}",
            op.key,
            op.expected.as_deref().unwrap_or("?")
        ),
        _ => describe(op),
    }
}

/// The operations as spans on their clients' lines.
fn op_spans(history: &History, servers: usize, clients: usize) -> Vec<OpSpan> {
    if clients == 0 {
        return Vec::new();
    }
    history
        .operations
        .iter()
        .map(|op| OpSpan {
            node: servers + (op.process % clients as u64) as usize,
            invoke_ns: op.invoke_ns,
            complete_ns: op.complete_ns,
            label: crate::timeline::op_label(op),
            outcome: op.outcome,
        })
        .collect()
}

/// The space-time diagram of the run's window (see `lamport.rs`), from a
/// replay of the resolved scenario; `Err` says why there is none.
fn lamport(
    data: &RunData<'_>,
    history: &History,
    window: &LamportWindow,
    bands: &[crate::bands::FaultBand],
) -> Result<Diagram, String> {
    let resolved = data.resolved;
    let names = scenarios::scenario::all_node_names(resolved);
    let servers = scenarios::names::server_names(&resolved.nodes).len();
    let clients = resolved.workload.clients as usize;
    let chosen = chosen_nodes(window, &names).map_err(|e| format!("--nodes: {e}"))?;
    let marks = marks(data.checks, history, servers, clients);
    let end_ns = data
        .summary
        .and_then(|s| s["simulated_seconds"].as_f64())
        .map_or(resolved.duration.0.as_nanos(), |s| {
            ((s * 1e9) as u64).min(resolved.duration.0.as_nanos())
        });
    let first_fault_ns = bands
        .iter()
        .map(|b| (b.start_ms * 1e6).round() as u64)
        .min();
    let window = choose_window(window, &marks, first_fault_ns, end_ns);
    let (from, to) = (window.from_ns, window.to_ns);
    let run_peak_bytes = data
        .summary
        .and_then(|s| s["memory_peak_bytes"].as_u64())
        .unwrap_or(0);
    let replay = scenarios::replay::replay(
        resolved,
        sim_core::SimTime::from_nanos(from),
        sim_core::SimTime::from_nanos(to),
        scenarios::replay::replay_memory_bytes(
            resolved.limits.memory.0,
            run_peak_bytes,
            history.heap_bytes(),
        ),
    )
    .map_err(|e| e.to_string())?;
    let title = format!("{} seed {}", resolved.name, resolved.seed);
    let mut diagram = crate::lamport::diagram(
        &title,
        &replay.records,
        &names,
        chosen.as_deref(),
        &op_spans(history, servers, clients),
        &marks,
        window,
        &fault_labels(bands),
    );
    if replay.truncated {
        diagram.notes.push(format!(
            "the replay recorded its first {} events only",
            scenarios::replay::REPLAY_RECORDS_MAX
        ));
    }
    if let Some(why) = replay.cut {
        diagram.notes.push(format!(
            "the replay stopped at {}, before the window's end; {why}",
            sim_core::SimTime::from_nanos(replay.end.as_nanos())
        ));
    }
    if let Some(message) = replay.panicked {
        diagram
            .notes
            .push(format!("the protocol panicked: {message}"));
    }
    Ok(diagram)
}

/// Writes the charts and `report.html` of `data` into the run folder
/// `dir`; returns the page's path. `run` calls it with what it holds in
/// memory, `faultline report` with what it read back: the same bytes.
/// What `write` made: the page, and what its reader should be warned of
/// (a space-time diagram with nothing in its window).
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    pub page: PathBuf,
    pub warnings: Vec<String>,
}

pub fn write(dir: &Path, data: &RunData<'_>, options: &RunOptions) -> Result<Written, ReportError> {
    write_with_laps(dir, data, options, &mut |_| {}).map_err(|message| ReportError::Write {
        dir: dir.to_path_buf(),
        message,
    })
}

/// The parts of a run report `write_with_laps` reports as it finishes
/// each, in order.
pub const LAPS: [&str; 7] = [
    "chart data",
    "latency",
    "latency-quantiles",
    "availability",
    "lamport replay",
    "lamport",
    "report.html",
];

/// `write`, calling `lap` with each of `LAPS` as that part is done (so a
/// benchmark can time each chart; this crate reads no clock).
pub fn write_with_laps(
    dir: &Path,
    data: &RunData<'_>,
    options: &RunOptions,
    lap: &mut dyn FnMut(&'static str),
) -> Result<Written, String> {
    let mut warnings = Vec::new();
    let duration_ns = data.resolved.duration.0.as_nanos();
    let end_ms = duration_ns as f64 / 1e6;
    let bindings: Vec<scenarios::metrics::FaultBinding> = data
        .metrics
        .and_then(|m| serde_json::from_value(m["run"]["fault_bindings"].clone()).ok())
        .unwrap_or_default();
    let bands = fault_bands(&data.resolved.faults.schedule, duration_ns, &bindings);
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
    lap(LAPS[0]);
    // What to notice in each chart, from its data (`says`).
    let mut says: std::collections::BTreeMap<String, String> = [
        ("latency", crate::says::latency(&points, &bands)),
        (
            "latency-quantiles",
            crate::says::quantiles(&windows, &bands),
        ),
        ("availability", crate::says::availability(&windows, &bands)),
    ]
    .into_iter()
    .map(|(name, text)| (name.to_string(), text))
    .collect();
    let mut svgs = Vec::new();
    let draws = |name: &str| data.resolved.outputs.draws(name);
    for chart in &charts {
        if !draws(chart.name()) {
            lap(chart.name());
            continue;
        }
        let svg = chart.svg();
        std::fs::write(dir.join(format!("{}.svg", chart.name())), &svg)
            .map_err(|e| e.to_string())?;
        chart.png(&dir.join(format!("{}.png", chart.name())))?;
        svgs.push((chart.name().to_string(), svg));
        lap(chart.name());
    }
    let over_time = data
        .metrics
        .map(|m| {
            let names = scenarios::scenario::all_node_names(data.resolved);
            crate::protocol_series::charts(m, &names, &bands, end_ms)
        })
        .unwrap_or_default();
    for chart in over_time.iter().filter(|c| draws(&c.name())) {
        let name = chart.name();
        says.insert(
            name.clone(),
            crate::says::over_time(&crate::words::metric_words(&chart.metric), &chart.lines),
        );
        let svg = chart.svg();
        std::fs::write(dir.join(format!("{name}.svg")), &svg).map_err(|e| e.to_string())?;
        chart.png(&dir.join(format!("{name}.png")))?;
        svgs.push((name, svg));
    }
    let sides = data.metrics.map(crate::sides::sides).unwrap_or_default();
    if !sides.is_empty() && draws("availability-by-side") {
        says.insert(
            "availability-by-side".into(),
            crate::says::run_sides(&sides),
        );
        let chart = crate::sides::SidesChart { sides: &sides };
        let svg = chart.svg();
        std::fs::write(dir.join("availability-by-side.svg"), &svg).map_err(|e| e.to_string())?;
        chart.png(&dir.join("availability-by-side.png"))?;
        svgs.push(("availability-by-side".to_string(), svg));
    }
    let diagram = lamport(data, history, &options.lamport, &bands);
    lap(LAPS[4]);
    let lamport = match diagram {
        Ok(diagram) => {
            if diagram.is_empty() {
                warnings.push(format!(
                    "the space-time diagram ({:.3} ms to {:.3} ms) is empty: {}",
                    diagram.from_ns as f64 / 1e6,
                    diagram.to_ns as f64 / 1e6,
                    diagram.notes.first().map_or("", String::as_str)
                ));
            }
            let svg = diagram.svg();
            std::fs::write(dir.join("lamport.svg"), &svg).map_err(|e| e.to_string())?;
            diagram.png(&dir.join("lamport.png"))?;
            Ok((diagram, svg))
        }
        Err(why) => Err(why),
    };
    lap(LAPS[5]);
    // A failing transactional check: its first cycle, drawn.
    let cycle = match (data.history, data.checks) {
        (Some(history), Some(checks)) => {
            let t = data
                .resolved
                .workload
                .transactions
                .clone()
                .unwrap_or_default();
            let models: Vec<sim_core::txn::models::Model> = t
                .models()
                .iter()
                .filter_map(|m| sim_core::txn::models::Model::parse(m))
                .collect();
            crate::cycle::failing_run_check(
                history,
                checks,
                u64::from(data.resolved.workload.clients),
                &models,
            )
        }
        _ => None,
    };
    let mut cycle_figure = None;
    if let Some((txns, report)) = &cycle {
        if let Some(finding) = crate::cycle::pictured(report).first() {
            let picture = crate::cycle::CyclePicture {
                history: txns,
                kind: &finding.kind,
                steps: finding.cycle.as_deref().unwrap_or(&[]),
            };
            let svg = picture.svg();
            std::fs::write(dir.join("txn-cycle.svg"), &svg).map_err(|e| e.to_string())?;
            picture.png(&dir.join("txn-cycle.png"))?;
            cycle_figure = Some((sim_core::txn::explain::finding_text(txns, finding), svg));
        }
    }
    let mut page = page(dir, data, &svgs, &bands, &lamport, &says);
    if let Some((text, svg)) = cycle_figure {
        let section = format!(
            "<h2 id=\"txn-cycle\">The transactions' first anomaly</h2>\n<p>Each box a transaction, each arrow a dependency and why (ww, wr, rw, session, real time); the cycle means no order of the transactions explains what they read.{}</p>\n<pre>{}</pre>\n{}",
            if dir.join("counterexample.html").is_file() {
                " All anomalies, in words: <a href=\"counterexample.html\">counterexample.html</a>."
            } else {
                ""
            },
            escape(&text),
            crate::html::figure("txn-cycle", &svg, None)
        );
        page = page.replacen("<h2>Faults</h2>", &format!("{section}<h2>Faults</h2>"), 1);
    }
    let path = dir.join("report.html");
    std::fs::write(&path, page).map_err(|e| e.to_string())?;
    lap(LAPS[6]);
    Ok(Written {
        page: path,
        warnings,
    })
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

fn page(
    dir: &Path,
    data: &RunData<'_>,
    svgs: &[(String, String)],
    bands: &[crate::bands::FaultBand],
    lamport: &Result<(Diagram, String), String>,
    says: &std::collections::BTreeMap<String, String>,
) -> String {
    let scenario = data.resolved;
    let summary = data.summary.unwrap_or(&Json::Null);
    let mut out = String::new();
    let title = format!("{} seed {}", scenario.name, scenario.seed);
    out.push_str(&crate::html::head(&title));
    out.push_str(&crate::html::lesson(
        &scenario.description,
        scenario.lesson.as_deref(),
    ));
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
        out.push_str(&crate::html::figure(
            name,
            svg,
            says.get(name).map(String::as_str),
        ));
    }
    out.push_str("<h2 id=\"space-time\">Space-time diagram</h2>\n");
    match lamport {
        Ok((diagram, svg)) => {
            let _ = writeln!(
                out,
                "<p>Messages, faults and client operations from {:.3} ms to {:.3} ms, replayed from resolved.ron (time runs down, one row per event time). Another window: <code>faultline report DIR --from 1.2s --to 1.4s --nodes n1,n2,client1</code>.</p>",
                diagram.from_ns as f64 / 1e6,
                diagram.to_ns as f64 / 1e6
            );
            out.push_str(&crate::html::figure("lamport", svg, None));
        }
        Err(why) => {
            let _ = writeln!(out, "<p>No diagram: {}</p>", escape(why));
        }
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
        // Only what the run wrote: no link may lead nowhere.
        if dir.join(file).is_file() {
            let _ = writeln!(out, "<li><a href=\"{file}\">{file}</a></li>");
        }
    }
    out.push_str("</ul>\n</body>\n</html>\n");
    out
}
