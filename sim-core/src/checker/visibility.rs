//! t-visibility from each read's threshold: the least time after the
//! latest write completed at which that same read, with the same message
//! latencies, would have returned it (PBS's t-visibility, Bailis et al.,
//! VLDB 2012, measured in the simulation rather than computed from the
//! WARS equations).
//!
//! Why thresholds and not outcomes: a read begun at t is consistent or
//! not, one bit; to place the t at which 99.9% of reads are consistent
//! from such bits takes on the order of 10^5 reads within a few percent of
//! that t, and a closed-loop workload spreads its reads over seconds. A
//! threshold answers for every t at once: P(consistent at t) is the share
//! of reads whose threshold is at most t, so the 99.9% point is the 0.999
//! quantile of the thresholds, every read counts, and its confidence
//! interval comes from the binomial law of order statistics (exact, with
//! no resampling and no seed).
//!
//! A protocol's monitor that can tell when each replica came to serve a
//! write, and when each read's requests reached the replicas it used,
//! reports these (the `Quorum` store does); for the others a sweep falls
//! back to binned outcomes (`staleness::VisibilityBin`).

use crate::histogram::{LatencyHistogram, SparseHistogram};
use crate::SimDuration;
use serde::{Deserialize, Serialize};

/// The two-sided confidence of `Quantile`'s interval.
pub const CONFIDENCE: f64 = 0.95;
/// The normal quantile for `CONFIDENCE`.
const Z_95: f64 = 1.959_964;

/// Reads' thresholds, bounded: a count of those consistent already at
/// t = 0, a fine histogram (within 0.79%) of the later ones, and a count of
/// those that would never have been (no replica they used ever served the
/// write in the run).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub at_zero: u64,
    pub later: SparseHistogram,
    pub never: u64,
}

/// The same, while counting: the histogram dense.
#[derive(Clone, Debug, PartialEq)]
pub struct Counting {
    at_zero: u64,
    later: LatencyHistogram,
    never: u64,
}

impl Default for Counting {
    fn default() -> Counting {
        Counting {
            at_zero: 0,
            later: LatencyHistogram::fine(),
            never: 0,
        }
    }
}

/// A quantile of the thresholds, ms, with its `CONFIDENCE` interval;
/// `high_ms` None when the interval reaches reads that would never have
/// been consistent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantile {
    pub ms: f64,
    pub low_ms: f64,
    pub high_ms: Option<f64>,
}

impl Quantile {
    /// The interval's larger half-width as a share of the point (0 for a
    /// point of 0 with a zero interval); None when it is unbounded.
    pub fn relative_half_width(&self) -> Option<f64> {
        let high = self.high_ms?;
        let half = (high - self.ms).max(self.ms - self.low_ms);
        if self.ms > 0.0 {
            Some(half / self.ms)
        } else {
            Some(if half > 0.0 { f64::INFINITY } else { 0.0 })
        }
    }
}

impl Counting {
    /// One read's threshold, ns from the latest write's completion
    /// (negative: it was consistent even if begun before; None: never).
    pub fn record(&mut self, threshold_ns: Option<i64>) {
        match threshold_ns {
            None => self.never += 1,
            Some(ns) if ns <= 0 => self.at_zero += 1,
            Some(ns) => self.later.record(SimDuration::from_nanos(ns as u64)),
        }
    }

    pub fn reads(&self) -> u64 {
        self.at_zero + self.later.count() + self.never
    }

    pub fn finish(&self) -> Thresholds {
        Thresholds {
            at_zero: self.at_zero,
            later: self.later.to_sparse(),
            never: self.never,
        }
    }

    /// Adds another's reads (a sweep sums its runs').
    pub fn merge(&mut self, other: &Thresholds) {
        self.at_zero += other.at_zero;
        self.never += other.never;
        let later = LatencyHistogram::from_sparse(&other.later);
        if later.count() > 0 {
            self.later.merge(&later);
        }
    }

    /// P(consistent) for a read begun as the write completed: the share
    /// of thresholds at most 0. None without reads.
    pub fn p_at_zero(&self) -> Option<f64> {
        let reads = self.reads();
        (reads > 0).then(|| self.at_zero as f64 / reads as f64)
    }

    /// The reads consistent if begun `t_ms` after the write completed:
    /// those whose threshold is at most that (to the histogram's 0.79%).
    pub fn consistent_at(&self, t_ms: f64) -> u64 {
        if t_ms < 0.0 {
            return 0;
        }
        self.at_zero + self.later.count_at_most((t_ms * 1e6) as u64)
    }

    /// The value of the `rank`-th smallest threshold (from 1), ms; None
    /// for one that would never have been consistent.
    fn at_rank_ms(&self, rank: u64) -> Option<f64> {
        debug_assert!(rank >= 1 && rank <= self.reads());
        if rank <= self.at_zero {
            Some(0.0)
        } else if rank <= self.at_zero + self.later.count() {
            Some(self.later.at_rank_ms(rank - self.at_zero))
        } else {
            None
        }
    }

    /// The least t at which P(consistent) reaches `p` (the `p` quantile
    /// of the thresholds), with a distribution-free interval: the order
    /// statistics whose ranks bound the binomial count of thresholds
    /// below the true quantile (normal approximation). None without
    /// reads, or when the point itself is a read never consistent.
    pub fn t_at(&self, p: f64) -> Option<Quantile> {
        assert!(p > 0.0 && p < 1.0, "a share strictly within 0..1: {p}");
        let n = self.reads();
        if n == 0 {
            return None;
        }
        let mean = p * n as f64;
        let spread = Z_95 * (mean * (1.0 - p)).sqrt();
        let rank = (mean.ceil() as u64).clamp(1, n);
        let low = ((mean - spread).floor().max(1.0) as u64).min(rank);
        let high = ((mean + spread).ceil() as u64 + 1).max(rank);
        let ms = self.at_rank_ms(rank)?;
        let low_ms = self.at_rank_ms(low).unwrap_or(ms);
        let high_ms = if high > n {
            None
        } else {
            self.at_rank_ms(high)
        };
        debug_assert!(low_ms <= ms && high_ms.is_none_or(|h| h >= ms));
        Some(Quantile {
            ms,
            low_ms,
            high_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_give_the_curve_and_its_quantile_with_an_interval() {
        let mut c = Counting::default();
        // 20,000 reads: a tenth consistent at once, one never, the rest
        // spread evenly over 1..=17,999 us.
        for i in 0..2_000 {
            c.record(Some(-i));
        }
        for us in 1..18_000i64 {
            c.record(Some(us * 1_000));
        }
        c.record(None);
        assert_eq!(c.reads(), 20_000);
        assert_eq!(c.p_at_zero(), Some(0.1));
        assert_eq!(c.consistent_at(0.0), 2_000);
        let half = c.consistent_at(9.0);
        assert!(half.abs_diff(11_000) < 80, "{half}");
        let q = c.t_at(0.999).unwrap();
        // The 19,980th smallest: 17,980 us.
        assert!((q.ms - 17.98).abs() / 17.98 < 0.008, "{q:?}");
        // sqrt(20,000 * 0.999 * 0.001) * 1.96 = 8.8 ranks either side,
        // 9 us here: within the histogram's bucket of 131 us.
        assert!(q.low_ms <= q.ms && q.high_ms.unwrap() >= q.ms, "{q:?}");
        assert!(q.high_ms.unwrap() - q.low_ms < 0.15, "{q:?}");
        assert!(q.relative_half_width().unwrap() < 0.01);
        // A summary survives its results form and merges.
        let mut sum = Counting::default();
        sum.merge(&c.finish());
        sum.merge(&c.finish());
        assert_eq!(sum.reads(), 40_000);
        assert_eq!(sum.p_at_zero(), Some(0.1));
    }

    #[test]
    fn an_interval_that_reaches_reads_never_consistent_is_unbounded() {
        let mut c = Counting::default();
        for _ in 0..998 {
            c.record(Some(0));
        }
        c.record(Some(5_000_000));
        c.record(None);
        let q = c.t_at(0.998).unwrap();
        assert_eq!(q.ms, 0.0);
        assert_eq!(q.high_ms, None);
        assert_eq!(q.relative_half_width(), None);
        assert_eq!(c.t_at(0.9999), None, "the point is a read never consistent");
        assert_eq!(Counting::default().t_at(0.5), None);
    }
}
