//! A node's disk: how long a sync takes, and the faults that slow or stall
//! it.
//!
//! A protocol asks its storage to sync (`DurableStorage::sync`), which
//! returns a `SyncId` at once; the engine draws the sync's latency here and
//! delivers `Protocol::on_synced` when it completes. The writes issued
//! before the request are durable from that moment: group commit is every
//! write before one sync sharing it.
//!
//! The rules, each checked by a test:
//! - **Latency.** Drawn from the node's `sync_latency` (the latency family
//!   links use) from the engine's "disk" stream, times the `DiskSlow`
//!   factor while one is in force, plus `bytes / bytes_per_second` when a
//!   throughput is set. A sync's bytes are the key and value bytes of the
//!   writes it makes durable (a delete counts its key).
//! - **One at a time.** A node's disk makes one sync at a time, as fsync
//!   on one log file does: a sync starts when the one before it is done
//!   (or when asked, if the disk is idle) and takes its latency from
//!   there, so syncs complete in the order they were asked for, and a
//!   protocol that syncs every write gets at most one sync per latency.
//!   Group commit (`DurableStorage::sync_grouped`) is how it gets
//!   throughput back: the writes made while a sync is in flight share the
//!   next one.
//! - **Stalls.** During a `DiskStall`, nothing completes: a sync due inside
//!   the stall completes at its end (a hung fsync), in order.
//! - **Crashes.** A process crash keeps every write (the OS has them); a
//!   power loss keeps what completed syncs made durable, and of the syncs
//!   in flight, each survives in order with probability one half until the
//!   first that does not (a later sync cannot be on disk without the ones
//!   before it), drawn from the disk stream.

use crate::latency::Latency;
use crate::time::{SimDuration, SimTime};
use rand::Rng;

/// A node's disk, as the scenario sets it.
#[derive(Clone, Debug, PartialEq)]
pub struct DiskConfig {
    /// How long a sync takes.
    pub sync_latency: Latency,
    /// With a throughput, a sync of `b` bytes takes `b / bytes_per_second`
    /// seconds more.
    pub bytes_per_second: Option<u64>,
}

impl Default for DiskConfig {
    /// An instant disk: a sync completes at the time it was asked for (as
    /// a separate event, after the handler that asked).
    fn default() -> Self {
        DiskConfig {
            sync_latency: Latency::Constant(SimDuration::ZERO),
            bytes_per_second: None,
        }
    }
}

impl DiskConfig {
    pub fn validate(&self) -> Result<(), String> {
        self.sync_latency
            .validate()
            .map_err(|e| format!("sync_latency: {e}"))?;
        if self.bytes_per_second == Some(0) {
            return Err("bytes_per_second must be above 0 (leave it out for no limit)".into());
        }
        Ok(())
    }
}

/// A `DiskSlow` factor at most (a thousandfold slower disk is already a
/// stalled one; use `DiskStall`).
pub const SLOW_FACTOR_MAX: f64 = 1_000.0;

/// Buckets per power of two in a node's sync-latency histogram: 16 puts
/// every percentile at most 6.25% below the exact value.
const BUCKETS_PER_OCTAVE: u32 = 16;
/// Octaves from 1 ns to beyond an hour.
const OCTAVES: u32 = 42;

/// Sync latencies, as a log-linear histogram: bounded (about 5 KB) however
/// many syncs a run makes, and allocated only for a node that syncs.
#[derive(Clone, Debug, Default, PartialEq)]
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

/// One node's disk as the run goes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Disk {
    pub(crate) config: DiskConfig,
    /// A `DiskSlow` in force: its factor and when it ends.
    slow: Option<(f64, SimTime)>,
    /// No sync completes before this (`DiskStall`).
    pub(crate) stall_until: SimTime,
    /// When the last sync asked for completes: the next starts then.
    last_done: SimTime,
    /// When each sync in flight was asked for, oldest first.
    asked_at: std::collections::VecDeque<SimTime>,
    pub(crate) latencies: LatencyHistogram,
}

impl Disk {
    pub(crate) fn new(config: DiskConfig) -> Self {
        Disk {
            config,
            ..Disk::default()
        }
    }

    /// When a sync of `bytes` asked for at `now` completes: it starts when
    /// the sync before it is done, and takes its drawn latency, slowed and
    /// lengthened by its bytes.
    pub(crate) fn schedule(&mut self, now: SimTime, bytes: u64, rng: &mut impl Rng) -> SimTime {
        let mut latency = self.config.sync_latency.sample(rng).as_nanos() as f64;
        if let Some((factor, until)) = self.slow {
            if now < until {
                latency *= factor;
            } else {
                self.slow = None;
            }
        }
        if let Some(rate) = self.config.bytes_per_second {
            latency += bytes as f64 / rate as f64 * 1e9;
        }
        let latency = SimDuration::from_nanos(latency.min(u64::MAX as f64 / 2.0) as u64);
        let done = now.max(self.last_done).saturating_add(latency);
        self.last_done = done;
        self.asked_at.push_back(now);
        debug_assert!(done >= now, "a sync completes no earlier than asked");
        done
    }

    pub(crate) fn slow(&mut self, factor: f64, until: SimTime) {
        assert!(
            factor.is_finite() && factor > 0.0,
            "a validated slow factor: {factor}"
        );
        self.slow = Some((factor, until));
    }

    pub(crate) fn stall(&mut self, until: SimTime) {
        self.stall_until = self.stall_until.max(until);
    }

    /// The oldest sync in flight completed at `now`: its latency counts.
    pub(crate) fn completed(&mut self, now: SimTime) {
        let asked = self
            .asked_at
            .pop_front()
            .expect("a sync in flight completed");
        self.latencies.record(now.saturating_since(asked));
    }

    /// A crash empties the disk's queue: what is asked for next starts
    /// from now.
    pub(crate) fn crashed(&mut self, now: SimTime) {
        self.last_done = now;
        self.asked_at.clear();
    }
}

/// Of `in_flight` syncs at a power loss, how many survive (in order): each
/// with probability one half until the first that does not.
pub(crate) fn surviving(in_flight: usize, rng: &mut impl Rng) -> usize {
    (0..in_flight).take_while(|_| rng.random_bool(0.5)).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn ms(ms: u64) -> SimTime {
        SimTime::ZERO.saturating_add(SimDuration::from_millis(ms))
    }

    fn disk(latency_ms: u64) -> Disk {
        Disk::new(DiskConfig {
            sync_latency: Latency::constant_ms(latency_ms),
            bytes_per_second: None,
        })
    }

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
    fn syncs_complete_one_at_a_time_in_order() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut d = disk(5);
        assert_eq!(d.schedule(ms(0), 0, &mut rng), ms(5));
        // One at a time: asked at 1 ms, it starts when the first is done.
        assert_eq!(d.schedule(ms(1), 0, &mut rng), ms(10));
        // An idle disk starts at once.
        assert_eq!(d.schedule(ms(20), 0, &mut rng), ms(25));
        // Random latencies: still in order, each at least its minimum
        // after the one before.
        let mut uniform = Disk::new(DiskConfig {
            sync_latency: Latency::uniform_ms(1, 20),
            bytes_per_second: None,
        });
        let mut previous = SimTime::ZERO;
        for i in 0..200 {
            let done = uniform.schedule(ms(i / 10), 0, &mut rng);
            assert!(
                done >= previous.saturating_add(SimDuration::from_millis(1))
                    && done >= ms(i / 10).saturating_add(SimDuration::from_millis(1))
            );
            previous = done;
        }
    }

    #[test]
    fn slow_multiplies_until_it_ends_and_bytes_take_time() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut d = disk(2);
        d.slow(10.0, ms(100));
        assert_eq!(d.schedule(ms(0), 0, &mut rng), ms(20));
        assert_eq!(d.schedule(ms(100), 0, &mut rng), ms(102), "over at 100 ms");
        let mut throughput = Disk::new(DiskConfig {
            sync_latency: Latency::constant_ms(1),
            bytes_per_second: Some(1_000_000),
        });
        // 10 kB at 1 MB/s: 10 ms more.
        assert_eq!(throughput.schedule(ms(0), 10_000, &mut rng), ms(11));
    }

    #[test]
    fn a_crash_empties_the_queue_and_survivors_are_a_prefix() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut d = disk(50);
        assert_eq!(d.schedule(ms(0), 0, &mut rng), ms(50));
        d.crashed(ms(10));
        assert_eq!(d.schedule(ms(10), 0, &mut rng), ms(60));
        // About half of single in-flight syncs survive; never more than in flight.
        let survived: usize = (0..10_000).map(|_| surviving(1, &mut rng)).sum();
        assert!((4_700..5_300).contains(&survived), "{survived}");
        assert!((0..1_000).all(|_| surviving(3, &mut rng) <= 3));
        assert_eq!(surviving(0, &mut rng), 0);
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
