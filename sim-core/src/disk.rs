//! A node's disk: how long a sync takes, and the faults that slow or stall
//! it. Its sync latencies are kept in a `LatencyHistogram` (`histogram.rs`).
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

use crate::histogram::LatencyHistogram;
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
}
