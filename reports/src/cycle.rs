//! Pictures of transactional anomalies: each transaction of a cycle as a
//! box (its name, session and micro-ops), in a ring, with an arrow for
//! each dependency labelled by its kind (ww, wr, rw, process, rt, co) and
//! key. One colour per kind, the same in every picture. And the page that
//! explains a transactional history's anomalies: `counterexample.html`.

use crate::charts::{register_font, shorten, Drawable, Drawn, FAMILY};
use crate::html::{escape, figure, head};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use sim_core::txn::check::{Finding, Report};
use sim_core::txn::explain;
use sim_core::txn::graph::INFERRED;
use sim_core::txn::graph::{kind_name, Edge, PROCESS, REALTIME, RW, WR, WW};
use sim_core::txn::TxnHistory;
use std::fmt::Write;
use std::path::Path;

/// The colour of each dependency kind.
pub fn kind_colour(kind: u8) -> RGBColor {
    match kind {
        WW => RGBColor(0x1f, 0x77, 0xb4),       // blue
        WR => RGBColor(0x2c, 0xa0, 0x2c),       // green
        RW => RGBColor(0xd6, 0x27, 0x28),       // red
        PROCESS => RGBColor(0x94, 0x67, 0xbd),  // purple
        REALTIME => RGBColor(0x7f, 0x7f, 0x7f), // grey
        INFERRED => RGBColor(0xff, 0x7f, 0x0e), // orange
        _ => RGBColor(0, 0, 0),
    }
}

/// One cycle to draw.
pub struct CyclePicture<'a> {
    pub history: &'a TxnHistory,
    pub kind: &'a str,
    pub steps: &'a [Edge],
}

const WIDTH: u32 = 1000;
const BOX_W: i32 = 250;
const BOX_H: i32 = 54;

impl CyclePicture<'_> {
    fn nodes(&self) -> Vec<u32> {
        let mut nodes: Vec<u32> = Vec::new();
        for e in self.steps {
            if !nodes.contains(&e.from) {
                nodes.push(e.from);
            }
        }
        nodes
    }
}

impl CyclePicture<'_> {
    /// The transaction's micro-ops on the keys its arrows name (the rest
    /// elided), so that the box shows what the arrows say.
    fn relevant_mops(&self, t: u32) -> String {
        let keys: Vec<u32> = self
            .steps
            .iter()
            .filter(|e| (e.from == t || e.to == t) && e.key != u32::MAX)
            .map(|e| e.key)
            .collect();
        let full = self.history.render_mops(t as usize);
        if keys.is_empty() {
            return full;
        }
        let mut shown = Vec::new();
        let mut elided = false;
        for mop in self.history.mops_of(t as usize) {
            if keys.contains(&mop.key()) {
                shown.push(mop_text(self.history, mop));
            } else {
                elided = true;
            }
        }
        if elided {
            shown.push("…".to_string());
        }
        format!("[{}]", shown.join(" "))
    }
}

/// One micro-op in Jepsen's notation, a long list cut to its last elements.
fn mop_text(history: &TxnHistory, mop: &sim_core::txn::Mop) -> String {
    use sim_core::txn::Mop;
    let key = &history.keys[mop.key() as usize];
    match *mop {
        Mop::Append { value, .. } => format!("[:append {key} {value}]"),
        Mop::Write { value, .. } => format!("[:w {key} {value}]"),
        Mop::ReadList {
            start, len, known, ..
        } => {
            if !known {
                return format!("[:r {key} nil]");
            }
            let list = history.list(start, len);
            let tail: Vec<String> = list
                .iter()
                .rev()
                .take(3)
                .rev()
                .map(i64::to_string)
                .collect();
            let head = if list.len() > 3 { "… " } else { "" };
            format!("[:r {key} [{head}{}]]", tail.join(" "))
        }
        Mop::Read { value, known, .. } => match (known, value) {
            (true, Some(v)) => format!("[:r {key} {v}]"),
            _ => format!("[:r {key} nil]"),
        },
    }
}

impl Drawable for CyclePicture<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.nodes().len() as u32;
        (WIDTH, if n <= 2 { 360 } else { 560 })
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let (w, h) = self.size();
        let nodes = self.nodes();
        let n = nodes.len().max(1);
        let title = TextStyle::from((FAMILY, 18).into_font()).color(&BLACK);
        root.draw(&Text::new(
            format!(
                "{}: {} transactions, {} dependencies (arrow: must come before)",
                self.kind,
                nodes.len(),
                self.steps.len()
            ),
            (16, 12),
            title,
        ))?;
        // Centres on an ellipse (two nodes: side by side).
        let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0 + 16.0);
        let (rx, ry) = (
            w as f64 / 2.0 - BOX_W as f64 / 2.0 - 30.0,
            h as f64 / 2.0 - 90.0,
        );
        let centre = |i: usize| -> (f64, f64) {
            let angle = std::f64::consts::PI * (1.0 + 2.0 * i as f64 / n as f64);
            (cx + rx * angle.cos(), cy + ry * angle.sin())
        };
        // Arrows first, under the boxes.
        let label_style = TextStyle::from((FAMILY, 14).into_font());
        for (index, e) in self.steps.iter().enumerate() {
            let (Some(a), Some(b)) = (
                nodes.iter().position(|&x| x == e.from),
                nodes.iter().position(|&x| x == e.to),
            ) else {
                continue;
            };
            let colour = kind_colour(e.kind);
            let (x0, y0) = centre(a);
            let (x1, y1) = centre(b);
            // Bend each arrow to the right of its direction, so that two
            // arrows between one pair (one each way) do not overlap.
            let (dx, dy) = (x1 - x0, y1 - y0);
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            let (nx, ny) = (-dy / len, dx / len);
            let bend = 40.0;
            let (mx, my) = ((x0 + x1) / 2.0 + nx * bend, (y0 + y1) / 2.0 + ny * bend);
            // Clip the ends at the boxes.
            let clip = |(px, py): (f64, f64), (qx, qy): (f64, f64)| -> (f64, f64) {
                let (ddx, ddy) = (qx - px, qy - py);
                let tx = if ddx.abs() > 1e-9 {
                    (BOX_W as f64 / 2.0 + 6.0) / ddx.abs()
                } else {
                    f64::INFINITY
                };
                let ty = if ddy.abs() > 1e-9 {
                    (BOX_H as f64 / 2.0 + 6.0) / ddy.abs()
                } else {
                    f64::INFINITY
                };
                let t = tx.min(ty).min(1.0);
                (px + ddx * t, py + ddy * t)
            };
            let start = clip((x0, y0), (mx, my));
            let end = clip((x1, y1), (mx, my));
            let points: Vec<(i32, i32)> = (0..=16)
                .map(|k| {
                    let t = k as f64 / 16.0;
                    let u = 1.0 - t;
                    let x = u * u * start.0 + 2.0 * u * t * mx + t * t * end.0;
                    let y = u * u * start.1 + 2.0 * u * t * my + t * t * end.1;
                    (x.round() as i32, y.round() as i32)
                })
                .collect();
            let stroke = ShapeStyle::from(&colour).stroke_width(3);
            root.draw(&PathElement::new(points.clone(), stroke))?;
            // Arrowhead along the last segment.
            let (ex, ey) = (end.0, end.1);
            let (px, py) = (points[14].0 as f64, points[14].1 as f64);
            let (ux, uy) = (ex - px, ey - py);
            let ul = (ux * ux + uy * uy).sqrt().max(1.0);
            let (ux, uy) = (ux / ul, uy / ul);
            let head = vec![
                (ex.round() as i32, ey.round() as i32),
                (
                    (ex - 14.0 * ux + 7.0 * uy).round() as i32,
                    (ey - 14.0 * uy - 7.0 * ux).round() as i32,
                ),
                (
                    (ex - 14.0 * ux - 7.0 * uy).round() as i32,
                    (ey - 14.0 * uy + 7.0 * ux).round() as i32,
                ),
            ];
            root.draw(&Polygon::new(head, colour.filled()))?;
            let key = if e.key == u32::MAX {
                String::new()
            } else {
                format!(
                    " {}",
                    shorten(
                        &self
                            .history
                            .keys
                            .get(e.key as usize)
                            .cloned()
                            .unwrap_or_default(),
                        10
                    )
                )
            };
            let label = format!("{}. {}{key}", index + 1, kind_name(e.kind));
            let (lx, ly) = (
                (mx + nx * 14.0).round() as i32,
                (my + ny * 14.0).round() as i32,
            );
            root.draw(&Text::new(
                label,
                (lx, ly),
                label_style
                    .clone()
                    .color(&colour)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }
        // Boxes.
        let name_style = TextStyle::from((FAMILY, 15).into_font()).color(&BLACK);
        let body_style =
            TextStyle::from((FAMILY, 12).into_font()).color(&RGBColor(0x33, 0x33, 0x33));
        for (i, &t) in nodes.iter().enumerate() {
            let (x, y) = centre(i);
            let (x0, y0) = (x.round() as i32 - BOX_W / 2, y.round() as i32 - BOX_H / 2);
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + BOX_W, y0 + BOX_H)],
                WHITE.filled(),
            ))?;
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + BOX_W, y0 + BOX_H)],
                ShapeStyle::from(&BLACK).stroke_width(2),
            ))?;
            let (name, body) = if (t as usize) < self.history.txns.len() {
                let txn = &self.history.txns[t as usize];
                (
                    format!("T{t} · {}", self.history.process_name(txn.process)),
                    shorten(&self.relevant_mops(t), 38),
                )
            } else {
                ("initial state".to_string(), "every key empty".to_string())
            };
            root.draw(&Text::new(name, (x0 + 8, y0 + 8), name_style.clone()))?;
            root.draw(&Text::new(body, (x0 + 8, y0 + 31), body_style.clone()))?;
        }
        Ok(())
    }
}

/// A failing transactional check of a run, judged again from the run's
/// history (deterministic, and cheap beside the run): the transactions,
/// and the report, or `None` if the run has no failing transactional
/// check. `clients` names the processes as the run does.
pub fn failing_run_check(
    history: &sim_core::history::History,
    checks: &serde_json::Value,
    clients: u64,
    models: &[sim_core::txn::models::Model],
) -> Option<(TxnHistory, Report)> {
    let failed = checks.as_array()?.iter().find(|c| {
        matches!(c["name"].as_str(), Some("list-append" | "rw-register")) && c["verdict"] == "fail"
    })?;
    let kind = if failed["name"] == "list-append" {
        sim_core::txn::TxnKind::ListAppend
    } else {
        sim_core::txn::TxnKind::RwRegister
    };
    let txns = sim_core::txn::history::from_history(history, kind, clients).ok()?;
    let options = sim_core::txn::check::Options {
        models: models.to_vec(),
        saturate_read_committed: kind == sim_core::txn::TxnKind::RwRegister,
        examples_per_kind_max: 4,
        ..Default::default()
    };
    let report = sim_core::txn::check::check(&txns, &options).ok()?;
    Some((txns, report))
}

/// The cycles of a report worth a picture: the first of each kind.
pub fn pictured(report: &Report) -> Vec<&Finding> {
    let mut out: Vec<&Finding> = Vec::new();
    for f in &report.anomalies {
        if f.cycle.is_some() && !out.iter().any(|o| o.kind == f.kind) {
            out.push(f);
        }
    }
    out
}

/// `counterexample.html` for a transactional history: the verdict, the
/// models ruled out and those still held, then each anomaly in words with
/// its picture. The pictures are written beside `out` as
/// `<stem>-<kind>.svg` and `.png`.
pub fn write_page(
    history: &TxnHistory,
    report: &Report,
    title: &str,
    out: &Path,
) -> Result<(), String> {
    register_font();
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stem = out
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("counterexample");
    let mut page = head(&format!("{title}: {}", history.kind.name()));
    let names = |ms: &[sim_core::txn::models::Model]| {
        if ms.is_empty() {
            "none".to_string()
        } else {
            ms.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")
        }
    };
    let _ = writeln!(
        page,
        "<p>{} transactions. <b>Ruled out:</b> {}. <b>Still consistent with (strongest):</b> {}.</p>",
        report.transactions,
        escape(&names(&report.ruled_out)),
        escape(&names(&report.strongest_consistent))
    );
    let _ = writeln!(
        page,
        "<p>What to notice: each arrow says one transaction must come before another, and why (its number is its step in the explanation). A cycle of such arrows means no order of the transactions explains what they read; the kinds of arrow in it say which isolation levels it breaks. Colours: {}.</p>",
        [WW, WR, RW, PROCESS, REALTIME, INFERRED]
            .iter()
            .map(|&k| {
                let RGBColor(r, g, b) = kind_colour(k);
                format!("<span style=\"color:#{r:02x}{g:02x}{b:02x};font-weight:bold\">{}</span>", kind_name(k))
            })
            .collect::<Vec<_>>()
            .join(" · ")
    );
    if !report.anomaly_counts.is_empty() {
        page.push_str("<table><tr><th>anomaly</th><th>count</th><th>what it is</th></tr>\n");
        for (kind, count) in &report.anomaly_counts {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{count}</td><td>{}</td></tr>",
                escape(kind),
                escape(explain::kind_phrase(kind))
            );
        }
        page.push_str("</table>\n");
    }
    for finding in &report.anomalies {
        let _ = writeln!(
            page,
            "<h2>{}</h2>\n<pre>{}</pre>",
            escape(&finding.kind),
            escape(&explain::finding_text(history, finding))
        );
        if let Some(steps) = &finding.cycle {
            if pictured(report).iter().any(|f| std::ptr::eq(*f, finding)) {
                let picture = CyclePicture {
                    history,
                    kind: &finding.kind,
                    steps,
                };
                let name = format!("{stem}-{}", finding.kind);
                let svg = picture.svg();
                std::fs::write(dir.join(format!("{name}.svg")), &svg)
                    .map_err(|e| format!("{}: {e}", dir.display()))?;
                picture.png(&dir.join(format!("{name}.png")))?;
                page.push_str(&figure(&name, &svg, None));
            }
        }
    }
    page.push_str("</body>\n</html>\n");
    std::fs::write(out, page).map_err(|e| format!("{}: {e}", out.display()))
}
