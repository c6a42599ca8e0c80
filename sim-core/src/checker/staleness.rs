//! How stale reads are: for each read, how many versions and how much time
//! it lags behind the writes that had completed before it began.
//!
//! A read that returned version v lags by the writes to its key that
//! completed before the read was invoked and are certainly newer than v
//! (v completed before they were invoked, or at that instant, or v is the
//! initial value), and
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
    /// k-staleness: reads by how many versions they lagged (index k; the
    /// last slot counts `BEHIND_MAX` or more). The share of reads at most
    /// k - 1 behind is the probability a read returns one of the last k.
    pub versions_behind: Vec<u64>,
    /// t-visibility: reads by the time since the latest write to their key
    /// had completed when they began (`VISIBILITY_EDGES_MS` bins), and how
    /// many returned that write or a version not certainly older.
    pub visibility: Vec<VisibilityBin>,
}

/// One bin of the t-visibility curve.
#[derive(Clone, Copy, Debug, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct VisibilityBin {
    /// Index into `VISIBILITY_EDGES_MS`: reads with t from that edge to the next.
    pub bin: u32,
    pub reads: u64,
    pub consistent: u64,
}

/// Versions behind counted apart at most; more land in the last slot.
pub const BEHIND_MAX: usize = 16;

/// The t-visibility bins' lower edges, ms: exactly 0 (a read begun as the
/// write completed) in a bin of its own, then 0.1 ms steps to 2 ms, 0.5 ms
/// to 10 ms, 5 ms to 100 ms, 50 ms to 1 s and 250 ms to 5 s; the last bin
/// is open.
pub fn visibility_edges_ms() -> Vec<f64> {
    let mut edges = vec![0.0, 1e-6];
    edges.extend((1..20).map(|i| f64::from(i) * 0.1));
    edges.extend((4..20).map(|i| f64::from(i) * 0.5));
    edges.extend((2..20).map(|i| f64::from(i) * 5.0));
    edges.extend((2..20).map(|i| f64::from(i) * 50.0));
    edges.extend((4..=20).map(|i| f64::from(i) * 250.0));
    edges
}

/// The bin of a read begun `ns` after the write completed.
fn visibility_bin(edges: &[f64], ns: u64) -> u32 {
    let ms = ns as f64 / 1e6;
    (edges.partition_point(|edge| *edge <= ms) - 1) as u32
}

/// What the measure found for one read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadJudgement {
    /// The read's index in the history.
    pub op: usize,
    /// Completed writes certainly newer than the version it returned.
    pub behind: u64,
    /// Since the first of those completed, ns (0 when none).
    pub lag_ns: u64,
    /// Since the latest write to its key completed, ns, and whether the
    /// read returned that write or a version not certainly older; None
    /// when no write had completed.
    pub since_last_write: Option<(u64, bool)>,
}

/// Measures staleness; `initial` is every key's starting value.
pub fn measure(history: &History, initial: &str) -> Staleness {
    let (judged, keys_skipped) = judge(history, initial);
    summarise(&judged, keys_skipped)
}

/// Sums per-read judgements into the measure.
pub fn summarise(judged: &[ReadJudgement], keys_skipped: usize) -> Staleness {
    let edges = visibility_edges_ms();
    let mut out = Staleness {
        reads: judged.len() as u64,
        keys_skipped,
        versions_behind: vec![0; BEHIND_MAX + 1],
        ..Default::default()
    };
    let mut bins: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    let mut lags_ns: Vec<u64> = Vec::new();
    let mut behind_total = 0u64;
    for read in judged {
        out.versions_behind[(read.behind as usize).min(BEHIND_MAX)] += 1;
        if read.behind > 0 {
            out.stale_reads += 1;
            behind_total += read.behind;
            out.versions_behind_max = out.versions_behind_max.max(read.behind);
            lags_ns.push(read.lag_ns);
        }
        if let Some((since, consistent)) = read.since_last_write {
            let bin = bins.entry(visibility_bin(&edges, since)).or_default();
            bin.0 += 1;
            bin.1 += u64::from(consistent);
        }
    }
    if out.reads == 0 {
        out.versions_behind.clear();
    }
    out.visibility = bins
        .into_iter()
        .map(|(bin, (reads, consistent))| VisibilityBin {
            bin,
            reads,
            consistent,
        })
        .collect();
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

/// Judges every ok read on a key that can be judged, in key then invoke
/// order; also returns how many keys were skipped.
///
/// Time O(n log n), memory O(n). Per key, reads are taken in invoke order
/// while the writes completed before each read are added to a Fenwick tree
/// indexed by the write's invoke time, which answers "how many completed
/// writes were invoked after the version read, and which completed first"
/// in O(log n). Scanning every write for every read made this quadratic.
pub fn judge(history: &History, initial: &str) -> (Vec<ReadJudgement>, usize) {
    let ops = &history.operations;
    let keys = super::session::unique_writes(history, initial);
    let keys_skipped = keys.values().filter(|k| k.is_none()).count();
    // Per judged key: its ok reads as (invoke, the version's completion:
    // None for the initial value, u64::MAX for a write that never completed,
    // the read's index).
    type Read = (u64, Option<u64>, usize);
    let mut reads: BTreeMap<&str, Vec<Read>> = BTreeMap::new();
    for (index, op) in ops.iter().enumerate() {
        if op.f != Function::Read || op.outcome != Outcome::Ok {
            continue;
        }
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
        reads
            .entry(op.key.as_str())
            .or_default()
            .push((op.invoke_ns, version_done, index));
    }
    let mut judged = Vec::new();
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
        for (invoke_ns, version_done, op) in reads {
            // The writes that completed before this read began (or as it
            // began: a client's next operation starts at the instant its
            // write completed, and is later in real time).
            while added < completed.len() && completed[added].0 <= invoke_ns {
                let (done, invoke) = completed[added];
                tree.add(invokes.partition_point(|&i| i < invoke), done);
                added += 1;
            }
            // Of those, the ones certainly newer than the version read:
            // invoked after it completed, or as it completed (a client's
            // next write starts at the instant its last one completed),
            // and all of them for the initial value.
            let from = match version_done {
                None => 0,
                Some(v_done) => invokes.partition_point(|&i| i < v_done),
            };
            let (behind, first_done) = tree.suffix(from);
            // The latest completed write, and whether it is certainly
            // newer than the version read.
            let since_last_write = added.checked_sub(1).map(|last| {
                let (done, invoke) = completed[last];
                let newer = version_done.is_none_or(|v_done| invoke >= v_done);
                (invoke_ns - done, !newer)
            });
            judged.push(ReadJudgement {
                op,
                behind,
                lag_ns: if behind > 0 {
                    invoke_ns - first_done
                } else {
                    0
                },
                since_last_write,
            });
        }
    }
    (judged, keys_skipped)
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
