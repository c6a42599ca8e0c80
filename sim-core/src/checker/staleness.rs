//! How stale reads are: for each read, how many versions and how much time
//! it lags behind the writes that had completed before it began.
//!
//! A read that returned version v lags by the writes to its key that
//! completed before the read was invoked and are certainly newer than v
//! (v completed before they were invoked, or v is the initial value), and
//! by the time since the first of those completed. The version order is the
//! one `session.rs` uses: only what the history makes certain. Keys with
//! appends or repeated written values are skipped, as there.

use crate::history::{Function, History, Outcome};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Staleness {
    /// Ok reads on keys that could be judged.
    pub reads: u64,
    /// Reads that lagged by at least one version.
    pub stale_reads: u64,
    pub versions_behind_max: u64,
    pub versions_behind_mean: f64,
    /// Over stale reads: time since the first newer write had completed, ms.
    pub lag_ms_p50: f64,
    pub lag_ms_p99: f64,
    pub lag_ms_max: f64,
    pub keys_skipped: usize,
}

/// Measures staleness; `initial` is every key's starting value.
///
/// Time O(n log n), memory O(n). Per key, reads are taken in invoke order
/// while the writes completed before each read are added to a Fenwick tree
/// indexed by the write's invoke time, which answers "how many completed
/// writes were invoked after the version read, and which completed first"
/// in O(log n). Scanning every write for every read made this quadratic.
pub fn measure(history: &History, initial: &str) -> Staleness {
    let ops = &history.operations;
    let keys = super::session::unique_writes(history, initial);
    let mut out = Staleness {
        keys_skipped: keys.values().filter(|k| k.is_none()).count(),
        ..Default::default()
    };
    // Per judged key: its ok reads as (invoke, the version's completion:
    // None for the initial value, u64::MAX for a write that never completed).
    let mut reads: BTreeMap<&str, Vec<(u64, Option<u64>)>> = BTreeMap::new();
    for op in ops
        .iter()
        .filter(|op| op.f == Function::Read && op.outcome == Outcome::Ok)
    {
        let Some(Some(writes)) = keys.get(op.key.as_str()) else {
            continue;
        };
        let Some(value) = op.value.as_deref() else {
            continue;
        };
        // The version read: initial, or a known write; a value nobody wrote is not judged here.
        let version_done = if value == initial {
            None
        } else {
            match writes.get(value) {
                Some(&w) => Some(ops[w].complete_ns.unwrap_or(u64::MAX)),
                None => continue,
            }
        };
        out.reads += 1;
        reads
            .entry(op.key.as_str())
            .or_default()
            .push((op.invoke_ns, version_done));
    }
    let mut lags_ns: Vec<u64> = Vec::new();
    let mut behind_total = 0u64;
    for (key, mut reads) in reads {
        let Some(Some(writes)) = keys.get(key) else {
            unreachable!("reads are gathered on judged keys only");
        };
        // Completed writes as (complete, invoke), in completion order.
        let mut completed: Vec<(u64, u64)> = writes
            .values()
            .filter_map(|&w| Some((ops[w].complete_ns?, ops[w].invoke_ns)))
            .collect();
        completed.sort_unstable();
        let mut invokes: Vec<u64> = completed.iter().map(|&(_, invoke)| invoke).collect();
        invokes.sort_unstable();
        invokes.dedup();
        let mut tree = SuffixTree::new(invokes.len());
        reads.sort_unstable();
        let mut added = 0;
        for (invoke_ns, version_done) in reads {
            // The writes that completed before this read began.
            while added < completed.len() && completed[added].0 < invoke_ns {
                let (done, invoke) = completed[added];
                tree.add(invokes.partition_point(|&i| i < invoke), done);
                added += 1;
            }
            // Of those, the ones certainly newer than the version read:
            // invoked after it completed (all of them for the initial value).
            let from = match version_done {
                None => 0,
                Some(v_done) => invokes.partition_point(|&i| i <= v_done),
            };
            let (count, first_done) = tree.suffix(from);
            if count > 0 {
                out.stale_reads += 1;
                behind_total += count;
                out.versions_behind_max = out.versions_behind_max.max(count);
                lags_ns.push(invoke_ns - first_done);
            }
        }
    }
    lags_ns.sort_unstable();
    let pick = |q: f64| {
        lags_ns
            .get(((lags_ns.len() as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |ns| *ns as f64 / 1e6)
    };
    out.versions_behind_mean = if out.reads > 0 {
        behind_total as f64 / out.reads as f64
    } else {
        0.0
    };
    out.lag_ms_p50 = pick(0.5);
    out.lag_ms_p99 = pick(0.99);
    out.lag_ms_max = pick(1.0);
    out
}

/// A Fenwick tree over positions 0..len answering, for a suffix from..len,
/// how many values were added there and the smallest of them.
struct SuffixTree {
    /// 1-based; slot i covers a range of reversed positions ending at i.
    count: Vec<u64>,
    min: Vec<u64>,
}

impl SuffixTree {
    fn new(len: usize) -> Self {
        SuffixTree {
            count: vec![0; len + 1],
            min: vec![u64::MAX; len + 1],
        }
    }

    /// Adds `value` at `position`.
    fn add(&mut self, position: usize, value: u64) {
        let len = self.count.len() - 1;
        assert!(position < len, "position {position} outside 0..{len}");
        // Reversed, so a suffix of positions is a prefix of slots.
        let mut slot = len - position;
        while slot <= len {
            self.count[slot] += 1;
            self.min[slot] = self.min[slot].min(value);
            slot += slot & slot.wrapping_neg();
        }
    }

    /// (values added at positions from.., the smallest of them or u64::MAX).
    fn suffix(&self, from: usize) -> (u64, u64) {
        let len = self.count.len() - 1;
        let (mut count, mut min) = (0, u64::MAX);
        let mut slot = len.saturating_sub(from);
        while slot > 0 {
            count += self.count[slot];
            min = min.min(self.min[slot]);
            slot -= slot & slot.wrapping_neg();
        }
        (count, min)
    }
}
