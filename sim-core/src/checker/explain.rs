//! Counterexamples for people: the failing key's operations as text, with
//! the longest linearizable prefix and the operation that cannot be placed.

use super::linearizability::Counterexample;
use crate::history::{Function, History, Operation, Outcome};
use std::fmt::Write;

/// Operations of the sub-history shown at most (the culprit's neighbourhood).
pub const SHOWN_OPS_MAX: usize = 40;

/// One operation in one line: `p3 write 5 ok [120, 140]`.
pub fn describe(op: &Operation) -> String {
    let what = match op.f {
        Function::Read => format!(
            "read -> {}",
            op.value.as_deref().map_or("?".to_string(), show)
        ),
        Function::Write => format!(
            "write {}",
            op.value.as_deref().map_or("?".to_string(), show)
        ),
        Function::Append => format!(
            "append {}",
            op.value.as_deref().map_or("?".to_string(), show)
        ),
        Function::Order => format!(
            "order {} x{}",
            op.key,
            op.value.as_deref().map_or("?".to_string(), show)
        ),
        Function::Txn => format!("txn {}", op.value.as_deref().unwrap_or("?")),
        Function::Transfer => format!(
            "transfer {} {}",
            op.key,
            op.value.as_deref().map_or("?".to_string(), show)
        ),
        Function::Cas => format!(
            "cas {} -> {}",
            op.expected.as_deref().map_or("?".to_string(), show),
            op.value.as_deref().map_or("?".to_string(), show)
        ),
    };
    let outcome = match op.outcome {
        Outcome::Ok => "ok",
        Outcome::Fail => "fail",
        Outcome::Info => "info",
    };
    let end = op.complete_ns.map_or("open".to_string(), |t| t.to_string());
    format!("p{} {what} {outcome} [{}, {end}]", op.process, op.invoke_ns)
}

fn show(value: &str) -> String {
    if value.is_empty() {
        "(none)".to_string()
    } else {
        format!("{value:?}")
    }
}

/// The counterexample as text.
pub fn render(history: &History, cx: &Counterexample) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "key {:?}: {} operations, not linearizable",
        cx.key,
        cx.sub_history.len()
    );
    let _ = writeln!(
        out,
        "longest linearizable prefix: {} operations, leaving state {}",
        cx.longest_prefix.len(),
        cx.state_after_prefix
    );
    for index in cx.longest_prefix.iter().rev().take(5).rev() {
        let _ = writeln!(
            out,
            "    ... #{index} {}",
            describe(&history.operations[*index])
        );
    }
    match cx.culprit {
        Some(culprit) => {
            let _ = writeln!(
                out,
                "cannot place next: #{culprit} {} (the model rejects it in state {})",
                describe(&history.operations[culprit]),
                cx.state_after_prefix
            );
        }
        None => {
            let _ = writeln!(out, "no operation could follow the prefix");
        }
    }
    let centre = cx
        .culprit
        .and_then(|c| cx.sub_history.iter().position(|i| *i == c))
        .unwrap_or(0);
    let start = centre.saturating_sub(SHOWN_OPS_MAX / 2);
    let end = (start + SHOWN_OPS_MAX).min(cx.sub_history.len());
    let _ = writeln!(
        out,
        "sub-history (operations {start}..{end} of {}; times in the history's units):",
        cx.sub_history.len()
    );
    for &index in &cx.sub_history[start..end] {
        let mark = if Some(index) == cx.culprit {
            " <== culprit"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "    #{index} {}{mark}",
            describe(&history.operations[index])
        );
    }
    out
}
