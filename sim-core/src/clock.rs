//! Node-local clocks: an offset, a constant drift, and step jumps.
//!
//! A node's clock reads `local(t) = t + floor(t · drift_ppb / 10^9) + offset`,
//! where `t` is true time and `offset` includes every jump so far. Readings
//! saturate at zero.
//!
//! Timers are set on the local clock and measure elapsed local time the way a
//! monotonic OS timer does: a timer of `D` fires at the first true instant at
//! which the drifting oscillator has advanced by `D`, that is after about
//! `D / (1 + drift)` of true time. A jump moves the clock's reading and nothing
//! else: it does not make pending timers fire earlier or later. (Protocols that
//! compare readings across a jump see the jump, which is the point.)

use crate::time::{LocalTime, SimDuration, SimTime};
use serde::{Deserialize, Serialize};

const PPB_PER_UNIT: i128 = 1_000_000_000;

/// Drift is bounded to ±10% (100,000 ppm); real oscillators are within ±200 ppm,
/// and larger values would make timer arithmetic meaningless.
pub const DRIFT_PPM_MAX: f64 = 100_000.0;

/// How a node's clock starts.
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ClockConfig {
    /// Initial offset from true time, nanoseconds (negative: behind).
    pub offset_ns: i64,
    /// Rate error in parts per million (positive: the clock runs fast). The
    /// engine keeps it as an integer number of parts per billion, so its
    /// resolution is 0.001 ppm; integer arithmetic keeps timers exact.
    pub drift_ppm: f64,
}

impl ClockConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !self.drift_ppm.is_finite() || self.drift_ppm.abs() > DRIFT_PPM_MAX {
            return Err(format!(
                "drift_ppm must be within ±{DRIFT_PPM_MAX}, got {}",
                self.drift_ppm
            ));
        }
        Ok(())
    }
}

/// A node's clock during a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeClock {
    offset_ns: i64,
    drift_ppb: i64,
}

impl NodeClock {
    pub fn new(config: ClockConfig) -> Self {
        debug_assert!(config.validate().is_ok());
        NodeClock {
            offset_ns: config.offset_ns,
            drift_ppb: (config.drift_ppm * 1_000.0).round() as i64,
        }
    }

    /// Local oscillator ticks since true time zero, ignoring offset and jumps.
    #[inline]
    fn ticks(&self, t: SimTime) -> i128 {
        let t = t.as_nanos() as i128;
        t + (t * self.drift_ppb as i128).div_euclid(PPB_PER_UNIT)
    }

    /// The clock's reading at true time `t`.
    #[inline]
    pub fn read(&self, t: SimTime) -> LocalTime {
        if self.drift_ppb == 0 {
            let reading = t.as_nanos() as i128 + self.offset_ns as i128;
            return LocalTime::from_nanos(reading.clamp(0, u64::MAX as i128) as u64);
        }
        let reading = self.ticks(t) + self.offset_ns as i128;
        LocalTime::from_nanos(reading.clamp(0, u64::MAX as i128) as u64)
    }

    /// Steps the clock by `delta_ns` (a jump; forward if positive).
    pub fn jump(&mut self, delta_ns: i64) {
        self.offset_ns = self.offset_ns.saturating_add(delta_ns);
    }

    pub fn offset_ns(&self) -> i64 {
        self.offset_ns
    }

    /// The true delay after which a timer of local duration `local` set at true
    /// time `now` fires: the smallest `d` with `ticks(now + d) - ticks(now) >= local`.
    #[inline]
    pub fn true_delay(&self, now: SimTime, local: SimDuration) -> SimDuration {
        if self.drift_ppb == 0 {
            return local;
        }
        let start = self.ticks(now);
        let target = local.as_nanos() as i128;
        let rate = PPB_PER_UNIT + self.drift_ppb as i128;
        // Closed-form estimate, then at most a couple of unit corrections for the floor.
        let mut delay = (target * PPB_PER_UNIT + rate - 1) / rate;
        let elapsed = |d: i128| -> i128 {
            let at = (now.as_nanos() as i128 + d).min(u64::MAX as i128);
            self.ticks(SimTime::from_nanos(at as u64)) - start
        };
        let mut corrections = 0;
        while elapsed(delay) < target {
            delay += 1;
            corrections += 1;
            assert!(corrections < 8, "timer inverse did not converge");
        }
        while delay > 0 && elapsed(delay - 1) >= target {
            delay -= 1;
            corrections += 1;
            assert!(corrections < 8, "timer inverse did not converge");
        }
        SimDuration::from_nanos(delay.clamp(0, u64::MAX as i128) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_and_jump_move_the_reading() {
        let mut c = NodeClock::new(ClockConfig {
            offset_ns: 5_000,
            drift_ppm: 0.0,
        });
        assert_eq!(c.read(SimTime::from_nanos(1_000)).as_nanos(), 6_000);
        c.jump(-10_000);
        assert_eq!(
            c.read(SimTime::from_nanos(1_000)).as_nanos(),
            0,
            "readings saturate at zero"
        );
        assert_eq!(c.read(SimTime::from_nanos(100_000)).as_nanos(), 95_000);
    }

    #[test]
    fn timer_delay_inverts_drift_exactly() {
        for drift_ppm in [-50_000.0, -200.0, 0.0, 0.5, 100.0, 99_999.0] {
            let c = NodeClock::new(ClockConfig {
                offset_ns: 0,
                drift_ppm,
            });
            for now_ns in [0u64, 1, 999_999_999, 123_456_789_012] {
                let now = SimTime::from_nanos(now_ns);
                let local = SimDuration::from_millis(150);
                let d = c.true_delay(now, local);
                let fired = now.saturating_add(d);
                let elapsed = c.ticks(fired) - c.ticks(now);
                assert!(elapsed >= local.as_nanos() as i128);
                if d.as_nanos() > 0 {
                    let before = SimTime::from_nanos(fired.as_nanos() - 1);
                    assert!(c.ticks(before) - c.ticks(now) < local.as_nanos() as i128);
                }
                let expected = local.as_nanos() as f64 / (1.0 + drift_ppm * 1e-6);
                assert!(
                    (d.as_nanos() as f64 - expected).abs() <= 2.0,
                    "drift {drift_ppm}: {d:?} vs {expected}"
                );
            }
        }
    }
}
