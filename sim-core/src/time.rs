//! Virtual time: integer nanoseconds, for true time (`SimTime`), node-local clock
//! readings (`LocalTime`) and spans (`SimDuration`).
//!
//! Why integers: floating-point time makes event order depend on rounding, and
//! rounding differs between expressions that are mathematically equal. Integer
//! nanoseconds give 584 years of range, far beyond any run.
//!
//! Why two instant types: the engine alone knows true time (ARCHITECTURE.md,
//! invariant 3). Protocols see `LocalTime` only, and the type system keeps the
//! two from being mixed by accident.

use serde::{Deserialize, Serialize};
use std::fmt;

const NANOS_PER_MICRO: u64 = 1_000;
const NANOS_PER_MILLI: u64 = 1_000_000;
const NANOS_PER_SEC: u64 = 1_000_000_000;
const NANOS_PER_MIN: u64 = 60 * NANOS_PER_SEC;
const NANOS_PER_HOUR: u64 = 60 * NANOS_PER_MIN;

/// A span of virtual time in nanoseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SimDuration(u64);

/// A point in true (engine) time: nanoseconds since the start of the run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SimTime(u64);

/// A reading of one node's local clock, in nanoseconds. It is skewed, drifts
/// and jumps relative to `SimTime`; it saturates at zero rather than going negative.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LocalTime(u64);

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us * NANOS_PER_MICRO)
    }
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * NANOS_PER_MILLI)
    }
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * NANOS_PER_SEC)
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_MILLI as f64
    }
    pub fn saturating_add(self, other: SimDuration) -> Self {
        SimDuration(self.0.saturating_add(other.0))
    }
    pub fn saturating_sub(self, other: SimDuration) -> Self {
        SimDuration(self.0.saturating_sub(other.0))
    }
    pub fn checked_mul(self, k: u64) -> Option<Self> {
        self.0.checked_mul(k).map(SimDuration)
    }

    /// Parses a duration with a unit: `"150ms"`, `"2s"`, `"1.5s"`, `"1m"`,
    /// `"250us"`, `"10ns"`, `"1h"`. Decimals are exact (no floating point).
    pub fn parse(text: &str) -> Result<Self, ParseDurationError> {
        let (negative, magnitude) = parse_signed_nanos(text)?;
        if negative && magnitude != 0 {
            return Err(ParseDurationError::new(
                text,
                "a duration here cannot be negative",
            ));
        }
        Ok(SimDuration(magnitude))
    }
}

/// Parses a signed duration such as `"-300ms"` (used for clock offsets and jumps)
/// into nanoseconds.
pub fn parse_signed_nanos_i64(text: &str) -> Result<i64, ParseDurationError> {
    let (negative, magnitude) = parse_signed_nanos(text)?;
    let value = i64::try_from(magnitude)
        .map_err(|_| ParseDurationError::new(text, "the magnitude is too large"))?;
    Ok(if negative { -value } else { value })
}

/// Formats signed nanoseconds the way `SimDuration` displays, with a sign.
pub fn format_signed_nanos(ns: i64) -> String {
    let magnitude = SimDuration(ns.unsigned_abs());
    if ns < 0 {
        format!("-{magnitude}")
    } else {
        format!("{magnitude}")
    }
}

fn parse_signed_nanos(text: &str) -> Result<(bool, u64), ParseDurationError> {
    let trimmed = text.trim();
    let (negative, body) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let unit_start = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| {
            ParseDurationError::new(text, "add a unit: ns, us, ms, s, m or h (e.g. \"150ms\")")
        })?;
    let (number, unit) = body.split_at(unit_start);
    let unit_nanos: u64 = match unit {
        "ns" => 1,
        "us" | "µs" => NANOS_PER_MICRO,
        "ms" => NANOS_PER_MILLI,
        "s" => NANOS_PER_SEC,
        "m" | "min" => NANOS_PER_MIN,
        "h" => NANOS_PER_HOUR,
        _ => {
            return Err(ParseDurationError::new(
                text,
                "unknown unit; use ns, us, ms, s, m or h (e.g. \"150ms\")",
            ))
        }
    };
    if number.is_empty() {
        return Err(ParseDurationError::new(
            text,
            "a number must come before the unit",
        ));
    }
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if whole.is_empty() || fraction.contains('.') {
        return Err(ParseDurationError::new(text, "the number is malformed"));
    }
    // Bounded: more than 18 digits cannot fit in u64 nanoseconds anyway.
    if whole.len() > 18 || fraction.len() > 18 {
        return Err(ParseDurationError::new(
            text,
            "the number has too many digits",
        ));
    }
    let too_large = || ParseDurationError::new(text, "the duration is too large");
    let whole_value: u128 = whole
        .parse()
        .map_err(|_| ParseDurationError::new(text, "the number is malformed"))?;
    let mut nanos = whole_value
        .checked_mul(unit_nanos as u128)
        .ok_or_else(too_large)?;
    if !fraction.is_empty() {
        let fraction_value: u128 = fraction
            .parse()
            .map_err(|_| ParseDurationError::new(text, "the number is malformed"))?;
        let scale = 10u128.pow(fraction.len() as u32);
        let scaled = fraction_value * unit_nanos as u128;
        if !scaled.is_multiple_of(scale) {
            return Err(ParseDurationError::new(
                text,
                "the duration is finer than one nanosecond",
            ));
        }
        nanos += scaled / scale;
    }
    let nanos = u64::try_from(nanos).map_err(|_| too_large())?;
    Ok((negative, nanos))
}

/// A duration string that could not be parsed, with a hint on how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseDurationError {
    pub input: String,
    pub hint: &'static str,
}

impl ParseDurationError {
    fn new(input: &str, hint: &'static str) -> Self {
        ParseDurationError {
            input: input.chars().take(64).collect(),
            hint,
        }
    }
}

impl fmt::Display for ParseDurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid duration {:?}: {}", self.input, self.hint)
    }
}

impl std::error::Error for ParseDurationError {}

/// Writes `ns` in the largest unit it reaches, with an exact decimal fraction:
/// 1_500_000 ns is "1.5ms".
fn write_nanos(f: &mut fmt::Formatter<'_>, ns: u64) -> fmt::Result {
    let (unit_nanos, unit) = if ns >= NANOS_PER_SEC {
        (NANOS_PER_SEC, "s")
    } else if ns >= NANOS_PER_MILLI {
        (NANOS_PER_MILLI, "ms")
    } else if ns >= NANOS_PER_MICRO {
        (NANOS_PER_MICRO, "us")
    } else {
        (1, "ns")
    };
    let whole = ns / unit_nanos;
    let rest = ns % unit_nanos;
    if rest == 0 {
        return write!(f, "{whole}{unit}");
    }
    let width = (unit_nanos as f64).log10().round() as usize;
    let digits = format!("{rest:0width$}");
    write!(f, "{whole}.{}{unit}", digits.trim_end_matches('0'))
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_nanos(f, self.0)
    }
}
impl fmt::Debug for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_nanos(f, self.0)
    }
}

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub const fn from_nanos(ns: u64) -> Self {
        SimTime(ns)
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    /// The instant `d` after `self`, saturating at `SimTime::MAX`.
    pub fn saturating_add(self, d: SimDuration) -> Self {
        SimTime(self.0.saturating_add(d.0))
    }
    pub fn checked_add(self, d: SimDuration) -> Option<Self> {
        self.0.checked_add(d.0).map(SimTime)
    }
    /// Time elapsed since `earlier`; zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
    /// Time since the start of the run, as a duration.
    pub fn since_start(self) -> SimDuration {
        SimDuration(self.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_nanos(f, self.0)
    }
}
impl fmt::Debug for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t=")?;
        write_nanos(f, self.0)
    }
}

impl LocalTime {
    pub const ZERO: LocalTime = LocalTime(0);

    pub const fn from_nanos(ns: u64) -> Self {
        LocalTime(ns)
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn saturating_add(self, d: SimDuration) -> Self {
        LocalTime(self.0.saturating_add(d.0))
    }
    /// Local time elapsed since `earlier`; zero if the clock went backwards past it.
    pub fn saturating_since(self, earlier: LocalTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_nanos(f, self.0)
    }
}
impl fmt::Debug for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "local=")?;
        write_nanos(f, self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<u64, &str>) {
        let got = SimDuration::parse(input)
            .map(|d| d.as_nanos())
            .map_err(|e| e.to_string());
        assert_eq!(got, expected.map_err(|s| s.to_string()), "input {input:?}");
    }

    #[test]
    fn parses_units_and_exact_decimals() {
        check("150ms", Ok(150_000_000));
        check("2s", Ok(2_000_000_000));
        check("1.5s", Ok(1_500_000_000));
        check("1m", Ok(60_000_000_000));
        check("250us", Ok(250_000));
        check("0.001ms", Ok(1_000));
        check("7ns", Ok(7));
        check(" 3h ", Ok(3 * 3_600_000_000_000));
    }

    #[test]
    fn rejects_bad_durations_with_hints() {
        check(
            "150",
            Err("invalid duration \"150\": add a unit: ns, us, ms, s, m or h (e.g. \"150ms\")"),
        );
        check(
            "ms",
            Err("invalid duration \"ms\": a number must come before the unit"),
        );
        check(
            "1.5ns",
            Err("invalid duration \"1.5ns\": the duration is finer than one nanosecond"),
        );
        check(
            "-5ms",
            Err("invalid duration \"-5ms\": a duration here cannot be negative"),
        );
        check("5 parsecs", Err("invalid duration \"5 parsecs\": unknown unit; use ns, us, ms, s, m or h (e.g. \"150ms\")"));
        check(
            "99999999999h",
            Err("invalid duration \"99999999999h\": the duration is too large"),
        );
        check(
            "1..2s",
            Err("invalid duration \"1..2s\": the number is malformed"),
        );
    }

    #[test]
    fn signed_parse_and_format_round_trip() {
        assert_eq!(parse_signed_nanos_i64("-300ms"), Ok(-300_000_000));
        assert_eq!(format_signed_nanos(-300_000_000), "-300ms");
        assert_eq!(format_signed_nanos(1_250_000), "1.25ms");
    }

    #[test]
    fn display_is_exact_and_reparses() {
        for ns in [
            0u64,
            1,
            999,
            1_000,
            1_500_000,
            2_000_000_000,
            61_000_000_123,
            u64::MAX,
        ] {
            let shown = SimDuration::from_nanos(ns).to_string();
            assert_eq!(
                SimDuration::parse(&shown).unwrap().as_nanos(),
                ns,
                "{shown}"
            );
        }
    }
}
