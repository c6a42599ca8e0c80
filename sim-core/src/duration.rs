//! Durations as scenario files and protocol params write them: strings
//! with units ("150ms", "2s").
//!
//! Why strings: a bare number is ambiguous (milliseconds? seconds?), and the
//! unit is the part of a duration people most often get wrong.

use crate::time::{format_signed_nanos, parse_signed_nanos_i64};
use crate::SimDuration;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A non-negative duration, written "150ms", "1.5s", "2m".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dur(pub SimDuration);

/// A signed duration (a clock offset or jump), written "-300ms".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SignedDur(pub i64);

impl Dur {
    pub const fn ms(ms: u64) -> Dur {
        Dur(SimDuration::from_millis(ms))
    }
    pub const fn secs(s: u64) -> Dur {
        Dur(SimDuration::from_secs(s))
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text.trim_start().starts_with('-') {
            return Err(de::Error::custom(format!(
                "duration \"{text}\" is negative; durations here must be zero or more"
            )));
        }
        SimDuration::parse(&text)
            .map(Dur)
            .map_err(|e| de::Error::custom(format!("bad duration: {e}")))
    }
}

impl Serialize for SignedDur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_signed_nanos(self.0))
    }
}

impl<'de> Deserialize<'de> for SignedDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_signed_nanos_i64(&text)
            .map(SignedDur)
            .map_err(|e| de::Error::custom(format!("bad duration: {e}")))
    }
}

/// In a params schema (what `faultline list` reads), a duration is text.
impl schemars::JsonSchema for Dur {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "a duration with its unit: \"150ms\", \"1.5s\", \"2m\""
        })
    }
}

impl From<SimDuration> for Dur {
    fn from(d: SimDuration) -> Dur {
        Dur(d)
    }
}
