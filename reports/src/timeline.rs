//! A self-contained HTML page with an SVG timeline of a counterexample: one
//! row per client process, one bar per operation from invocation to
//! completion (to the right edge when it never completed), the longest
//! linearizable prefix numbered in linearization order, and the culprit in
//! red. No scripts, no external files: the page opens anywhere.

use crate::html::escape;
use sim_core::checker::explain::describe;
use sim_core::checker::linearizability::Counterexample;
use sim_core::history::{History, Outcome};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Operations drawn at most (those nearest the culprit in time).
pub const DRAWN_OPS_MAX: usize = 300;
const ROW_HEIGHT: f64 = 28.0;
const LEFT: f64 = 70.0;
const WIDTH: f64 = 1200.0;

/// Renders the page. `title` names the history (a file, a scenario and seed).
pub fn render(history: &History, cx: &Counterexample, title: &str) -> String {
    let ops = &history.operations;
    // Nearest the culprit (or the start) in sub-history order.
    let centre = cx
        .culprit
        .and_then(|c| cx.sub_history.iter().position(|i| *i == c))
        .unwrap_or(0);
    let start = centre.saturating_sub(DRAWN_OPS_MAX / 2);
    let shown: Vec<usize> =
        cx.sub_history[start..(start + DRAWN_OPS_MAX).min(cx.sub_history.len())].to_vec();
    let order: BTreeMap<usize, usize> = cx
        .longest_prefix
        .iter()
        .enumerate()
        .map(|(rank, op)| (*op, rank + 1))
        .collect();
    let t_min = shown.iter().map(|&i| ops[i].invoke_ns).min().unwrap_or(0);
    let t_max = shown
        .iter()
        .map(|&i| ops[i].complete_ns.unwrap_or(ops[i].invoke_ns))
        .max()
        .unwrap_or(1)
        .max(t_min + 1);
    let span = (t_max - t_min) as f64 * 1.05;
    let x = |t: u64| LEFT + (t.saturating_sub(t_min)) as f64 / span * (WIDTH - LEFT - 20.0);
    let processes: Vec<u64> = {
        let mut p: Vec<u64> = shown.iter().map(|&i| ops[i].process).collect();
        p.sort_unstable();
        p.dedup();
        p
    };
    let row = |process: u64| processes.iter().position(|p| *p == process).unwrap_or(0) as f64;
    let height = 40.0 + processes.len() as f64 * ROW_HEIGHT;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="monospace" font-size="11">"#
    );
    for (index, process) in processes.iter().enumerate() {
        let y = 30.0 + index as f64 * ROW_HEIGHT;
        let _ = writeln!(
            svg,
            r##"<text x="4" y="{:.1}">p{process}</text><line x1="{LEFT}" y1="{:.1}" x2="{WIDTH}" y2="{:.1}" stroke="#eee"/>"##,
            y + 14.0,
            y + 20.0,
            y + 20.0
        );
    }
    for &index in &shown {
        let op = &ops[index];
        let y = 30.0 + row(op.process) * ROW_HEIGHT;
        let x0 = x(op.invoke_ns);
        let x1 = op.complete_ns.map_or(WIDTH - 10.0, x).max(x0 + 2.0);
        let culprit = cx.culprit == Some(index);
        let (fill, dash) = match (culprit, op.outcome) {
            (true, _) => ("#e53935", ""),
            (false, Outcome::Info) => ("#bdbdbd", r#" stroke-dasharray="4 3""#),
            (false, _) if order.contains_key(&index) => ("#81c784", ""),
            (false, _) => ("#90caf9", ""),
        };
        let label = match order.get(&index) {
            Some(rank) => format!("{rank}: {}", describe(op)),
            None => describe(op),
        };
        let _ = writeln!(
            svg,
            r##"<g><title>#{index} {}</title><rect x="{x0:.1}" y="{y:.1}" width="{:.1}" height="18" fill="{fill}" stroke="#555"{dash}/><text x="{:.1}" y="{:.1}">{}</text></g>"##,
            escape(&describe(op)),
            x1 - x0,
            x0 + 2.0,
            y + 13.0,
            escape(
                &label
                    .chars()
                    .take(((x1 - x0) / 6.6).max(0.0) as usize)
                    .collect::<String>()
            )
        );
    }
    let _ = writeln!(svg, "</svg>");
    let culprit = match cx.culprit {
        Some(c) => format!("#{c} {}", describe(&ops[c])),
        None => "none found".to_string(),
    };
    format!(
        r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title} - not linearizable</title>
<style>body{{font-family:sans-serif;margin:20px}} .k{{display:inline-block;width:14px;height:10px;border:1px solid #555;margin:0 4px 0 12px}}</style></head>
<body>
<h2>{title}: key {key} is not linearizable</h2>
<p>{n} operations on this key; the longest linearizable prefix has {p} (numbered in order), leaving state <code>{state}</code>.
The culprit cannot be placed next: <code>{culprit}</code>.</p>
<p><span class="k" style="background:#81c784"></span>in the prefix<span class="k" style="background:#90caf9"></span>not placed
<span class="k" style="background:#bdbdbd"></span>unknown (info), open to the end<span class="k" style="background:#e53935"></span>culprit.
Hover a bar for its details. {shown} of {n} operations drawn.</p>
{svg}</body></html>
"#,
        title = escape(title),
        key = escape(&cx.key),
        n = cx.sub_history.len(),
        p = cx.longest_prefix.len(),
        state = escape(&cx.state_after_prefix),
        culprit = escape(&culprit),
        shown = shown.len(),
    )
}
