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
    if cx.sub_history.len() < cx.key_operations {
        let _ = writeln!(
            out,
            "key {:?}: {} operations, not linearizable; these {} are not linearizable on their own",
            cx.key,
            cx.key_operations,
            cx.sub_history.len()
        );
    } else {
        let _ = writeln!(
            out,
            "key {:?}: {} operations, not linearizable",
            cx.key,
            cx.sub_history.len()
        );
    }
    if let Some(finding) = &cx.finding {
        let _ = writeln!(out, "found by the distinct-values check: {finding}");
    }
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

/// A time in ns as milliseconds for a sentence: "998 ms", "1204.5 ms".
fn ms(ns: u64) -> String {
    let text = format!("{:.3}", ns as f64 / 1e6);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} ms")
}

/// A value in a sentence: as written, or "nothing" for an empty read.
fn said(value: Option<&str>) -> String {
    match value {
        None | Some("") => "nothing".to_string(),
        Some(v) => v.to_string(),
    }
}

/// The counterexample in one or two sentences a person can act on, naming
/// the culprit, who did it and when: "the write of 3.110 to k1 by client4,
/// acknowledged at 998 ms, was lost: the read by client2 begun at 1204 ms
/// returned 3.108, an older value, and no later read saw it." `name_of`
/// names a history's process ("client4"). Each kind the register checkers
/// find has its sentence: a lost or stale write, a read of a value never
/// written, a read from the future, a compare-and-set that succeeded or
/// failed against the only possible value; anything else is said plainly.
pub fn in_words(history: &History, cx: &Counterexample, name_of: &dyn Fn(u64) -> String) -> String {
    let ops = &history.operations;
    let on_key: Vec<&Operation> = cx.sub_history.iter().filter_map(|&i| ops.get(i)).collect();
    let Some(culprit) = cx.culprit.and_then(|c| ops.get(c)) else {
        return format!(
            "No order of the {} operations on {} explains what its reads returned.",
            on_key.len(),
            cx.key
        );
    };
    let who = name_of(culprit.process);
    let key = &cx.key;
    let writes = |value: &str| -> Vec<&Operation> {
        on_key
            .iter()
            .copied()
            .filter(|op| {
                matches!(op.f, Function::Write | Function::Cas)
                    && op.outcome != Outcome::Fail
                    && op.value.as_deref() == Some(value)
            })
            .collect()
    };
    match (culprit.f, culprit.outcome) {
        (Function::Read, Outcome::Ok) => {
            let seen = culprit.value.as_deref().unwrap_or("");
            let begun = culprit.invoke_ns;
            let writers = writes(seen);
            if !seen.is_empty() && writers.is_empty() {
                return format!(
                    "The read of {key} by {who}, begun at {}, returned {seen}, which no write to {key} wrote.",
                    ms(begun)
                );
            }
            let done = culprit.complete_ns.unwrap_or(u64::MAX);
            if !writers.is_empty() && writers.iter().all(|w| w.invoke_ns > done) {
                let first = writers.iter().min_by_key(|w| w.invoke_ns).expect("not empty");
                return format!(
                    "The read of {key} by {who}, done at {}, returned {seen} before any write of it began: {} wrote it from {}.",
                    ms(done),
                    name_of(first.process),
                    ms(first.invoke_ns)
                );
            }
            // The newest write acknowledged before the read began that is
            // certainly newer than every write of what the read returned.
            let seen_done = writers.iter().filter_map(|w| w.complete_ns).min();
            let newer = on_key
                .iter()
                .copied()
                .filter(|w| {
                    matches!(w.f, Function::Write | Function::Cas)
                        && w.outcome == Outcome::Ok
                        && w.complete_ns.is_some_and(|c| c < begun)
                        && w.value.as_deref() != Some(seen)
                        && seen_done.is_none_or(|d| w.invoke_ns > d)
                })
                .max_by_key(|w| w.complete_ns);
            match newer {
                Some(w) => {
                    let value = said(w.value.as_deref());
                    let acked = w.complete_ns.expect("filtered");
                    let seen_later = on_key.iter().any(|r| {
                        r.f == Function::Read
                            && r.outcome == Outcome::Ok
                            && r.invoke_ns > acked
                            && r.value.as_deref() == w.value.as_deref()
                    });
                    format!(
                        "The write of {value} to {key} by {}, acknowledged at {}, was lost: the read by {who} begun at {} returned {}, an older value{}.",
                        name_of(w.process),
                        ms(acked),
                        ms(begun),
                        said(Some(seen)),
                        if seen_later { "" } else { ", and no later read saw it" }
                    )
                }
                None => format!(
                    "The read of {key} by {who}, begun at {}, returned {}, which no order of the writes to {key} allows then.",
                    ms(begun),
                    said(Some(seen))
                ),
            }
        }
        (Function::Cas, Outcome::Ok) => format!(
            "The compare-and-set of {key} by {who} (expected {}, set {}), acknowledged at {}, succeeded though {key} could not hold {} then (the state after the longest explainable prefix was {}).",
            said(culprit.expected.as_deref()),
            said(culprit.value.as_deref()),
            ms(culprit.complete_ns.unwrap_or(culprit.invoke_ns)),
            said(culprit.expected.as_deref()),
            cx.state_after_prefix
        ),
        (Function::Cas, Outcome::Fail) => format!(
            "The compare-and-set of {key} by {who} (expected {}, set {}) was refused at {}, though {key} held {} in every order of what came before.",
            said(culprit.expected.as_deref()),
            said(culprit.value.as_deref()),
            ms(culprit.complete_ns.unwrap_or(culprit.invoke_ns)),
            said(culprit.expected.as_deref())
        ),
        _ => format!(
            "The {} by {who} at {} cannot follow the longest explainable prefix ({} operations, leaving {key} at {}).",
            describe(culprit),
            ms(culprit.invoke_ns),
            cx.longest_prefix.len(),
            cx.state_after_prefix
        ),
    }
}

#[cfg(test)]
mod in_words_tests {
    use super::*;

    fn op(process: u64, f: Function, value: &str, (invoke, done): (u64, u64)) -> Operation {
        Operation {
            process,
            f,
            key: "k1".into(),
            value: Some(value.into()),
            expected: (f == Function::Cas).then(|| "1".to_string()),
            outcome: Outcome::Ok,
            invoke_ns: invoke * 1_000_000,
            complete_ns: Some(done * 1_000_000),
            gave_up_ns: None,
        }
    }

    fn cx(history: &History, culprit: usize) -> Counterexample {
        Counterexample {
            key: "k1".into(),
            sub_history: (0..history.operations.len()).collect(),
            longest_prefix: (0..culprit).collect(),
            state_after_prefix: "?".into(),
            culprit: Some(culprit),
            key_operations: history.operations.len(),
            algorithm: super::super::linearizability::Algorithm::Search,
            finding: None,
        }
    }

    fn name(p: u64) -> String {
        format!("client{}", p + 1)
    }

    #[test]
    fn a_lost_write_a_value_never_written_and_a_read_from_the_future_each_get_their_sentence() {
        // client1 writes 3.108, client4 writes 3.110 (acked at 998 ms),
        // client2 then reads 3.108.
        let lost = History {
            operations: vec![
                op(0, Function::Write, "3.108", (100, 120)),
                op(3, Function::Write, "3.110", (990, 998)),
                op(1, Function::Read, "3.108", (1204, 1210)),
            ],
        };
        assert_eq!(
            in_words(&lost, &cx(&lost, 2), &name),
            "The write of 3.110 to k1 by client4, acknowledged at 998 ms, was lost: the read by client2 begun at 1204 ms returned 3.108, an older value, and no later read saw it."
        );
        let ghost = History {
            operations: vec![op(1, Function::Read, "7", (5, 6))],
        };
        assert_eq!(
            in_words(&ghost, &cx(&ghost, 0), &name),
            "The read of k1 by client2, begun at 5 ms, returned 7, which no write to k1 wrote."
        );
        let future = History {
            operations: vec![
                op(1, Function::Read, "9", (5, 6)),
                op(0, Function::Write, "9", (10, 12)),
            ],
        };
        assert_eq!(
            in_words(&future, &cx(&future, 0), &name),
            "The read of k1 by client2, done at 6 ms, returned 9 before any write of it began: client1 wrote it from 10 ms."
        );
        let mut refused = op(2, Function::Cas, "2", (30, 31));
        refused.outcome = Outcome::Fail;
        let cas = History {
            operations: vec![op(0, Function::Write, "1", (1, 2)), refused],
        };
        assert!(in_words(&cas, &cx(&cas, 1), &name).starts_with(
            "The compare-and-set of k1 by client3 (expected 1, set 2) was refused at 31 ms"
        ));
    }
}
