//! One line of faultline's `history.jsonl`, parsed in one pass.
//!
//! Why not `serde_json::from_str::<Operation>` plus a `Value` parse to find
//! fields the format does not define: two parses of every line, and a map
//! allocated per line, cost more than the check itself on a ten-million
//! operation history. This reads the fields as they come, matching their
//! names without allocating, and keeps the names it does not know.

use super::{Function, Operation, Outcome};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// The fields of a line; any other is noted and ignored.
pub const FIELDS: &[&str] = &[
    "process",
    "f",
    "key",
    "value",
    "expected",
    "outcome",
    "invoke_ns",
    "complete_ns",
    "gave_up_ns",
];

/// A parsed line: the operation and the names of fields it ignored.
pub struct Line {
    pub operation: Operation,
    pub unknown: Vec<String>,
}

/// Parses one line (not yet validated: `Operation::validate`).
pub fn parse(line: &str) -> Result<Line, serde_json::Error> {
    serde_json::from_str(line)
}

enum Field {
    Process,
    F,
    Key,
    Value,
    Expected,
    Outcome,
    InvokeNs,
    CompleteNs,
    GaveUpNs,
    Other(String),
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Field, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                Ok(match name {
                    "process" => Field::Process,
                    "f" => Field::F,
                    "key" => Field::Key,
                    "value" => Field::Value,
                    "expected" => Field::Expected,
                    "outcome" => Field::Outcome,
                    "invoke_ns" => Field::InvokeNs,
                    "complete_ns" => Field::CompleteNs,
                    "gave_up_ns" => Field::GaveUpNs,
                    other => Field::Other(other.to_string()),
                })
            }
        }
        deserializer.deserialize_identifier(Name)
    }
}

impl<'de> Deserialize<'de> for Line {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Line, D::Error> {
        deserializer.deserialize_map(LineVisitor)
    }
}

struct LineVisitor;

/// Sets a field once; a second value for it is an error, as with derive.
fn once<T, E: de::Error>(slot: &mut Option<T>, name: &'static str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

impl<'de> Visitor<'de> for LineVisitor {
    type Value = Line;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an operation object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Line, A::Error> {
        let mut process: Option<u64> = None;
        let mut f: Option<Function> = None;
        let mut key: Option<String> = None;
        let mut value: Option<Option<String>> = None;
        let mut expected: Option<Option<String>> = None;
        let mut outcome: Option<Outcome> = None;
        let mut invoke_ns: Option<u64> = None;
        let mut complete_ns: Option<Option<u64>> = None;
        let mut gave_up_ns: Option<Option<u64>> = None;
        let mut unknown = Vec::new();
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Process => once(&mut process, "process", map.next_value()?)?,
                Field::F => once(&mut f, "f", map.next_value()?)?,
                Field::Key => once(&mut key, "key", map.next_value()?)?,
                Field::Value => once(&mut value, "value", map.next_value()?)?,
                Field::Expected => once(&mut expected, "expected", map.next_value()?)?,
                Field::Outcome => once(&mut outcome, "outcome", map.next_value()?)?,
                Field::InvokeNs => once(&mut invoke_ns, "invoke_ns", map.next_value()?)?,
                Field::CompleteNs => once(&mut complete_ns, "complete_ns", map.next_value()?)?,
                Field::GaveUpNs => once(&mut gave_up_ns, "gave_up_ns", map.next_value()?)?,
                Field::Other(name) => {
                    map.next_value::<IgnoredAny>()?;
                    if !unknown.contains(&name) {
                        unknown.push(name);
                    }
                }
            }
        }
        let operation = Operation {
            process: process.ok_or_else(|| de::Error::missing_field("process"))?,
            f: f.ok_or_else(|| de::Error::missing_field("f"))?,
            key: key.ok_or_else(|| de::Error::missing_field("key"))?,
            value: value.flatten(),
            expected: expected.flatten(),
            outcome: outcome.ok_or_else(|| de::Error::missing_field("outcome"))?,
            invoke_ns: invoke_ns.ok_or_else(|| de::Error::missing_field("invoke_ns"))?,
            complete_ns: complete_ns.flatten(),
            gave_up_ns: gave_up_ns.flatten(),
        };
        Ok(Line { operation, unknown })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_reads_as_the_derived_operation_does_and_names_unknown_fields() {
        let text = r#"{"process":3,"f":"cas","key":"k1","value":"5","expected":"4","outcome":"info","invoke_ns":10,"colour":"red","gave_up_ns":20}"#;
        let line = parse(text).unwrap();
        let derived: Operation = serde_json::from_str(text).unwrap();
        assert_eq!(line.operation, derived);
        assert_eq!(line.unknown, vec!["colour".to_string()]);
        let nulls = r#"{"process":0,"f":"read","key":"k","value":null,"outcome":"ok","invoke_ns":1,"complete_ns":2}"#;
        assert_eq!(parse(nulls).unwrap().operation.value, None);
    }

    #[test]
    fn missing_and_repeated_fields_are_errors_that_name_them() {
        let missing = parse(r#"{"process":0,"f":"read","key":"k","outcome":"ok"}"#);
        assert!(missing.err().unwrap().to_string().contains("invoke_ns"));
        let twice =
            parse(r#"{"process":0,"process":1,"f":"read","key":"k","outcome":"ok","invoke_ns":1}"#);
        assert!(twice
            .err()
            .unwrap()
            .to_string()
            .contains("duplicate field `process`"));
        assert!(parse("[1, 2]").is_err());
    }
}
