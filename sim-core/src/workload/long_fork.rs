//! Long fork (a parallel snapshot isolation anomaly): two reads that saw
//! incompatible orders of the same inserts. Inserts are transactions of
//! writes `[:w k v]`, each key written once; reads are transactions of
//! reads `[:r k v]` over a group of keys (`nil`: not yet inserted).
//!
//! Two reads of the same keys are compatible when what one saw is a subset
//! of what the other saw; a read that saw a but not b and another that saw
//! b but not a disagree on the order of a and b: a long fork. Reads of one
//! key set are sorted by how much they saw; the set of what each saw must
//! then grow along the list, and the first pair where it does not is a
//! fork.

use super::Report;
use crate::history::edn::Edn;
use crate::history::history_error::HistoryError;
use crate::history::jepsen::{short, JepsenOp};
use crate::history::Outcome;
use std::collections::BTreeMap;

pub fn check(ops: &[JepsenOp], file: &str) -> Result<Report, HistoryError> {
    let mut report = Report::new("long-fork", ops.len());
    // Key set -> reads: (line, seen flags in key order).
    let mut groups: BTreeMap<Vec<String>, Vec<(usize, Vec<bool>)>> = BTreeMap::new();
    let mut inserted: BTreeMap<String, usize> = BTreeMap::new();
    for op in ops {
        if op.f != "txn" {
            return Err(HistoryError::at(
                file,
                op.line,
                format!(
                    "field `f`: the long-fork model reads :txn operations, not :{}",
                    op.f
                ),
            ));
        }
        let (Edn::Vector(mops) | Edn::List(mops)) = op.value() else {
            return Err(HistoryError::at(
                file,
                op.line,
                format!(
                    "field `value`: expected micro-ops, got {}",
                    short(op.value())
                ),
            ));
        };
        let mut reads: Vec<(String, bool)> = Vec::new();
        for m in mops {
            let (Edn::Vector(p) | Edn::List(p)) = m else {
                return Err(HistoryError::at(
                    file,
                    op.line,
                    format!("field `value`: micro-op {} is not [:f k v]", short(m)),
                ));
            };
            let (Some(Edn::Keyword(f)), Some(k)) = (p.first(), p.get(1)) else {
                return Err(HistoryError::at(
                    file,
                    op.line,
                    format!("field `value`: micro-op {} is not [:f k v]", short(m)),
                ));
            };
            let key = k.to_string();
            match f.as_str() {
                "w" => {
                    if op.outcome != Outcome::Fail {
                        if let Some(first) = inserted.insert(key.clone(), op.line) {
                            return Err(HistoryError::at(file, op.line, format!("key {key} is inserted twice (also on line {first}); long-fork inserts each key once")));
                        }
                    }
                }
                "r" => reads.push((key, !matches!(p.get(2), Some(Edn::Nil) | None))),
                other => {
                    return Err(HistoryError::at(
                        file,
                        op.line,
                        format!("field `value`: :{other} is not a long-fork micro-op (:w or :r)"),
                    ))
                }
            }
        }
        if op.outcome == Outcome::Ok && reads.len() > 1 {
            reads.sort();
            let keys: Vec<String> = reads.iter().map(|r| r.0.clone()).collect();
            let seen: Vec<bool> = reads.iter().map(|r| r.1).collect();
            groups.entry(keys).or_default().push((op.line, seen));
        }
    }
    let mut compared = 0u64;
    for (keys, mut reads) in groups {
        reads.sort_by_key(|(line, seen)| (seen.iter().filter(|&&s| s).count(), *line));
        compared += reads.len() as u64;
        for pair in reads.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let subset = a.1.iter().zip(&b.1).all(|(x, y)| !x || *y);
            if !subset {
                let only_a: Vec<&str> = keys
                    .iter()
                    .zip(a.1.iter().zip(&b.1))
                    .filter(|(_, (x, y))| **x && !**y)
                    .map(|(k, _)| k.as_str())
                    .collect();
                let only_b: Vec<&str> = keys
                    .iter()
                    .zip(a.1.iter().zip(&b.1))
                    .filter(|(_, (x, y))| !**x && **y)
                    .map(|(k, _)| k.as_str())
                    .collect();
                report.problem("long-fork", vec![a.0, b.0], || {
                    format!("the read on line {} saw {} but not {}; the read on line {} saw {} but not {}: they saw the inserts in incompatible orders", a.0, only_a.join(", "), only_b.join(", "), b.0, only_b.join(", "), only_a.join(", "))
                });
            }
        }
    }
    report.stats.insert("inserts".into(), inserted.len() as f64);
    report
        .stats
        .insert("reads_compared".into(), compared as f64);
    Ok(report)
}
