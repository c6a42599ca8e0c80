//! Jepsen's operations in general: any `:f` and any `:value`, paired from
//! invocation to completion, in EDN (one map per line or vectors of maps)
//! or JSON (one object per line, or one array).
//!
//! The register import (`import.rs`) reads only reads, writes and
//! compare-and-sets into `Operation`s; the transactional and workload
//! checkers (list-append, rw-register, bank, counter, set, long-fork,
//! mutex) each read their values from the `JepsenOp`s made here.
//!
//! Time: event number i (in file order) is time i, as in the register
//! import; real-time order is file order. A process's completion must
//! match its open invocation's `:f`, so a malformed history is an error
//! naming the line.

use super::edn::{Edn, Reader};
use super::history_error::HistoryError;
use super::{Outcome, HISTORY_OPS_MAX};
use std::collections::BTreeMap;

/// One paired operation.
#[derive(Clone, Debug, PartialEq)]
pub struct JepsenOp {
    pub process: u64,
    /// `:f` without its colon: "txn", "transfer", "add", ...
    pub f: String,
    pub outcome: Outcome,
    /// The invocation's `:value`.
    pub invoke_value: Edn,
    /// The completion's `:value` (`Nil` while open).
    pub complete_value: Edn,
    pub invoke_ns: u64,
    /// `None` for an operation that ended `:info` or never completed.
    pub complete_ns: Option<u64>,
    /// The invocation's line in the file (1-based).
    pub line: usize,
}

impl JepsenOp {
    /// The value that says what happened: the completion's for `:ok`, the
    /// invocation's otherwise (an `:info` or `:fail` completion usually
    /// repeats it or carries nothing).
    pub fn value(&self) -> &Edn {
        if self.outcome == Outcome::Ok && !matches!(self.complete_value, Edn::Nil) {
            &self.complete_value
        } else {
            &self.invoke_value
        }
    }
}

/// Which encoding the file uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Edn,
    Json,
}

/// Guesses the encoding: JSON starts with `{"` or `[{"` or `[]`.
pub fn detect(text: &str) -> Encoding {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    let t2 = t.strip_prefix('[').map(str::trim_start).unwrap_or(t);
    if t.starts_with("{\"") || t2.starts_with("{\"") || t2.starts_with(']') {
        Encoding::Json
    } else {
        Encoding::Edn
    }
}

/// One event as written.
struct Event {
    line: usize,
    process: u64,
    kind: Option<Outcome>, // None: invoke
    f: String,
    value: Edn,
}

/// Reads and pairs every client event. Nemesis events (`:process
/// :nemesis`) are skipped. An empty result is an error. Operations come
/// in invocation order.
pub fn read_ops(text: &str, encoding: Encoding, file: &str) -> Result<Vec<JepsenOp>, HistoryError> {
    let mut ops = Vec::new();
    for_each_op(text, encoding, file, |op| {
        ops.push(op);
        Ok(())
    })?;
    ops.sort_by_key(|op| op.invoke_ns);
    Ok(ops)
}

/// Streams the paired operations to `sink` as each completes (those
/// never completed last, in invocation order), holding only the open
/// ones: a history of millions of operations is never held as values.
/// Returns how many there were; none is an error.
pub fn for_each_op(
    text: &str,
    encoding: Encoding,
    file: &str,
    mut sink: impl FnMut(JepsenOp) -> Result<(), HistoryError>,
) -> Result<usize, HistoryError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut pairer = Pairer::default();
    let mut feed = |map: Edn, line: usize| -> Result<(), HistoryError> {
        if let Some(event) = event(map, file, line)? {
            if let Some(op) = pairer.push(event, file)? {
                sink(op)?;
            }
        }
        Ok(())
    };
    match encoding {
        Encoding::Edn => {
            let mut reader = Reader::new(text);
            while reader.skip_space() {
                let line = reader.line();
                let form = reader
                    .read()
                    .map_err(|e| HistoryError::at(file, reader.line(), e))?;
                match form {
                    Edn::Vector(items) | Edn::List(items) => {
                        for item in items {
                            feed(item, line)?;
                        }
                    }
                    map => feed(map, line)?,
                }
            }
        }
        Encoding::Json => {
            let trimmed = text.trim_start();
            if trimmed.starts_with('[') {
                let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
                    HistoryError::at(file, e.line(), format!("not a JSON array of events ({e})"))
                })?;
                for (index, item) in items.into_iter().enumerate() {
                    feed(json_event(item), index + 1)?;
                }
            } else {
                for (index, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let item: serde_json::Value = serde_json::from_str(line).map_err(|e| {
                        HistoryError::at(file, index + 1, format!("not a JSON event ({e})"))
                    })?;
                    feed(json_event(item), index + 1)?;
                }
            }
        }
    }
    let count = pairer.count;
    let mut open: Vec<JepsenOp> = pairer.open.into_values().collect();
    open.sort_by_key(|op| op.invoke_ns);
    for op in open {
        sink(op)?;
    }
    if count == 0 {
        return Err(HistoryError::whole(
            file,
            "no operations: the file holds no client operation to check",
        ));
    }
    Ok(count)
}

/// A JSON event as the EDN map Jepsen would have written.
fn json_event(value: serde_json::Value) -> Edn {
    match value {
        serde_json::Value::Object(map) => Edn::Map(
            map.into_iter()
                .map(|(k, v)| {
                    let keyword = k == "type" || k == "f";
                    (Edn::Keyword(k), json_value(v, keyword, 0))
                })
                .collect(),
        ),
        other => json_value(other, false, 0),
    }
}

/// JSON to EDN: strings of `type` and `f` are keywords; in micro-ops the
/// first element ("append", "r", "w") is too.
pub(crate) fn json_value(value: serde_json::Value, keyword: bool, depth: usize) -> Edn {
    use serde_json::Value;
    if depth > super::edn::DEPTH_MAX {
        return Edn::Nil;
    }
    match value {
        Value::Null => Edn::Nil,
        Value::Bool(b) => Edn::Bool(b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Edn::Int(i),
            None => Edn::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) if keyword => Edn::Keyword(s.trim_start_matches(':').to_string()),
        Value::String(s) => Edn::Str(s),
        Value::Array(items) => {
            // A micro-op ["append", k, v]: its function is a keyword.
            let micro = items.len() == 3
                && matches!(&items[0], Value::String(s) if matches!(s.trim_start_matches(':'), "append" | "r" | "w"));
            Edn::Vector(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| json_value(v, micro && i == 0, depth + 1))
                    .collect(),
            )
        }
        Value::Object(map) => Edn::Map(
            map.into_iter()
                .map(|(k, v)| (Edn::Keyword(k), json_value(v, false, depth + 1)))
                .collect(),
        ),
    }
}

/// One event from its map; `None` for a nemesis event.
fn event(map: Edn, file: &str, line: usize) -> Result<Option<Event>, HistoryError> {
    let bad = |what: &str| HistoryError::at(file, line, format!("{what} in {}", short(&map)));
    if !matches!(map, Edn::Map(_)) {
        return Err(bad(
            "expected an operation map {:process .. :type .. :f .. :value ..}",
        ));
    }
    let process = match map.get("process") {
        Some(Edn::Int(p)) if *p >= 0 => *p as u64,
        Some(Edn::Keyword(_)) => return Ok(None),
        _ => return Err(bad("field `process`: expected a non-negative integer")),
    };
    let kind = match map.get("type") {
        Some(Edn::Keyword(k)) => match k.as_str() {
            "invoke" => None,
            "ok" => Some(Outcome::Ok),
            "fail" => Some(Outcome::Fail),
            "info" => Some(Outcome::Info),
            _ => return Err(bad("field `type`: expected invoke, ok, fail or info")),
        },
        _ => return Err(bad("field `type`: expected invoke, ok, fail or info")),
    };
    let f = match map.get("f") {
        Some(Edn::Keyword(f)) => f.clone(),
        _ => return Err(bad("field `f`: expected a keyword such as :txn")),
    };
    let value = match map {
        Edn::Map(entries) => entries
            .into_iter()
            .find(|(k, _)| matches!(k, Edn::Keyword(name) if name == "value"))
            .map(|(_, v)| v)
            .unwrap_or(Edn::Nil),
        _ => Edn::Nil,
    };
    Ok(Some(Event {
        line,
        process,
        kind,
        f,
        value,
    }))
}

/// A map shortened for an error message.
pub fn short(edn: &Edn) -> String {
    let text = edn.to_string();
    if text.len() > 160 {
        let mut cut = 157;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &text[..cut])
    } else {
        text
    }
}

/// Pairs invocations with completions, one process at a time.
#[derive(Default)]
struct Pairer {
    open: BTreeMap<u64, JepsenOp>,
    time: u64,
    count: usize,
}

impl Pairer {
    fn push(&mut self, event: Event, file: &str) -> Result<Option<JepsenOp>, HistoryError> {
        let time = self.time;
        self.time += 1;
        match event.kind {
            None => {
                if let Some(open) = self.open.get(&event.process) {
                    return Err(HistoryError::at(
                        file,
                        event.line,
                        format!(
                            "process {} invokes :{} while its :{} from line {} is still open (one operation at a time per process)",
                            event.process, event.f, open.f, open.line
                        ),
                    ));
                }
                if self.count >= HISTORY_OPS_MAX {
                    return Err(HistoryError::whole(
                        file,
                        format!("more than {HISTORY_OPS_MAX} operations"),
                    ));
                }
                self.count += 1;
                self.open.insert(
                    event.process,
                    JepsenOp {
                        process: event.process,
                        f: event.f,
                        outcome: Outcome::Info,
                        invoke_value: event.value,
                        complete_value: Edn::Nil,
                        invoke_ns: time,
                        complete_ns: None,
                        line: event.line,
                    },
                );
                Ok(None)
            }
            Some(outcome) => {
                let Some(mut op) = self.open.remove(&event.process) else {
                    return Err(HistoryError::at(
                        file,
                        event.line,
                        format!(
                            "process {} completes a :{} it never invoked",
                            event.process, event.f
                        ),
                    ));
                };
                if op.f != event.f {
                    return Err(HistoryError::at(
                        file,
                        event.line,
                        format!(
                            "process {} completes :{} but invoked :{} on line {}",
                            event.process, event.f, op.f, op.line
                        ),
                    ));
                }
                op.outcome = outcome;
                op.complete_value = event.value;
                if outcome != Outcome::Info {
                    op.complete_ns = Some(time);
                }
                Ok(Some(op))
            }
        }
    }
}

/// A JSON micro-op vector (`[["append", "7", 3], ["r", "7", [1, 3]]]`) as
/// the EDN Jepsen writes: each micro-op's function becomes a keyword.
pub fn json_micro_ops(value: serde_json::Value) -> Edn {
    json_value(value, false, 0)
}
