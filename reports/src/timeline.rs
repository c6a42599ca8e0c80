//! The counterexample timeline of a history that is not linearizable: a
//! self-contained HTML page with two charts of the key's operations, one
//! row per client process, time in ms across, the faults shaded.
//!
//! - **The overview** draws every operation of the key (up to
//!   `OVERVIEW_OPS_MAX`, those nearest the culprit) as a thin bar, so that
//!   1,000 operations read as a picture of the run, with the focus window
//!   shaded.
//! - **The focus** zooms on the culprit's window: the `FOCUS_OPS_MAX`
//!   operations nearest it in invocation order, each labelled, the longest
//!   linearizable prefix numbered in linearization order, the culprit red.
//!
//! A table lists the focus's operations with their exact times; in a run
//! folder, a link leads to the space-time diagram of the same window
//! (the report's default window for a linearizability failure is this one).

use crate::bands::FaultBand;
use crate::charts::{draw_bands, outcome_colour, Drawable, Drawn, FAMILY};
use crate::html::escape;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use sim_core::checker::explain::describe;
use sim_core::checker::linearizability::Counterexample;
use sim_core::history::{Function, History, Operation, Outcome};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Operations in the focus at most (labelled, so few enough to read).
pub const FOCUS_OPS_MAX: usize = 40;
/// Operations in the overview at most (bars only).
pub const OVERVIEW_OPS_MAX: usize = 5_000;
/// Pixels per row in the overview and in the focus.
const OVERVIEW_ROW_PX: u32 = 12;
const FOCUS_ROW_PX: u32 = 22;
/// A chart's height, at least and at most.
const HEIGHT_PX_MIN: u32 = 200;
const HEIGHT_PX_MAX: u32 = 4_000;

/// An operation in a few words: `write k1 4.12`, `read k1 -> 5.6 (fail)`.
pub fn op_label(op: &Operation) -> String {
    let value = op.value.as_deref().unwrap_or("?");
    let what = match op.f {
        Function::Read => format!("read {} -> {value}", op.key),
        Function::Write => format!("write {} {value}", op.key),
        Function::Cas => format!(
            "cas {} {} -> {value}",
            op.key,
            op.expected
                .as_deref()
                .filter(|e| !e.is_empty())
                .unwrap_or("(none)")
        ),
        Function::Append => format!("append {} {value}", op.key),
        Function::Transfer => format!("transfer {} {value}", op.key),
        Function::Order => format!("order {} x{value}", op.key),
        Function::Txn => format!("txn {value}"),
    };
    match op.outcome {
        Outcome::Ok => what,
        Outcome::Fail => format!("{what} (fail)"),
        Outcome::Info => format!("{what} (unknown)"),
    }
}

/// An operation's part in the counterexample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// In the longest linearizable prefix, at this place (from 1).
    Prefix(usize),
    /// The operation that cannot be placed next.
    Culprit,
    /// Completed, but not placed.
    Unplaced,
    /// Unknown outcome: it may take effect at any later time.
    Open,
}

/// One operation as a bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// Its index in the history.
    pub index: usize,
    pub process: u64,
    /// Who ran it, by the run's name ("client3"); a client's successive
    /// processes share its row.
    pub who: String,
    pub start_ms: f64,
    /// `None`: never completed (drawn to the chart's right edge).
    pub end_ms: Option<f64>,
    pub role: Role,
    pub label: String,
}

/// The data behind both charts.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// The overview's bars, in invocation order.
    pub bars: Vec<Bar>,
    /// The focus: indices into `bars`.
    pub focus: Vec<usize>,
    /// The focus window, in ns of simulated time.
    pub window_ns: (u64, u64),
    /// The overview's time span in ms.
    pub span_ms: (f64, f64),
    /// Operations on the key, drawn or not.
    pub operations: usize,
    /// Operations of the window that is not linearizable on its own, when
    /// the focus is around it (0: the counterexample is the whole key, from
    /// the search, or its window is too wide for the focus).
    pub window_ops: usize,
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// The key's operations in invocation order, and the `max` nearest the
/// culprit among them (a range of that order).
fn nearest(
    history: &History,
    sub_history: &[usize],
    culprit: Option<usize>,
    max: usize,
) -> (Vec<usize>, std::ops::Range<usize>) {
    let ops = &history.operations;
    let mut sub: Vec<usize> = sub_history.to_vec();
    sub.sort_by_key(|&i| (ops[i].invoke_ns, i));
    let centre = culprit
        .and_then(|c| sub.iter().position(|i| *i == c))
        .unwrap_or(0);
    let start = centre
        .saturating_sub(max / 2)
        .min(sub.len().saturating_sub(max));
    let range = start..(start + max).min(sub.len());
    (sub, range)
}

/// The focus window of a counterexample whose key has `sub_history` and
/// whose culprit is `culprit` (history indices): what the timeline's focus
/// shows, and the space-time diagram's default window for it.
/// `window`: the operations that are not linearizable on their own, when
/// the counterexample is such a window of the key (else empty).
pub fn culprit_window(
    history: &History,
    sub_history: &[usize],
    culprit: usize,
    window: &[usize],
) -> (u64, u64) {
    let (sub, range, _) = focus(history, sub_history, Some(culprit), window);
    focus_window(history, &sub[range])
}

/// The focus among the key's operations (in invocation order): the
/// `FOCUS_OPS_MAX` around `window` when it fits, so that every operation
/// of the window shows (true); otherwise those nearest the culprit.
fn focus(
    history: &History,
    sub_history: &[usize],
    culprit: Option<usize>,
    window: &[usize],
) -> (Vec<usize>, std::ops::Range<usize>, bool) {
    let (sub, near) = nearest(history, sub_history, culprit, FOCUS_OPS_MAX);
    let places: Vec<usize> = window
        .iter()
        .filter_map(|w| sub.iter().position(|i| i == w))
        .collect();
    let (Some(&first), Some(&last)) = (places.iter().min(), places.iter().max()) else {
        return (sub, near, false);
    };
    if places.len() < window.len() || last - first + 1 > FOCUS_OPS_MAX {
        return (sub, near, false);
    }
    let spare = FOCUS_OPS_MAX - (last - first + 1);
    let start = first
        .saturating_sub(spare / 2)
        .min(sub.len().saturating_sub(FOCUS_OPS_MAX));
    let range = start..(start + FOCUS_OPS_MAX).min(sub.len());
    debug_assert!(
        range.start <= first && last < range.end,
        "the window is in focus"
    );
    (sub, range, true)
}

/// The timeline's data: the key's operations nearest the culprit (or the
/// first, without one), their roles, and the focus.
pub fn timeline(
    history: &History,
    cx: &Counterexample,
    name_of: &dyn Fn(u64) -> String,
) -> Timeline {
    let ops = &history.operations;
    // The whole key, even when the counterexample is a window of it: the
    // picture shows the run around the window, the prefix and the culprit.
    let key_ops = cx.key_indices(history);
    let (sub, overview) = nearest(history, &key_ops, cx.culprit, OVERVIEW_OPS_MAX);
    let window: &[usize] = if cx.is_window() { &cx.sub_history } else { &[] };
    let (_, mut focus_range, mut around_window) = focus(history, &key_ops, cx.culprit, window);
    if focus_range.start < overview.start || focus_range.end > overview.end {
        focus_range = nearest(history, &key_ops, cx.culprit, FOCUS_OPS_MAX).1;
        around_window = false;
    }
    let rank: BTreeMap<usize, usize> = cx
        .longest_prefix
        .iter()
        .enumerate()
        .map(|(place, op)| (*op, place + 1))
        .collect();
    let bars: Vec<Bar> = sub[overview.clone()]
        .iter()
        .map(|&index| {
            let op = &ops[index];
            let role = if cx.culprit == Some(index) {
                Role::Culprit
            } else if let Some(place) = rank.get(&index) {
                Role::Prefix(*place)
            } else if op.outcome == Outcome::Info {
                Role::Open
            } else {
                Role::Unplaced
            };
            Bar {
                index,
                process: op.process,
                who: name_of(op.process),
                start_ms: ms(op.invoke_ns),
                end_ms: op.complete_ns.map(ms),
                role,
                label: op_label(op),
            }
        })
        .collect();
    let focus: Vec<usize> =
        (focus_range.start - overview.start..focus_range.end - overview.start).collect();
    let window_ns = focus_window(
        history,
        &focus.iter().map(|&b| bars[b].index).collect::<Vec<_>>(),
    );
    let low = bars
        .iter()
        .map(|b| b.start_ms)
        .fold(f64::INFINITY, f64::min);
    let high = bars
        .iter()
        .map(|b| b.end_ms.unwrap_or(b.start_ms))
        .fold(f64::NEG_INFINITY, f64::max);
    let span_ms = if low.is_finite() {
        (
            0.0f64.max(low - (high - low) * 0.02),
            high + (high - low).max(1.0) * 0.02,
        )
    } else {
        (0.0, 1.0)
    };
    Timeline {
        bars,
        focus,
        window_ns,
        span_ms,
        operations: key_ops.len(),
        window_ops: if around_window { window.len() } else { 0 },
    }
}

/// The window of `ops` (history indices): from the first invocation to
/// the last completion (or invocation, for one that never completed),
/// widened by a tenth on each side so the bars do not touch its edges.
pub fn focus_window(history: &History, ops: &[usize]) -> (u64, u64) {
    let times = ops.iter().map(|&i| &history.operations[i]);
    let first = times.clone().map(|op| op.invoke_ns).min().unwrap_or(0);
    let last = times
        .map(|op| op.complete_ns.unwrap_or(op.invoke_ns))
        .max()
        .unwrap_or(0)
        .max(first + 1);
    let pad = (last - first) / 10;
    (first.saturating_sub(pad), last + pad)
}

/// Which chart of the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Overview,
    Focus,
}

/// One of the timeline's two charts.
pub struct TimelineChart<'a> {
    pub data: &'a Timeline,
    pub view: View,
    /// The run's faults (none for a history from elsewhere).
    pub bands: &'a [FaultBand],
}

impl TimelineChart<'_> {
    fn bars(&self) -> Vec<&Bar> {
        match self.view {
            View::Overview => self.data.bars.iter().collect(),
            View::Focus => self
                .data
                .focus
                .iter()
                .map(|&i| &self.data.bars[i])
                .collect(),
        }
    }

    /// The rows, top to bottom: in the overview one per process (in
    /// order), in the focus one per operation (in invocation order), so
    /// that every focus label has a line of its own.
    fn rows(&self) -> Vec<String> {
        match self.view {
            View::Overview => {
                // One row per name, in the order of their first process.
                let mut by_process: Vec<(u64, &str)> = self
                    .bars()
                    .iter()
                    .map(|b| (b.process, b.who.as_str()))
                    .collect();
                by_process.sort_unstable();
                let mut rows: Vec<String> = Vec::new();
                for (_, who) in by_process {
                    if !rows.iter().any(|r| r == who) {
                        rows.push(who.to_string());
                    }
                }
                rows
            }
            View::Focus => self
                .bars()
                .iter()
                .map(|b| format!("#{} {}", b.index, b.who))
                .collect(),
        }
    }

    /// The row of the `i`th bar, counted from the bottom (plotters' y).
    fn row_of(&self, i: usize, bar: &Bar, rows: &[String]) -> f64 {
        let from_top = match self.view {
            View::Overview => rows.iter().position(|r| *r == bar.who).unwrap_or(0),
            View::Focus => i,
        };
        (rows.len() - 1 - from_top) as f64
    }

    fn x_range(&self) -> (f64, f64) {
        match self.view {
            View::Overview => self.data.span_ms,
            View::Focus => (ms(self.data.window_ns.0), ms(self.data.window_ns.1)),
        }
    }
}

fn role_colour(role: Role) -> RGBColor {
    match role {
        Role::Prefix(_) => RGBColor(44, 160, 44),
        Role::Culprit => outcome_colour(Outcome::Fail),
        Role::Unplaced => RGBColor(120, 170, 220),
        Role::Open => RGBColor(190, 190, 190),
    }
}

impl Drawable for TimelineChart<'_> {
    fn size(&self) -> (u32, u32) {
        let per_row = match self.view {
            View::Overview => OVERVIEW_ROW_PX,
            View::Focus => FOCUS_ROW_PX,
        };
        let height = 120 + per_row * self.rows().len() as u32;
        (1200, height.clamp(HEIGHT_PX_MIN, HEIGHT_PX_MAX))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let rows = self.rows();
        let bars = self.bars();
        let (x_low, x_high) = self.x_range();
        let n = rows.len().max(1) as f64;
        let caption = match self.view {
            View::Overview if bars.len() < self.data.operations => format!(
                "{} of the {} operations on the key, those nearest the culprit (the focus shaded)",
                bars.len(),
                self.data.operations
            ),
            View::Overview => format!(
                "all {} of {} operations on the key (the focus shaded)",
                bars.len(),
                self.data.operations
            ),
            View::Focus if self.data.window_ops > 0 => format!(
                "focus: the {} operations around the {} not linearizable on their own, {:.3} ms to {:.3} ms",
                bars.len(),
                self.data.window_ops,
                x_low,
                x_high
            ),
            View::Focus => format!(
                "focus: the {} operations nearest the culprit, {:.3} ms to {:.3} ms",
                bars.len(),
                x_low,
                x_high
            ),
        };
        // From the top: plotters counts rows from the bottom.
        let labels: Vec<String> = rows.iter().rev().cloned().collect();
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FAMILY, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(if self.view == View::Focus { 80 } else { 50 })
            .build_cartesian_2d(x_low..x_high.max(x_low + 1e-6), -0.5..n - 0.5)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows.len().min(60))
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc("time (ms)")
            .label_style((FAMILY, 12))
            .draw()?;
        // The faults, clipped to what the chart shows.
        let clipped: Vec<FaultBand> = self
            .bands
            .iter()
            .filter(|b| b.end_ms >= x_low && b.start_ms <= x_high)
            .map(|b| FaultBand {
                start_ms: b.start_ms.max(x_low),
                end_ms: b.end_ms.min(x_high),
                ..b.clone()
            })
            .collect();
        draw_bands(&mut chart, &clipped, (-0.5, n - 0.5))?;
        if self.view == View::Overview {
            let (from, to) = (ms(self.data.window_ns.0), ms(self.data.window_ns.1));
            chart.draw_series(std::iter::once(Rectangle::new(
                [(from, -0.5), (to, n - 0.5)],
                RGBColor(255, 215, 0).mix(0.25).filled(),
            )))?;
        }
        let half = match self.view {
            View::Overview => 0.3,
            View::Focus => 0.3,
        };
        for (i, bar) in bars.iter().enumerate() {
            let y = self.row_of(i, bar, &rows);
            let end = bar.end_ms.unwrap_or(x_high).min(x_high);
            let start = bar.start_ms.max(x_low);
            let colour = role_colour(bar.role);
            let corners = [(start, y - half), (end.max(start), y + half)];
            chart.draw_series(std::iter::once(Rectangle::new(corners, colour.filled())))?;
            if self.view == View::Focus {
                chart.draw_series(std::iter::once(Rectangle::new(
                    corners,
                    BLACK.mix(0.5).stroke_width(1),
                )))?;
                let text = match bar.role {
                    Role::Prefix(place) => format!("{place}: {}", bar.label),
                    Role::Culprit => format!("culprit: {}", bar.label),
                    _ => bar.label.clone(),
                };
                // Right of the bar, or left of it when it ends late in
                // the window (so the label stays inside the chart).
                let late = end > x_low + (x_high - x_low) * 0.7;
                let (at, offset, anchor) = if late {
                    (start, -4, HPos::Right)
                } else {
                    (end, 4, HPos::Left)
                };
                let style = TextStyle::from((FAMILY, 11).into_font())
                    .color(&BLACK)
                    .pos(Pos::new(anchor, VPos::Center));
                chart.draw_series(std::iter::once(
                    EmptyElement::at((at, y)) + Text::new(text, (offset, 0), style),
                ))?;
            }
        }
        Ok(())
    }
}

/// Renders the page. `title` names the history (a file, a scenario and
/// seed); `bands` are the run's faults; `lamport` links to the space-time
/// diagram of the focus window, when there is one.
pub fn render(
    history: &History,
    cx: &Counterexample,
    title: &str,
    bands: &[FaultBand],
    lamport: Option<&str>,
    name_of: &dyn Fn(u64) -> String,
) -> String {
    crate::charts::register_font();
    let data = timeline(history, cx, name_of);
    let ops = &history.operations;
    let culprit = match cx.culprit {
        Some(c) => format!("#{c} {}", describe(&ops[c])),
        None => "none found".to_string(),
    };
    let mut out = crate::html::head(&format!("{title}: not linearizable"));
    let _ = writeln!(
        out,
        "<h2>Key {} is not linearizable</h2>\n<p>{} operations on this key{}; the longest linearizable prefix has {} (numbered in linearization order), leaving state <code>{}</code>. The culprit cannot be placed next: <code>{}</code>.</p>",
        escape(&cx.key),
        cx.key_operations,
        if cx.is_window() {
            format!(
                ", of which these {} are not linearizable on their own ({})",
                cx.sub_history.len(),
                escape(cx.finding.as_deref().unwrap_or("the distinct-values check"))
            )
        } else {
            String::new()
        },
        cx.longest_prefix.len(),
        escape(&cx.state_after_prefix),
        escape(&culprit)
    );
    let _ = writeln!(
        out,
        "<p class=\"lesson\" style=\"border-left:4px solid #d55e00;padding:0.4em 0.8em;background:#fdf0e8\"><strong>In words.</strong> {}</p>",
        escape(&sim_core::checker::explain::in_words(history, cx, name_of))
    );
    let swatch = |role: Role, text: &str| {
        let RGBColor(r, g, b) = role_colour(role);
        format!("<span style=\"display:inline-block;width:14px;height:10px;background:#{r:02x}{g:02x}{b:02x};margin:0 4px 0 12px\"></span>{text}")
    };
    let _ = writeln!(
        out,
        "<p>{}{}{}{}</p>",
        swatch(Role::Prefix(1), "in the prefix"),
        swatch(Role::Unplaced, "not placed"),
        swatch(Role::Open, "unknown outcome, open to the end"),
        swatch(Role::Culprit, "culprit")
    );
    if let Some(href) = lamport {
        let _ = writeln!(
            out,
            "<p>The messages behind the focus window ({:.3} ms to {:.3} ms): <a href=\"{}\">its space-time diagram</a>.</p>",
            ms(data.window_ns.0),
            ms(data.window_ns.1),
            escape(href)
        );
    }
    for view in [View::Focus, View::Overview] {
        let chart = TimelineChart {
            data: &data,
            view,
            bands,
        };
        let svg = chart.svg();
        let _ = writeln!(
            out,
            "<figure>\n{}\n</figure>",
            svg.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
                .trim()
        );
    }
    out.push_str("<h3>The focus's operations</h3>\n<table>\n<tr><th>#</th><th>who</th><th>operation</th><th>invoked (ms)</th><th>completed (ms)</th><th>role</th></tr>\n");
    for &b in &data.focus {
        let bar = &data.bars[b];
        let role = match bar.role {
            Role::Prefix(place) => format!("prefix, place {place}"),
            Role::Culprit => "culprit".to_string(),
            Role::Unplaced => "not placed".to_string(),
            Role::Open => "unknown outcome".to_string(),
        };
        let _ = writeln!(
            out,
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{}</td><td>{}</td></tr>",
            if bar.role == Role::Culprit {
                " class=\"fail\""
            } else {
                ""
            },
            bar.index,
            escape(&bar.who),
            escape(&bar.label),
            bar.start_ms,
            bar.end_ms
                .map_or("never".to_string(), |t| format!("{t:.3}")),
            role
        );
    }
    out.push_str("</table>\n</body>\n</html>\n");
    out
}
