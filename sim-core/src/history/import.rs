//! Reading histories recorded by other tools: Jepsen/Knossos EDN, Porcupine's
//! etcd logs and kv files, and faultline's own JSON lines.
//!
//! Formats without timestamps (all but JSON lines) give events in the order
//! they happened; event number i gets time i, so real-time order is line
//! order. Errors name the file line and what was expected; a history that
//! is not well formed (a completion without an invocation, two open
//! operations of one process) names the operation.

use super::edn::{Edn, Reader};
use super::history_error::HistoryError;
use super::{Function, History, Operation, Outcome, HISTORY_OPS_MAX};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Auto,
    /// Jepsen/Knossos maps: `{:process 0, :type :invoke, :f :read, :value nil}`,
    /// one per line or inside a vector; `:key` for keyed histories.
    Edn,
    /// Porcupine's `jepsen/etcd_NNN.log`: `INFO jepsen.util - P :type :f value`.
    PorcupineEtcd,
    /// Porcupine's `kv/cNN-*.txt`: EDN maps with `:key` and string values.
    PorcupineKv,
    /// faultline's own `history.jsonl`.
    Jsonl,
    /// A JSON array of operations: faultline's own, or Jepsen's events as
    /// JSON (`{"process": 0, "type": "invoke", "f": "read", "value": null}`).
    Json,
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "auto" => Format::Auto,
            "edn" => Format::Edn,
            "porcupine-etcd" => Format::PorcupineEtcd,
            "porcupine-kv" => Format::PorcupineKv,
            "jsonl" => Format::Jsonl,
            "json" => Format::Json,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Edn => "edn",
            Format::PorcupineEtcd => "porcupine-etcd",
            Format::PorcupineKv => "porcupine-kv",
            Format::Jsonl => "jsonl",
            Format::Json => "json",
        }
    }
}

/// Histories larger than this are refused before parsing.
pub const HISTORY_BYTES_MAX: usize = 512 * 1024 * 1024;

/// Guesses the format from the first meaningful line (a byte-order mark
/// before it is ignored).
pub fn detect(text: &str) -> Format {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(';'))
        .unwrap_or("");
    let after_bracket = text.trim_start().strip_prefix('[').map(str::trim_start);
    if text.contains("jepsen.util") {
        Format::PorcupineEtcd
    } else if first.starts_with("{\"") {
        Format::Jsonl
    } else if after_bracket.is_some_and(|rest| {
        rest.starts_with(']')
            || rest
                .strip_prefix('{')
                .is_some_and(|r| r.trim_start().starts_with('"'))
    }) {
        Format::Json
    } else if first.starts_with('{') && first.contains(":key") && first.contains('"') {
        Format::PorcupineKv
    } else {
        Format::Edn
    }
}

/// A UTF-8 byte-order mark, which some editors put first.
pub(super) const BOM: char = '\u{feff}';

/// The fields each format's operations may carry; others are reported
/// (`Imported::unknown_fields`), since a misspelt `:value` or `"key"`
/// would otherwise be ignored and change the verdict without a word.
pub(super) const EDN_FIELDS: &[&str] = &[
    "process", "type", "f", "value", "key", "time", "index", "error", "node",
];
pub(super) const JSONL_FIELDS: &[&str] = super::jsonl::FIELDS;

/// One event as the recording tool wrote it.
pub(super) struct Event {
    line: usize,
    process: u64,
    kind: EventKind,
    f: Function,
    key: String,
    value: Edn,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EventKind {
    Invoke,
    Done(Outcome),
}

/// What the import produced, and what the format implies for checking.
#[derive(Debug)]
pub struct Imported {
    pub history: History,
    pub format: Format,
    /// The state every key starts in, when the format says ("" for no value).
    pub initial: Option<String>,
    /// Fields the format does not define, each with the line it first
    /// appears on, in order of appearance: ignored by the import.
    pub unknown_fields: Vec<(String, usize)>,
}

/// Notes a field name not in `known`, once, with its line.
pub(super) fn note_unknown(
    unknown: &mut Vec<(String, usize)>,
    name: &str,
    line: usize,
    known: &[&str],
) {
    if !known.contains(&name) && !unknown.iter().any(|(n, _)| n == name) && unknown.len() < 64 {
        unknown.push((name.to_string(), line));
    }
}

/// Parses `text` (named `file` in errors) as `format`. A history without
/// a single operation is an error: there is nothing to judge, and calling
/// it linearizable would pass an empty or mistyped file.
pub fn import(text: &str, format: Format, file: &str) -> Result<Imported, HistoryError> {
    if text.len() > HISTORY_BYTES_MAX {
        return Err(HistoryError::whole(
            file,
            format!("larger than {HISTORY_BYTES_MAX} bytes"),
        ));
    }
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let format = if format == Format::Auto {
        detect(text)
    } else {
        format
    };
    let mut unknown_fields = Vec::new();
    let (events, initial) = match format {
        Format::Jsonl => {
            let history =
                jsonl_history(text, &mut unknown_fields).map_err(|e| jsonl_error(file, &e))?;
            return finish(history, format, None, unknown_fields, file);
        }
        Format::Json => match json_items(text, file)? {
            JsonItems::Faultline(operations) => {
                for (index, op) in operations.iter().enumerate() {
                    for name in op.keys() {
                        note_unknown(&mut unknown_fields, name, index + 1, JSONL_FIELDS);
                    }
                }
                let history = operations
                    .into_iter()
                    .enumerate()
                    .map(|(index, op)| {
                        let op: Operation = serde_json::from_value(serde_json::Value::Object(op))
                            .map_err(|e| {
                            HistoryError::whole(file, format!("operation {}: {e}", index + 1))
                        })?;
                        op.validate().map_err(|e| {
                            HistoryError::whole(file, format!("operation {}: {e}", index + 1))
                        })?;
                        Ok(op)
                    })
                    .collect::<Result<Vec<_>, HistoryError>>()?;
                return finish(
                    History {
                        operations: history,
                    },
                    format,
                    None,
                    unknown_fields,
                    file,
                );
            }
            JsonItems::Jepsen(maps) => {
                let mut events = Vec::new();
                for (index, map) in maps.into_iter().enumerate() {
                    if let Edn::Map(entries) = &map {
                        for (key, _) in entries {
                            if let Edn::Keyword(name) = key {
                                note_unknown(&mut unknown_fields, name, index + 1, EDN_FIELDS);
                            }
                        }
                    }
                    events_from_map(&mut events, map, file, index + 1, false)?;
                }
                (events, None)
            }
        },
        Format::PorcupineEtcd => (etcd_events(text, file)?, Some(String::new())),
        Format::PorcupineKv => (
            edn_events(text, file, true, &mut unknown_fields)?,
            Some(String::new()),
        ),
        Format::Edn => (edn_events(text, file, false, &mut unknown_fields)?, None),
        Format::Auto => unreachable!("resolved above"),
    };
    let history = pair(events, file, format)?;
    finish(history, format, initial, unknown_fields, file)
}

pub(super) fn finish(
    history: History,
    format: Format,
    initial: Option<String>,
    unknown_fields: Vec<(String, usize)>,
    file: &str,
) -> Result<Imported, HistoryError> {
    if history.is_empty() {
        return Err(HistoryError::whole(file, format!(
            "no operations: the file holds no client operation to check (read as {}; give --format if that is wrong)",
            format.name()
        )));
    }
    Ok(Imported {
        history,
        format,
        initial,
        unknown_fields,
    })
}

/// faultline's JSON lines, noting fields an `Operation` does not have
/// (the same reading `stream::import_reader` streams).
fn jsonl_history(text: &str, unknown: &mut Vec<(String, usize)>) -> Result<History, String> {
    let mut operations = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if operations.len() >= HISTORY_OPS_MAX {
            return Err(format!("more than {HISTORY_OPS_MAX} operations"));
        }
        let parsed = super::jsonl::parse(line).map_err(|e| format!("line {}: {e}", index + 1))?;
        parsed
            .operation
            .validate()
            .map_err(|e| format!("line {}: {e}", index + 1))?;
        for name in &parsed.unknown {
            note_unknown(unknown, name, index + 1, JSONL_FIELDS);
        }
        operations.push(parsed.operation);
    }
    Ok(History { operations })
}

/// A JSON array's items, by what they are.
enum JsonItems {
    /// faultline's own operations (they carry `invoke_ns`).
    Faultline(Vec<serde_json::Map<String, serde_json::Value>>),
    /// Jepsen's events, as EDN maps with keyword keys.
    Jepsen(Vec<Edn>),
}

fn json_items(text: &str, file: &str) -> Result<JsonItems, HistoryError> {
    let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
        HistoryError::at_column(
            file,
            e.line(),
            e.column(),
            format!("not a JSON array of operations ({e})"),
        )
    })?;
    if items.len() > 2 * HISTORY_OPS_MAX {
        return Err(HistoryError::whole(
            file,
            format!("more than {HISTORY_OPS_MAX} operations"),
        ));
    }
    let mut maps = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        match item {
            serde_json::Value::Object(map) => maps.push(map),
            other => {
                return Err(HistoryError::whole(
                    file,
                    format!(
                        "item {} of the array is {other}, not an operation object",
                        index + 1
                    ),
                ))
            }
        }
    }
    if maps.iter().all(|m| m.contains_key("invoke_ns")) {
        return Ok(JsonItems::Faultline(maps));
    }
    Ok(JsonItems::Jepsen(
        maps.into_iter()
            .map(|map| {
                Edn::Map(
                    map.into_iter()
                        .map(|(k, v)| {
                            let keyword_valued = k == "type" || k == "f";
                            (
                                Edn::Keyword(k),
                                super::jepsen::json_value(v, keyword_valued, 0),
                            )
                        })
                        .collect(),
                )
            })
            .collect(),
    ))
}

fn function(name: &str) -> Option<Function> {
    Some(match name {
        "read" | "get" => Function::Read,
        "write" | "put" => Function::Write,
        "cas" => Function::Cas,
        "append" => Function::Append,
        _ => return None,
    })
}

fn kind(name: &str) -> Option<EventKind> {
    Some(match name {
        "invoke" => EventKind::Invoke,
        "ok" => EventKind::Done(Outcome::Ok),
        "fail" => EventKind::Done(Outcome::Fail),
        "info" => EventKind::Done(Outcome::Info),
        _ => return None,
    })
}

fn etcd_events(text: &str, file: &str) -> Result<Vec<Event>, HistoryError> {
    let mut events = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if let Some(event) = etcd_event(line, index + 1, file)? {
            push_event(&mut events, file, event)?;
        }
    }
    Ok(events)
}

/// One line of an etcd log: an event, or `None` for a line that is not one.
pub(super) fn etcd_event(
    line: &str,
    line_no: usize,
    file: &str,
) -> Result<Option<Event>, HistoryError> {
    let Some(at) = line.find("jepsen.util") else {
        return Ok(None);
    };
    let mut tokens = line[at..].split_whitespace().skip(1);
    if tokens.next() != Some("-") {
        return Ok(None);
    }
    let (Some(process), Some(kind_token), Some(f_token)) =
        (tokens.next(), tokens.next(), tokens.next())
    else {
        return Ok(None);
    };
    let Some(kind) = kind_token.strip_prefix(':').and_then(kind) else {
        return Ok(None);
    };
    let bad = |what: &str| HistoryError::at(file, line_no, format!("{what} in `{}`", line.trim()));
    let process: u64 = process
        .parse()
        .map_err(|_| bad("expected a process number"))?;
    let f = f_token
        .strip_prefix(':')
        .and_then(function)
        .ok_or_else(|| bad("expected :read, :write or :cas"))?;
    let rest: Vec<&str> = tokens.collect();
    let value = Reader::new(&rest.join(" "))
        .read()
        .map_err(|e| bad(&format!("bad value ({e})")))?;
    Ok(Some(Event {
        line: line_no,
        process,
        kind,
        f,
        key: String::new(),
        value,
    }))
}

fn edn_events(
    text: &str,
    file: &str,
    keyed: bool,
    unknown: &mut Vec<(String, usize)>,
) -> Result<Vec<Event>, HistoryError> {
    let mut reader = Reader::new(text);
    let mut events = Vec::new();
    let mut note = |map: &Edn, line: usize| {
        if let Edn::Map(entries) = map {
            for (key, _) in entries {
                if let Edn::Keyword(name) = key {
                    note_unknown(unknown, name, line, EDN_FIELDS);
                }
            }
        }
    };
    while reader.skip_space() {
        let line = reader.line();
        let form = reader
            .read()
            .map_err(|e| HistoryError::at(file, reader.line(), e))?;
        match form {
            Edn::Vector(items) | Edn::List(items) => {
                for item in items {
                    note(&item, line);
                    events_from_map(&mut events, item, file, line, keyed)?;
                }
            }
            map => {
                note(&map, line);
                events_from_map(&mut events, map, file, line, keyed)?
            }
        }
    }
    Ok(events)
}

pub(super) fn events_from_map(
    events: &mut Vec<Event>,
    map: Edn,
    file: &str,
    line: usize,
    keyed: bool,
) -> Result<(), HistoryError> {
    let bad = |what: &str| HistoryError::at(file, line, format!("{what} in {map}"));
    if !matches!(map, Edn::Map(_)) {
        return Err(bad(
            "expected an operation map {:process .. :type .. :f .. :value ..}",
        ));
    }
    let process = match map.get("process") {
        Some(Edn::Int(p)) if *p >= 0 => *p as u64,
        // Jepsen's nemesis writes `:process :nemesis`; its events are not client operations.
        Some(Edn::Keyword(_)) => return Ok(()),
        _ => return Err(bad("expected :process with a non-negative integer")),
    };
    let kind = match map.get("type") {
        Some(Edn::Keyword(k)) => {
            kind(k).ok_or_else(|| bad("expected :type :invoke, :ok, :fail or :info"))?
        }
        _ => return Err(bad("expected :type :invoke, :ok, :fail or :info")),
    };
    let f = match map.get("f") {
        Some(Edn::Keyword(f)) => function(f)
            .ok_or_else(|| bad("expected :f :read, :write, :cas, :get, :put or :append"))?,
        _ => return Err(bad("expected :f")),
    };
    let key = match map.get("key") {
        Some(Edn::Str(k)) => k.clone(),
        Some(Edn::Int(k)) => k.to_string(),
        Some(Edn::Keyword(k)) => k.clone(),
        None if !keyed => String::new(),
        _ => return Err(bad("expected :key with a string or integer")),
    };
    let value = map.get("value").cloned().unwrap_or(Edn::Nil);
    push_event(
        events,
        file,
        Event {
            line,
            process,
            kind,
            f,
            key,
            value,
        },
    )
}

fn push_event(events: &mut Vec<Event>, file: &str, event: Event) -> Result<(), HistoryError> {
    if events.len() >= 2 * HISTORY_OPS_MAX {
        return Err(HistoryError::whole(
            file,
            format!("more than {HISTORY_OPS_MAX} operations"),
        ));
    }
    events.push(event);
    Ok(())
}

/// A value as the model's string; `Err` for shapes a register cannot hold.
fn scalar(value: &Edn) -> Option<String> {
    match value {
        Edn::Int(i) => Some(i.to_string()),
        Edn::Str(s) => Some(s.clone()),
        Edn::Keyword(k) => Some(format!(":{k}")),
        Edn::Float(x) => Some(x.to_string()),
        Edn::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Pairs invocations with completions into operations.
fn pair(events: Vec<Event>, file: &str, format: Format) -> Result<History, HistoryError> {
    let mut pairer = Pairer::new(format);
    for event in events {
        pairer.push(file, event)?;
    }
    Ok(pairer.finish())
}

/// Pairs events into operations as they arrive, so that a streamed file
/// never holds its events: event number i gets time i.
pub(super) struct Pairer {
    format: Format,
    /// Open operation per process: index into `operations`.
    open: std::collections::BTreeMap<u64, usize>,
    operations: Vec<Operation>,
    events: u64,
}

impl Pairer {
    pub(super) fn new(format: Format) -> Self {
        Pairer {
            format,
            open: std::collections::BTreeMap::new(),
            operations: Vec::new(),
            events: 0,
        }
    }

    pub(super) fn push(&mut self, file: &str, event: Event) -> Result<(), HistoryError> {
        if self.events >= 2 * HISTORY_OPS_MAX as u64 {
            return Err(HistoryError::whole(
                file,
                format!("more than {HISTORY_OPS_MAX} operations"),
            ));
        }
        let time = self.events;
        self.events += 1;
        let (open, operations, format) = (&mut self.open, &mut self.operations, self.format);
        let at = |what: String| HistoryError::at(file, event.line, what);
        match event.kind {
            EventKind::Invoke => {
                if let Some(&index) = open.get(&event.process) {
                    let first = &operations[index];
                    return Err(at(format!(
                        "process {} invokes {:?} while its {:?} invoked earlier is still open (one operation at a time per process)",
                        event.process, event.f, first.f
                    )));
                }
                let (value, expected) = match event.f {
                    Function::Read => (None, None),
                    Function::Transfer | Function::Order | Function::Txn => {
                        unreachable!("the EDN parser makes no transfers or orders")
                    }
                    Function::Write | Function::Append => (
                        Some(scalar(&event.value).ok_or_else(|| {
                            at(format!(
                                "a {:?} needs a value, got {}",
                                event.f, event.value
                            ))
                        })?),
                        None,
                    ),
                    Function::Cas => match &event.value {
                        Edn::Vector(pair) if pair.len() == 2 => {
                            let (Some(a), Some(b)) = (scalar(&pair[0]), scalar(&pair[1])) else {
                                return Err(at(format!(
                                    "a cas needs [expected new], got {}",
                                    event.value
                                )));
                            };
                            (Some(b), Some(a))
                        }
                        other => {
                            return Err(at(format!("a cas needs [expected new], got {other}")))
                        }
                    },
                };
                open.insert(event.process, operations.len());
                operations.push(Operation {
                    process: event.process,
                    f: event.f,
                    key: event.key,
                    value,
                    expected,
                    outcome: Outcome::Info,
                    invoke_ns: time,
                    complete_ns: None,
                    gave_up_ns: None,
                });
            }
            EventKind::Done(outcome) => {
                let Some(index) = open.remove(&event.process) else {
                    return Err(at(format!(
                        "process {} completes a {:?} it never invoked",
                        event.process, event.f
                    )));
                };
                let op = &mut operations[index];
                if op.f != event.f || op.key != event.key {
                    return Err(at(format!(
                        "process {} completes {:?} on key {:?} but invoked {:?} on key {:?}",
                        event.process, event.f, event.key, op.f, op.key
                    )));
                }
                op.outcome = outcome;
                if outcome != Outcome::Info {
                    op.complete_ns = Some(time);
                }
                if outcome == Outcome::Ok && op.f == Function::Read {
                    op.value =
                        match (&event.value, format) {
                            // etcd logs and Porcupine's kv: nil is "no value yet", the initial state.
                            (Edn::Nil, Format::PorcupineEtcd | Format::PorcupineKv) => {
                                Some(String::new())
                            }
                            // Knossos: a nil read is unknown and matches any state.
                            (Edn::Nil, _) => None,
                            (value, _) => Some(scalar(value).ok_or_else(|| {
                                at(format!("a read returned {value}, not a value"))
                            })?),
                        };
                }
            }
        }
        Ok(())
    }

    /// Operations never completed stay open to the end: unknown.
    pub(super) fn finish(self) -> History {
        History {
            operations: self.operations,
        }
    }
}

/// `History::read_jsonl`'s error ("line N: what"), at its line of `file`.
fn jsonl_error(file: &str, error: &str) -> HistoryError {
    let located = error.strip_prefix("line ").and_then(|rest| {
        let (line, what) = rest.split_once(": ")?;
        Some((line.parse::<usize>().ok()?, what))
    });
    match located {
        Some((line, what)) => HistoryError::at(file, line, what),
        None => HistoryError::whole(file, error),
    }
}
