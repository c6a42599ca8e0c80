//! Anomalies in words, step by step: each transaction in full (its
//! process, times and outcome), then each edge of a cycle with the
//! observation it was inferred from, then the cycle's class and the
//! models it rules out.

use super::check::{Finding, Report};
use super::graph::INFERRED;
use super::graph::{Edge, INITIAL, PROCESS, REALTIME, RW, WR, WW};
use super::models;
use super::{TxnHistory, TxnKind};
use crate::history::Outcome;
use std::fmt::Write;

/// What a transaction is called in explanations.
pub fn name(history: &TxnHistory, t: u32) -> String {
    if t as usize == history.txns.len() {
        "the initial state".to_string()
    } else {
        format!("T{t}")
    }
}

fn time(history: &TxnHistory, at: u64) -> String {
    if history.times_are_ns {
        format!("{:.3} ms", at as f64 / 1e6)
    } else {
        format!("event {at}")
    }
}

/// One transaction in full: `T4 (client3, ok, 1.200 ms – 3.400 ms, line 9): [[:append 7 3] ...]`.
pub fn describe(history: &TxnHistory, t: u32) -> String {
    if t as usize >= history.txns.len() {
        return "the initial state: every key empty (nil)".to_string();
    }
    let txn = &history.txns[t as usize];
    let outcome = match txn.outcome {
        Outcome::Ok => "ok",
        Outcome::Fail => "failed",
        Outcome::Info => "unknown outcome",
    };
    let end = match txn.complete_ns {
        Some(c) => time(history, c),
        None => "never completed".to_string(),
    };
    let line = if txn.line > 0 {
        format!(", line {}", txn.line)
    } else {
        String::new()
    };
    format!(
        "T{t} ({}, {outcome}, {} – {end}{line}): {}",
        history.process_name(txn.process),
        time(history, txn.invoke_ns),
        history.render_mops(t as usize)
    )
}

/// One edge as a sentence.
pub fn edge_text(history: &TxnHistory, e: &Edge) -> String {
    let (a, b) = (name(history, e.from), name(history, e.to));
    let key = || {
        history
            .keys
            .get(e.key as usize)
            .cloned()
            .unwrap_or_else(|| "?".into())
    };
    let list = history.kind == TxnKind::ListAppend;
    let seen = |v: i64| {
        if v == INITIAL {
            "nothing (the initial state)".to_string()
        } else {
            v.to_string()
        }
    };
    match e.kind {
        WW if e.key == u32::MAX => format!("{a} precedes every write (ww)."),
        WW if list => format!(
            "{a} appended {} to key {} and {b} appended {} right after it, so {a} precedes {b} (ww).",
            e.value, key(), e.other
        ),
        WW => format!(
            "{b} read key {} as {} and then wrote {}, so {a}, which wrote {}, precedes {b} (ww).",
            key(), e.value, e.other, e.value
        ),
        WR if list => format!(
            "{b} read key {} ending in {}, which {a} appended, so {a} precedes {b} (wr).",
            key(), e.value
        ),
        WR => format!(
            "{b} read key {} as {}, which {a} wrote, so {a} precedes {b} (wr).",
            key(), e.value
        ),
        RW if list => format!(
            "{a} read key {} without {} ({}); {b} appended {}, so {a} precedes {b} (rw).",
            key(),
            e.value,
            if e.other == INITIAL { "it read the empty list".to_string() } else { format!("its read ended at {}", e.other) },
            e.value
        ),
        RW => format!(
            "{a} read key {} as {}; {b} wrote {}, a later version, so {a} precedes {b} (rw).",
            key(), seen(e.other), e.value
        ),
        PROCESS => {
            let p = history.txns.get(e.from as usize).map(|t| t.process).unwrap_or(0);
            format!(
                "{a} and {b} ran in one session ({}), {a} first (process).",
                history.process_name(p)
            )
        }
        REALTIME => {
            let done = history.txns[e.from as usize].complete_ns.unwrap_or(0);
            let began = history.txns[e.to as usize].invoke_ns;
            format!(
                "{a} completed ({}) before {b} began ({}) (rt).",
                time(history, done),
                time(history, began)
            )
        }
        INFERRED if e.to as usize == history.txns.len() => format!(
            "{} read key {} in its initial state, yet {a}, which wrote key {}, is visible to {} (it comes before it in session order or reads-from): {a}'s write would have to come before the initial state (co, inferred).",
            name(history, e.other as u32), key(), key(), name(history, e.other as u32)
        ),
        INFERRED => format!(
            "{} read key {} from {b}, yet {a}, which also wrote key {}, is visible to {} (it comes before it in session order or reads-from), so {a}'s write must come before {b}'s (co, inferred).",
            name(history, e.other as u32), key(), key(), name(history, e.other as u32)
        ),
        _ => format!("{a} precedes {b}."),
    }
}

/// What an anomaly kind is, in a phrase.
pub fn kind_phrase(kind: &str) -> &'static str {
    let base = kind
        .trim_end_matches("-process")
        .trim_end_matches("-realtime");
    match base {
        "G0" => "a cycle of writes (write-write dependencies only)",
        "G1a" => "an aborted read: a committed transaction saw a write of a failed one",
        "G1b" => "an intermediate read: a transaction saw a write that its writer later overwrote",
        "G1c" => "a cycle of writes and reads, with no anti-dependency",
        "G-single" => "a cycle with exactly one anti-dependency (read skew)",
        "G-nonadjacent" => "a cycle whose anti-dependencies are never adjacent",
        "G2-item" => "a cycle with adjacent anti-dependencies (write skew)",
        "lost-update" => "two committed transactions read the same version of a key and both wrote it (a lost update)",
        "dirty-update" => "a committed write built on an aborted one",
        "duplicate-elements" => "a read saw one element twice",
        "incompatible-order" => "two reads saw orders of one key that no single order explains",
        "garbage-read" => "a read saw a value nobody wrote",
        "future-read" => "a read saw a write its own transaction made only later",
        "internal" => "a read disagrees with its own transaction's earlier micro-ops",
        "read-committed-violation" => "read committed fails (Biswas & Enea): a read missed a write an earlier read of its transaction made visible",
        "read-atomic-violation" => "read atomic fails: a transaction saw part of another's writes and missed the rest (a fractured read)",
        "causal-violation" => "causal consistency fails: a transaction missed a write in its causal past",
        _ => "an anomaly",
    }
}

/// One finding in words: what it is, the transactions in full, each step.
pub fn finding_text(history: &TxnHistory, finding: &Finding) -> String {
    let mut out = String::new();
    let variant = if finding.kind.ends_with("-realtime") {
        " that needs real-time order"
    } else if finding.kind.ends_with("-process") {
        " that needs session (process) order"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "{}: {}{variant}.",
        finding.kind,
        kind_phrase(&finding.kind)
    );
    let mut txns = finding.txns.clone();
    if let Some(cycle) = &finding.cycle {
        for e in cycle {
            if !txns.contains(&e.from) {
                txns.push(e.from);
            }
            if !txns.contains(&e.to) {
                txns.push(e.to);
            }
            if e.kind == INFERRED && !txns.contains(&(e.other as u32)) {
                txns.push(e.other as u32);
            }
        }
    }
    for &t in &txns {
        let _ = writeln!(out, "  {}", describe(history, t));
    }
    if !finding.text.is_empty() {
        let _ = writeln!(out, "  {}", finding.text);
    }
    if let Some(cycle) = &finding.cycle {
        for e in cycle {
            let _ = writeln!(out, "  {}", edge_text(history, e));
        }
        if let Some(first) = cycle.first() {
            let mut path: Vec<String> = cycle.iter().map(|e| name(history, e.from)).collect();
            path.push(name(history, first.from));
            let _ = writeln!(
                out,
                "  So {} must come before itself ({}): a cycle, {}; no order of these transactions explains what they observed.",
                name(history, first.from),
                path.join(" → "),
                finding.kind
            );
        }
    }
    let weakest = models::weakest_ruled_out(&finding.kind);
    if !weakest.is_empty() {
        let names: Vec<&str> = weakest.iter().map(|m| m.name()).collect();
        let _ = writeln!(
            out,
            "  This rules out {} and every stronger model.",
            names.join(" and ")
        );
    }
    out
}

/// The whole report in words.
pub fn report_text(history: &TxnHistory, report: &Report) -> String {
    let mut out = String::new();
    if report.anomaly_counts.is_empty() {
        let _ = writeln!(out, "No anomalies found.");
    } else {
        let counts: Vec<String> = report
            .anomaly_counts
            .iter()
            .map(|(k, n)| format!("{k} ×{n}"))
            .collect();
        let _ = writeln!(out, "Anomalies: {}", counts.join(", "));
    }
    let names = |ms: &[models::Model]| {
        if ms.is_empty() {
            "none".to_string()
        } else {
            ms.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")
        }
    };
    let _ = writeln!(out, "Ruled out: {}", names(&report.ruled_out));
    let _ = writeln!(
        out,
        "Still consistent with (strongest): {}",
        names(&report.strongest_consistent)
    );
    let unknown: Vec<models::Model> = report
        .standings
        .iter()
        .filter(|s| s.standing == models::Standing::Unknown)
        .map(|s| s.model)
        .collect();
    if !unknown.is_empty() {
        let _ = writeln!(
            out,
            "Undecided: {} ({})",
            names(&unknown),
            report.unknown_reason.as_deref().unwrap_or("budget")
        );
    }
    for note in &report.notes {
        let _ = writeln!(out, "Note: {note}");
    }
    for finding in &report.anomalies {
        let _ = writeln!(out);
        out.push_str(&finding_text(history, finding));
    }
    out
}
