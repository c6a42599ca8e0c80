//! A log-linear latency histogram: bounded (about 5 KB) however many
//! latencies it records, with every percentile at most 6.25% below the
//! exact value. A node's disk keeps its syncs' latencies in one; a sweep
//! keeps each run's read and write latencies in one, as a `SparseHistogram`
//! in its results, and merges them per group.

use crate::SimDuration;

/// Buckets per power of two: 16 puts
/// every percentile at most 6.25% below the exact value.
const BUCKETS_PER_OCTAVE: u32 = 16;
/// Octaves from 1 ns to beyond an hour.
const OCTAVES: u32 = 42;

/// Sync latencies, as a log-linear histogram: bounded (about 5 KB) however
/// many syncs a run makes, and allocated only for a node that syncs.
///
/// It is written and read as its `SparseHistogram`, the buckets that hold counts.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(into = "SparseHistogram", from = "SparseHistogram")]
pub struct LatencyHistogram {
    counts: Vec<u64>,
    total: u64,
    min_ns: u64,
    max_ns: u64,
}

impl LatencyHistogram {
    fn bucket(ns: u64) -> usize {
        if ns == 0 {
            return 0;
        }
        let octave = 63 - ns.leading_zeros();
        // The next BUCKETS_PER_OCTAVE.ilog2() bits below the top one.
        let shift = octave.saturating_sub(BUCKETS_PER_OCTAVE.ilog2());
        let sub = ((ns >> shift) as u32) & (BUCKETS_PER_OCTAVE - 1);
        1 + (octave * BUCKETS_PER_OCTAVE + sub).min(OCTAVES * BUCKETS_PER_OCTAVE - 1) as usize
    }

    /// The lower edge of a bucket, in ns.
    fn floor_ns(bucket: usize) -> u64 {
        if bucket == 0 {
            return 0;
        }
        let b = (bucket - 1) as u32;
        let (octave, sub) = (b / BUCKETS_PER_OCTAVE, b % BUCKETS_PER_OCTAVE);
        let shift = octave.saturating_sub(BUCKETS_PER_OCTAVE.ilog2());
        if octave < BUCKETS_PER_OCTAVE.ilog2() {
            // Small values are exact: the bucket is the value's own bits.
            return (1u64 << octave) | u64::from(sub & ((1 << octave) - 1));
        }
        (1u64 << octave) | (u64::from(sub) << shift)
    }

    pub fn record(&mut self, latency: SimDuration) {
        let ns = latency.as_nanos();
        if self.counts.is_empty() {
            self.counts = vec![0; 1 + (OCTAVES * BUCKETS_PER_OCTAVE) as usize];
            self.min_ns = ns;
        }
        self.min_ns = self.min_ns.min(ns);
        self.counts[Self::bucket(ns)] += 1;
        self.total += 1;
        self.max_ns = self.max_ns.max(ns);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn max_ms(&self) -> f64 {
        self.max_ns as f64 / 1e6
    }

    /// The `q` quantile (0..=1) in ms: the lower edge of its bucket, kept
    /// within the smallest and largest latency seen (the maximum for `q` =
    /// 1); 0 with no syncs.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        assert!((0.0..=1.0).contains(&q), "a quantile is within 0..=1: {q}");
        if self.total == 0 {
            return 0.0;
        }
        if q >= 1.0 {
            return self.max_ms();
        }
        let rank = ((q * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (bucket, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Self::floor_ns(bucket).clamp(self.min_ns, self.max_ns) as f64 / 1e6;
            }
        }
        self.max_ms()
    }

    /// Bytes held, for the memory budget.
    pub fn heap_bytes(&self) -> u64 {
        (self.counts.capacity() * 8) as u64
    }

    /// Adds every latency `other` recorded (sweeps sum their runs').
    pub fn merge(&mut self, other: &LatencyHistogram) {
        if other.total == 0 {
            return;
        }
        if self.counts.is_empty() {
            *self = other.clone();
            return;
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.min_ns = self.min_ns.min(other.min_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// The buckets from the first non-empty one to the last, for a
    /// results file.
    pub fn to_sparse(&self) -> SparseHistogram {
        let first = self.counts.iter().position(|c| *c > 0);
        let last = self.counts.iter().rposition(|c| *c > 0);
        match (first, last) {
            (Some(first), Some(last)) => SparseHistogram {
                first: first as u32,
                counts: self.counts[first..=last].to_vec(),
                min_ns: self.min_ns,
                max_ns: self.max_ns,
            },
            _ => SparseHistogram::default(),
        }
    }

    /// The histogram a `to_sparse` wrote; buckets out of range are
    /// dropped (a results file is input, and may be damaged).
    pub fn from_sparse(sparse: &SparseHistogram) -> LatencyHistogram {
        let mut h = LatencyHistogram::default();
        let len = 1 + (OCTAVES * BUCKETS_PER_OCTAVE) as usize;
        for (i, &count) in sparse.counts.iter().enumerate() {
            let bucket = sparse.first as usize + i;
            if bucket < len && count > 0 {
                if h.counts.is_empty() {
                    h.counts = vec![0; len];
                }
                h.counts[bucket] += count;
                h.total += count;
            }
        }
        if h.total > 0 {
            h.min_ns = sparse.min_ns.min(sparse.max_ns);
            h.max_ns = sparse.max_ns;
        }
        h
    }
}

/// A `LatencyHistogram`'s buckets from its first non-empty one (`first`)
/// to its last: a results line holds one per run, so it is kept short.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SparseHistogram {
    pub first: u32,
    pub counts: Vec<u64>,
    pub min_ns: u64,
    pub max_ns: u64,
}

impl From<LatencyHistogram> for SparseHistogram {
    fn from(h: LatencyHistogram) -> SparseHistogram {
        h.to_sparse()
    }
}

impl From<SparseHistogram> for LatencyHistogram {
    fn from(sparse: SparseHistogram) -> LatencyHistogram {
        LatencyHistogram::from_sparse(&sparse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_merge_and_survive_their_sparse_form() {
        let (mut a, mut b) = (LatencyHistogram::default(), LatencyHistogram::default());
        for ms in [1, 2, 3] {
            a.record(SimDuration::from_millis(ms));
        }
        for ms in [40, 50] {
            b.record(SimDuration::from_millis(ms));
        }
        let back = LatencyHistogram::from_sparse(&a.to_sparse());
        assert_eq!(back, a);
        a.merge(&b);
        assert_eq!(a.count(), 5);
        assert_eq!(a.max_ms(), 50.0);
        let median = a.quantile_ms(0.5);
        assert!(median <= 3.0 && median > 2.8, "{median}");
        let mut empty = LatencyHistogram::default();
        empty.merge(&b);
        assert_eq!(empty, b);
    }

    #[test]
    fn the_histogram_keeps_percentiles_within_its_precision() {
        let mut h = LatencyHistogram::default();
        assert_eq!((h.count(), h.quantile_ms(0.5), h.heap_bytes()), (0, 0.0, 0));
        for us in 1..=10_000u64 {
            h.record(SimDuration::from_nanos(us * 1_000));
        }
        assert_eq!(h.count(), 10_000);
        for (q, exact_ms) in [(0.5, 5.0), (0.9, 9.0), (0.99, 9.9)] {
            let got = h.quantile_ms(q);
            assert!(
                got <= exact_ms && got >= exact_ms * 0.9375,
                "q {q}: {got} against {exact_ms}"
            );
        }
        assert_eq!(h.quantile_ms(1.0), 10.0);
        // Small values are exact.
        let mut small = LatencyHistogram::default();
        for ns in [0u64, 1, 2, 3, 7] {
            small.record(SimDuration::from_nanos(ns));
        }
        assert_eq!(small.quantile_ms(0.2), 0.0);
        assert_eq!(small.quantile_ms(0.8) * 1e6, 3.0);
        assert!(h.heap_bytes() < 6_000);
    }
}
