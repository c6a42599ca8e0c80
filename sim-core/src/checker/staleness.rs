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
pub fn measure(history: &History, initial: &str) -> Staleness {
    let ops = &history.operations;
    let keys = super::session::unique_writes(history, initial);
    let mut out = Staleness {
        keys_skipped: keys.values().filter(|k| k.is_none()).count(),
        ..Default::default()
    };
    let mut lags_ns: Vec<u64> = Vec::new();
    let mut behind_total = 0u64;
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
        let read_complete = if value == initial {
            None
        } else {
            match writes.get(value) {
                Some(&w) => Some(ops[w].complete_ns.unwrap_or(u64::MAX)),
                None => continue,
            }
        };
        out.reads += 1;
        let newer: Vec<u64> = writes
            .values()
            .filter_map(|&w| {
                let done = ops[w].complete_ns?;
                let certainly_newer = read_complete.is_none_or(|v_done| v_done < ops[w].invoke_ns);
                (done < op.invoke_ns && certainly_newer).then_some(done)
            })
            .collect();
        if let Some(first) = newer.iter().min() {
            out.stale_reads += 1;
            behind_total += newer.len() as u64;
            out.versions_behind_max = out.versions_behind_max.max(newer.len() as u64);
            lags_ns.push(op.invoke_ns - first);
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
