//! Sets: adds of unique elements, and reads of the whole set.
//!
//! `set` judges the final read only (the last successful read): every
//! acknowledged add must be in it. `set-full` judges every read: an
//! element is known once its add is acknowledged or a read has seen it;
//! each read that began after that must contain it. Per element:
//! - lost: known, and absent from the last read that began after it was
//!   known (it is gone for good);
//! - stale: absent from some such read, but present again later;
//! - never read: no read began after its add completed;
//! - unexpected: read, but never added.
//! `set-full` also measures how long each element took to become visible:
//! from its add's invocation to the completion of the first read that
//! saw it, and from then on, to the first read that began after and
//! always saw it (stable).

use super::{int, Report};
use crate::history::edn::Edn;
use crate::history::history_error::HistoryError;
use crate::history::jepsen::{short, JepsenOp};
use crate::history::Outcome;

struct Add {
    element: i64,
    outcome: Outcome,
    invoke: u64,
    complete: Option<u64>,
    line: usize,
}

struct Read {
    invoke: u64,
    complete: u64,
    line: usize,
    /// Sorted.
    elements: Vec<i64>,
}

fn parse(
    ops: &[JepsenOp],
    model: &'static str,
    file: &str,
) -> Result<(Vec<Add>, Vec<Read>), HistoryError> {
    let mut adds = Vec::new();
    let mut reads = Vec::new();
    for op in ops {
        match op.f.as_str() {
            "add" => {
                let element = int(&op.invoke_value).ok_or_else(|| {
                    HistoryError::at(
                        file,
                        op.line,
                        format!(
                            "field `value`: an add needs an integer element, got {}",
                            short(&op.invoke_value)
                        ),
                    )
                })?;
                adds.push(Add {
                    element,
                    outcome: op.outcome,
                    invoke: op.invoke_ns,
                    complete: op.complete_ns,
                    line: op.line,
                });
            }
            "read" => {
                if op.outcome != Outcome::Ok {
                    continue;
                }
                let (Edn::Vector(items) | Edn::List(items) | Edn::Set(items)) = &op.complete_value
                else {
                    return Err(HistoryError::at(
                        file,
                        op.line,
                        format!(
                            "field `value`: a read returns a collection of elements, got {}",
                            short(&op.complete_value)
                        ),
                    ));
                };
                let mut elements = items
                    .iter()
                    .map(|e| {
                        int(e).ok_or_else(|| {
                            HistoryError::at(
                                file,
                                op.line,
                                format!("field `value`: element {} is not an integer", short(e)),
                            )
                        })
                    })
                    .collect::<Result<Vec<i64>, _>>()?;
                elements.sort_unstable();
                reads.push(Read {
                    invoke: op.invoke_ns,
                    complete: op.complete_ns.expect("ok completes"),
                    line: op.line,
                    elements,
                });
            }
            other => {
                return Err(HistoryError::at(
                    file,
                    op.line,
                    format!("field `f`: the {model} model has :add and :read, not :{other}"),
                ))
            }
        }
    }
    adds.sort_by_key(|a| a.element);
    if let Some(w) = adds.windows(2).find(|w| w[0].element == w[1].element) {
        return Err(HistoryError::at(
            file,
            w[1].line,
            format!(
                "element {} is added twice (also on line {}); set histories need unique elements",
                w[1].element, w[0].line
            ),
        ));
    }
    Ok((adds, reads))
}

fn contains(read: &Read, e: i64) -> bool {
    read.elements.binary_search(&e).is_ok()
}

/// `set`: the final read against the acknowledged adds.
pub fn check_set(ops: &[JepsenOp], file: &str) -> Result<Report, HistoryError> {
    let (adds, reads) = parse(ops, "set", file)?;
    let mut report = Report::new("set", ops.len());
    let Some(last) = reads.iter().max_by_key(|r| r.complete) else {
        report.verdict = crate::checker::Verdict::Unknown;
        report.unknown_reason =
            Some("no successful read: the set model judges the final read".into());
        return Ok(report);
    };
    let mut ok = 0u64;
    let mut recovered = 0u64;
    for a in &adds {
        let seen = contains(last, a.element);
        match a.outcome {
            Outcome::Ok => {
                ok += 1;
                if !seen {
                    report.problem("lost", vec![a.line, last.line], || {
                        format!(
                            "element {} was acknowledged but the final read does not hold it",
                            a.element
                        )
                    });
                }
            }
            Outcome::Info if seen => recovered += 1,
            _ => {}
        }
    }
    for &e in &last.elements {
        if adds.binary_search_by_key(&e, |a| a.element).is_err() {
            report.problem("unexpected", vec![last.line], || {
                format!("the final read holds {e}, which was never added")
            });
        }
    }
    report.stats.insert("adds_acknowledged".into(), ok as f64);
    report
        .stats
        .insert("final_read_size".into(), last.elements.len() as f64);
    report.stats.insert("recovered".into(), recovered as f64);
    Ok(report)
}

/// `set-full`: every read.
pub fn check_set_full(ops: &[JepsenOp], file: &str) -> Result<Report, HistoryError> {
    let (adds, mut reads) = parse(ops, "set-full", file)?;
    let mut report = Report::new("set-full", ops.len());
    reads.sort_by_key(|r| (r.invoke, r.complete));
    let mut never_read = 0u64;
    let mut latencies: Vec<u64> = Vec::new();
    let mut stable_latencies: Vec<u64> = Vec::new();
    let mut stale_count = 0u64;
    for a in &adds {
        if a.outcome == Outcome::Fail {
            if let Some(r) = reads.iter().find(|r| contains(r, a.element)) {
                report.problem("unexpected", vec![a.line, r.line], || {
                    format!("element {} was read though its add failed", a.element)
                });
            }
            continue;
        }
        let first_seen = reads
            .iter()
            .filter(|r| contains(r, a.element))
            .map(|r| r.complete)
            .min();
        // Known: the add acknowledged, or a read saw it.
        let known = match (a.outcome, a.complete, first_seen) {
            (Outcome::Ok, Some(c), Some(s)) => Some(c.min(s)),
            (Outcome::Ok, Some(c), None) => Some(c),
            (_, _, s) => s,
        };
        let Some(known) = known else {
            continue; // unknown outcome, never seen: may never have happened
        };
        if let Some(s) = first_seen {
            latencies.push(s.saturating_sub(a.invoke));
        }
        let after: Vec<&Read> = reads.iter().filter(|r| r.invoke > known).collect();
        if after.is_empty() {
            never_read += 1;
            continue;
        }
        let absent: Vec<&&Read> = after.iter().filter(|r| !contains(r, a.element)).collect();
        let last = after.iter().max_by_key(|r| r.complete).expect("nonempty");
        if !contains(last, a.element) {
            report.problem("lost", vec![a.line, last.line], || {
                format!("element {} was known by {} but the last read that began after that does not hold it ({} of {} later reads miss it)", a.element, known, absent.len(), after.len())
            });
        } else if let Some(r) = absent.first() {
            stale_count += 1;
            report.problem("stale", vec![a.line, r.line], || {
                format!("element {} was known by {} but a read that began at {} missed it; later reads see it again", a.element, known, r.invoke)
            });
        }
        // Stable: from the add's invocation to the first read after which every read saw it.
        let mut stable_from = None;
        for r in after.iter().rev() {
            if contains(r, a.element) {
                stable_from = Some(r.complete);
            } else {
                break;
            }
        }
        if let Some(s) = stable_from {
            stable_latencies.push(s.saturating_sub(a.invoke));
        }
    }
    for r in &reads {
        for &e in &r.elements {
            if adds.binary_search_by_key(&e, |a| a.element).is_err() {
                report.problem("unexpected", vec![r.line], || {
                    format!("a read holds {e}, which was never added")
                });
            }
        }
    }
    let quantile = |xs: &mut Vec<u64>, q: f64| -> f64 {
        xs.sort_unstable();
        xs[((xs.len() - 1) as f64 * q).round() as usize] as f64
    };
    report.stats.insert("never_read".into(), never_read as f64);
    report.stats.insert("stale".into(), stale_count as f64);
    if !latencies.is_empty() {
        report
            .stats
            .insert("visible_latency_p50".into(), quantile(&mut latencies, 0.5));
        report
            .stats
            .insert("visible_latency_p99".into(), quantile(&mut latencies, 0.99));
        report
            .stats
            .insert("visible_latency_max".into(), quantile(&mut latencies, 1.0));
    }
    if !stable_latencies.is_empty() {
        report.stats.insert(
            "stable_latency_p50".into(),
            quantile(&mut stable_latencies, 0.5),
        );
        report.stats.insert(
            "stable_latency_max".into(),
            quantile(&mut stable_latencies, 1.0),
        );
    }
    if never_read > 0 {
        report.notes.push(format!(
            "{never_read} element(s) were never read: no read began after they were known"
        ));
    }
    report.notes.push("latencies are in the history's time unit (event numbers for imported files, nanoseconds for a simulated run)".into());
    Ok(report)
}
