//! Jepsen's workload checkers beyond registers and transactions: `bank`,
//! `counter`, `set` and `set-full`, `long-fork` and `mutex`. Each reads the
//! paired operations of `history::jepsen` and reports every error it finds
//! with the operations involved, in words.
//!
//! Times are the history's own (event numbers for imported files,
//! nanoseconds for a simulated run); "before" means completed before the
//! other was invoked.

pub mod bank;
pub mod counter;
pub mod long_fork;
pub mod mutex;
pub mod set;

use crate::checker::Verdict;
use serde::Serialize;
use std::collections::BTreeMap;

/// One error: its kind, the operations (indices into the op list, with
/// their lines), and what was wrong.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    pub kind: String,
    /// Lines of the operations involved (their invocations).
    pub lines: Vec<usize>,
    pub text: String,
}

/// A workload check's answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub model: &'static str,
    pub verdict: Verdict,
    pub operations: usize,
    /// Error kind → count.
    pub error_counts: BTreeMap<String, u64>,
    /// The first `PROBLEMS_SHOWN_MAX` of each kind.
    pub problems: Vec<Problem>,
    /// Figures the check measured (named with their units).
    pub stats: BTreeMap<String, f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Problems kept per kind; every one is counted.
pub const PROBLEMS_SHOWN_MAX: usize = 20;

impl Report {
    pub fn new(model: &'static str, operations: usize) -> Report {
        Report {
            model,
            verdict: Verdict::Pass,
            operations,
            error_counts: BTreeMap::new(),
            problems: Vec::new(),
            stats: BTreeMap::new(),
            unknown_reason: None,
            notes: Vec::new(),
        }
    }

    pub fn problem(&mut self, kind: &str, lines: Vec<usize>, text: impl FnOnce() -> String) {
        self.verdict = Verdict::Fail;
        let count = self.error_counts.entry(kind.to_string()).or_insert(0);
        *count += 1;
        if *count as usize <= PROBLEMS_SHOWN_MAX {
            self.problems.push(Problem {
                kind: kind.to_string(),
                lines,
                text: text(),
            });
        }
    }

    /// The report in words.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.stats {
            out.push_str(&format!("  {name}: {value}\n"));
        }
        for note in &self.notes {
            out.push_str(&format!("Note: {note}\n"));
        }
        for p in &self.problems {
            let lines: Vec<String> = p.lines.iter().map(|l| l.to_string()).collect();
            if lines.is_empty() {
                out.push_str(&format!("{}: {}\n", p.kind, p.text));
            } else {
                let word = if lines.len() == 1 { "line" } else { "lines" };
                out.push_str(&format!(
                    "{} ({word} {}): {}\n",
                    p.kind,
                    lines.join(", "),
                    p.text
                ));
            }
        }
        out
    }
}

/// An integer from an EDN value.
pub(crate) fn int(edn: &crate::history::edn::Edn) -> Option<i64> {
    match edn {
        crate::history::edn::Edn::Int(i) => Some(*i),
        crate::history::edn::Edn::Str(s) => s.parse().ok(),
        _ => None,
    }
}
