//! Memory sizes as scenario files write them: strings with units ("512MiB",
//! "2GiB", "64MB").
//!
//! Why strings: as with durations, the unit is the part people get wrong,
//! and a bare number of bytes is unreadable at these sizes.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A size in bytes, written with a unit: B, KiB, MiB, GiB, TiB (powers of
/// 1024) or KB, MB, GB, TB (powers of 1000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bytes(pub u64);

const UNITS: [(&str, u64); 9] = [
    ("TiB", 1 << 40),
    ("GiB", 1 << 30),
    ("MiB", 1 << 20),
    ("KiB", 1 << 10),
    ("TB", 1_000_000_000_000),
    ("GB", 1_000_000_000),
    ("MB", 1_000_000),
    ("KB", 1_000),
    ("B", 1),
];

impl Bytes {
    pub fn parse(text: &str) -> Result<Bytes, String> {
        let trimmed = text.trim();
        let (number, factor) = UNITS
            .iter()
            .find_map(|(unit, factor)| trimmed.strip_suffix(unit).map(|n| (n.trim(), *factor)))
            .ok_or_else(|| {
                format!("\"{text}\" has no unit; write it as \"512MiB\", \"2GiB\" or \"100MB\"")
            })?;
        if let Ok(whole) = number.parse::<u64>() {
            return whole
                .checked_mul(factor)
                .map(Bytes)
                .ok_or_else(|| format!("\"{text}\" is too large"));
        }
        let value: f64 = number
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("\"{text}\": \"{number}\" is not a non-negative number"))?;
        let bytes = value * factor as f64;
        if bytes >= u64::MAX as f64 {
            return Err(format!("\"{text}\" is too large"));
        }
        Ok(Bytes(bytes.round() as u64))
    }
}

impl Bytes {
    /// The size for people, to one decimal in the largest binary unit
    /// under it ("45.3 MiB"); `Display` writes the exact size instead.
    pub fn approx(&self) -> String {
        for (unit, factor) in UNITS.iter().filter(|(u, _)| u.ends_with("iB")) {
            if self.0 >= *factor {
                return format!("{:.1} {unit}", self.0 as f64 / *factor as f64);
            }
        }
        format!("{} B", self.0)
    }
}

impl fmt::Display for Bytes {
    /// The largest binary unit that divides the size exactly, so that the
    /// text reads back as the same number of bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, factor) in UNITS.iter().filter(|(u, _)| u.ends_with("iB")) {
            if self.0 >= *factor && self.0.is_multiple_of(*factor) {
                return write!(f, "{}{unit}", self.0 / factor);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Bytes::parse(&text).map_err(|e| de::Error::custom(format!("bad size: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approximate_sizes_read_in_the_largest_unit_under_them() {
        assert_eq!(Bytes(47_523_011).approx(), "45.3 MiB");
        assert_eq!(Bytes(1 << 30).approx(), "1.0 GiB");
        assert_eq!(Bytes(1_000).approx(), "1000 B");
        assert_eq!(Bytes(0).approx(), "0 B");
    }
    use proptest::prelude::*;

    #[test]
    fn units_parse() {
        assert_eq!(Bytes::parse("1GiB"), Ok(Bytes(1 << 30)));
        assert_eq!(Bytes::parse("1.5 MiB"), Ok(Bytes(3 << 19)));
        assert_eq!(Bytes::parse("100MB"), Ok(Bytes(100_000_000)));
        assert_eq!(Bytes::parse("7B"), Ok(Bytes(7)));
        assert!(Bytes::parse("12").unwrap_err().contains("no unit"));
        assert!(Bytes::parse("-1GiB").is_err());
        assert!(Bytes::parse("1e30TiB").is_err());
    }

    proptest! {
        #[test]
        fn display_reads_back(bytes in any::<u64>().prop_map(|b| b >> 8)) {
            let text = Bytes(bytes).to_string();
            prop_assert_eq!(Bytes::parse(&text), Ok(Bytes(bytes)));
        }
    }
}
