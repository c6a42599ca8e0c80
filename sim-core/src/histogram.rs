//! A log-linear latency histogram: bounded however many latencies it
//! records. The coarse one (about 5 KB) puts every percentile at most
//! 6.25% below the exact value: a node's disk keeps its syncs' latencies in
//! one. The fine one (`LatencyHistogram::fine`, about 43 KB while dense)
//! puts it within 0.79%: a sweep keeps each run's read and write latencies
//! in one, as a `SparseHistogram` in its results, and merges them per
//! group, so a p99.9 comes out better than 1%.

use crate::SimDuration;

/// log2 of the buckets per power of two, coarse: 16 buckets put every
/// percentile at most 6.25% below the exact value.
const SUB_BITS_COARSE: u32 = 4;
/// ... and fine: 128 buckets, at most 0.79% below.
pub const SUB_BITS_FINE: u32 = 7;
/// Octaves from 1 ns to beyond an hour.
const OCTAVES: u32 = 42;

/// Sync latencies, as a log-linear histogram: bounded (about 5 KB) however
/// many syncs a run makes, and allocated only for a node that syncs.
///
/// It is written and read as its `SparseHistogram`, the buckets that hold counts.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(into = "SparseHistogram", from = "SparseHistogram")]
pub struct LatencyHistogram {
    /// log2 of the buckets per octave; 0 stands for `SUB_BITS_COARSE`
    /// (what `Default` gives).
    sub_bits: u32,
    counts: Vec<u64>,
    total: u64,
    min_ns: u64,
    max_ns: u64,
}

impl LatencyHistogram {
    /// An empty histogram with 128 buckets per octave: every percentile
    /// within 0.79% of the exact value.
    pub fn fine() -> LatencyHistogram {
        LatencyHistogram {
            sub_bits: SUB_BITS_FINE,
            ..LatencyHistogram::default()
        }
    }

    fn sub_bits(&self) -> u32 {
        if self.sub_bits == 0 {
            SUB_BITS_COARSE
        } else {
            self.sub_bits
        }
    }

    /// Buckets, the zero one included.
    fn len(&self) -> usize {
        1 + (OCTAVES << self.sub_bits()) as usize
    }

    fn bucket(&self, ns: u64) -> usize {
        if ns == 0 {
            return 0;
        }
        let bits = self.sub_bits();
        let per_octave = 1u32 << bits;
        let octave = 63 - ns.leading_zeros();
        // The next `bits` bits below the top one.
        let shift = octave.saturating_sub(bits);
        let sub = ((ns >> shift) as u32) & (per_octave - 1);
        1 + (octave * per_octave + sub).min(OCTAVES * per_octave - 1) as usize
    }

    /// The lower edge of a bucket, in ns.
    fn floor_ns(&self, bucket: usize) -> u64 {
        if bucket == 0 {
            return 0;
        }
        let bits = self.sub_bits();
        let b = (bucket - 1) as u32;
        let (octave, sub) = (b >> bits, b & ((1 << bits) - 1));
        let shift = octave.saturating_sub(bits);
        if octave < bits {
            // Small values are exact: the bucket is the value's own bits.
            return (1u64 << octave) | u64::from(sub & ((1 << octave) - 1));
        }
        (1u64 << octave) | (u64::from(sub) << shift)
    }

    pub fn record(&mut self, latency: SimDuration) {
        let ns = latency.as_nanos();
        if self.counts.is_empty() {
            self.counts = vec![0; self.len()];
            self.min_ns = ns;
        }
        self.min_ns = self.min_ns.min(ns);
        let bucket = self.bucket(ns);
        self.counts[bucket] += 1;
        self.total += 1;
        self.max_ns = self.max_ns.max(ns);
        debug_assert!(self.floor_ns(bucket) <= ns);
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
        self.at_rank_ms(rank)
    }

    /// The `rank`-th smallest latency (from 1), ms: the lower edge of its
    /// bucket, kept within the smallest and largest seen; the largest for
    /// a rank past the count, 0 with none.
    pub fn at_rank_ms(&self, rank: u64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        if rank >= self.total {
            return self.max_ms();
        }
        let mut seen = 0;
        for (bucket, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank.max(1) {
                return self.floor_ns(bucket).clamp(self.min_ns, self.max_ns) as f64 / 1e6;
            }
        }
        self.max_ms()
    }

    /// How many latencies are at most `ns`, to the histogram's precision
    /// (the whole bucket of `ns` counts).
    pub fn count_at_most(&self, ns: u64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let last = self.bucket(ns);
        self.counts[..=last].iter().sum()
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
        assert_eq!(
            self.sub_bits(),
            other.sub_bits(),
            "histograms merge only at one precision"
        );
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.min_ns = self.min_ns.min(other.min_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// The buckets from the first non-empty one to the last, for a
    /// results file.
    /// A coarse histogram's buckets from the first non-empty one to the
    /// last; a fine one's non-empty buckets as (bucket, count) pairs, since
    /// its few latencies lie far apart among many buckets.
    pub fn to_sparse(&self) -> SparseHistogram {
        let first = self.counts.iter().position(|c| *c > 0);
        let last = self.counts.iter().rposition(|c| *c > 0);
        match (first, last) {
            (Some(_), Some(_)) if self.sub_bits == SUB_BITS_FINE => SparseHistogram {
                sub_bits: self.sub_bits,
                pairs: (self.counts.iter().enumerate())
                    .filter(|(_, c)| **c > 0)
                    .map(|(b, c)| (b as u32, *c))
                    .collect(),
                min_ns: self.min_ns,
                max_ns: self.max_ns,
                ..SparseHistogram::default()
            },
            (Some(first), Some(last)) => SparseHistogram {
                first: first as u32,
                counts: self.counts[first..=last].to_vec(),
                min_ns: self.min_ns,
                max_ns: self.max_ns,
                sub_bits: self.sub_bits,
                pairs: Vec::new(),
            },
            _ => SparseHistogram {
                sub_bits: self.sub_bits,
                ..SparseHistogram::default()
            },
        }
    }

    /// The histogram a `to_sparse` wrote; buckets out of range, and a
    /// precision other than the two, are dropped (a results file is input,
    /// and may be damaged).
    pub fn from_sparse(sparse: &SparseHistogram) -> LatencyHistogram {
        let mut h = LatencyHistogram {
            sub_bits: if sparse.sub_bits == SUB_BITS_FINE {
                SUB_BITS_FINE
            } else {
                0
            },
            ..LatencyHistogram::default()
        };
        let len = h.len();
        let ranged = (sparse.counts.iter().enumerate())
            .map(|(i, &count)| (sparse.first as usize + i, count));
        let paired = sparse.pairs.iter().map(|&(b, count)| (b as usize, count));
        for (bucket, count) in ranged.chain(paired) {
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
    /// The precision: 0 (coarse) or `SUB_BITS_FINE`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sub_bits: u32,
    /// A fine histogram's non-empty buckets: (bucket, count).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pairs: Vec<(u32, u64)>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
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

    #[test]
    fn the_fine_histogram_keeps_percentiles_within_one_percent_and_pairs_its_buckets() {
        let mut h = LatencyHistogram::fine();
        for us in 1..=100_000u64 {
            h.record(SimDuration::from_nanos(us * 1_000 + 7));
        }
        for (q, exact_ms) in [(0.5, 50.0), (0.9, 90.0), (0.999, 99.9)] {
            let got = h.quantile_ms(q);
            assert!(
                got <= exact_ms + 1e-5 && got >= exact_ms * 0.9921,
                "q {q}: {got} against {exact_ms}"
            );
        }
        assert_eq!(h.at_rank_ms(1), 0.001007);
        let sparse = h.to_sparse();
        assert!(sparse.counts.is_empty() && !sparse.pairs.is_empty());
        let back = LatencyHistogram::from_sparse(&sparse);
        assert_eq!(back, h);
        let mut merged = LatencyHistogram::fine();
        merged.merge(&back);
        merged.merge(&h);
        assert_eq!(merged.count(), 200_000);
        // Few latencies far apart stay short in the results.
        let mut few = LatencyHistogram::fine();
        for ms in [1, 1_000, 100_000] {
            few.record(SimDuration::from_millis(ms));
        }
        assert_eq!(few.to_sparse().pairs.len(), 3);
        let json = serde_json::to_string(&few).unwrap();
        assert!(json.len() < 200, "{json}");
        let again: LatencyHistogram = serde_json::from_str(&json).unwrap();
        assert_eq!(again, few);
    }

    #[test]
    #[should_panic(expected = "one precision")]
    fn histograms_of_two_precisions_do_not_merge() {
        let (mut coarse, mut fine) = (LatencyHistogram::default(), LatencyHistogram::fine());
        coarse.record(SimDuration::from_millis(1));
        fine.record(SimDuration::from_millis(1));
        coarse.merge(&fine);
    }
}
