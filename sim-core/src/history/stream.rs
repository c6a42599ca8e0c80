//! Reading a history a line at a time (`import_reader`), so that a file
//! of millions of operations never holds its text: JSON lines, etcd logs
//! and EDN with a form per line (or over a few lines, as Jepsen writes
//! them) are parsed as they come and their events paired at once. The
//! formats themselves, and the whole-text reader, are `import.rs`'s.

use super::edn::{Edn, Reader};
use super::history_error::HistoryError;
use super::import::HISTORY_BYTES_MAX;
use super::import::{
    detect, etcd_event, events_from_map, finish, import, note_unknown, Format, Imported, Pairer,
    BOM, EDN_FIELDS, JSONL_FIELDS,
};
use super::{History, Operation, HISTORY_OPS_MAX};

/// A line of a streamed history is at most this long.
pub const LINE_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Bytes read ahead to guess the format.
const DETECT_BYTES: usize = 64 * 1024;

/// Parses a history from `reader` (named `file` in errors) as `format`,
/// without holding its text: JSON lines, etcd logs and EDN with one form
/// per line (or a form over a few lines, as Jepsen writes them) are read
/// a line at a time and paired as they come, so a history of
/// `HISTORY_OPS_MAX` operations takes the memory of its operations only.
/// A JSON array, or EDN wrapped in one vector, is one form: it is read
/// whole, within `HISTORY_BYTES_MAX`.
pub fn import_reader(
    reader: &mut dyn std::io::BufRead,
    format: Format,
    file: &str,
) -> Result<Imported, HistoryError> {
    let mut lines = Lines {
        reader,
        file,
        number: 0,
        buffer: Vec::new(),
    };
    // Read ahead to guess the format.
    let mut ahead: Vec<String> = Vec::new();
    let mut ahead_bytes = 0;
    while ahead_bytes < DETECT_BYTES {
        let Some(line) = lines.next_line()? else {
            break;
        };
        ahead_bytes += line.len() + 1;
        ahead.push(line);
    }
    if let Some(first) = ahead.first_mut() {
        if let Some(rest) = first.strip_prefix(BOM) {
            *first = rest.to_string();
        }
    }
    let joined = ahead.join("\n");
    let format = if format == Format::Auto {
        detect(&joined)
    } else {
        format
    };
    let one_form = matches!(format, Format::Json)
        || (matches!(format, Format::Edn | Format::PorcupineKv)
            && matches!(joined.trim_start().as_bytes().first(), Some(b'[' | b'(')));
    if one_form {
        let mut text = joined;
        while let Some(line) = lines.next_line()? {
            if text.len() + line.len() + 1 > HISTORY_BYTES_MAX {
                return Err(HistoryError::whole(
                    file,
                    format!("larger than {HISTORY_BYTES_MAX} bytes (one JSON array or EDN vector is read whole; JSON lines are read a line at a time)"),
                ));
            }
            text.push('\n');
            text.push_str(&line);
        }
        return import(&text, format, file);
    }
    drop(joined);
    let mut stream = Stream {
        format,
        file,
        pairer: Pairer::new(format),
        operations: Vec::new(),
        unknown: Vec::new(),
        pending: String::new(),
        pending_line: 0,
    };
    for (index, line) in ahead.into_iter().enumerate() {
        stream.line(&line, index + 1)?;
    }
    while let Some(line) = lines.next_line()? {
        stream.line(&line, lines.number)?;
    }
    stream.finish()
}

/// Lines of a reader, each within `LINE_BYTES_MAX`, as UTF-8 text.
struct Lines<'a> {
    reader: &'a mut dyn std::io::BufRead,
    file: &'a str,
    /// The number of the last line read (1-based).
    number: usize,
    buffer: Vec<u8>,
}

impl Lines<'_> {
    fn next_line(&mut self) -> Result<Option<String>, HistoryError> {
        use std::io::{BufRead, Read};
        self.buffer.clear();
        let read = (&mut *self.reader)
            .take(LINE_BYTES_MAX as u64 + 1)
            .read_until(b'\n', &mut self.buffer)
            .map_err(|e| HistoryError::whole(self.file, e.to_string()))?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        if self.buffer.last() == Some(&b'\n') {
            self.buffer.pop();
            if self.buffer.last() == Some(&b'\r') {
                self.buffer.pop();
            }
        } else if self.buffer.len() > LINE_BYTES_MAX {
            return Err(HistoryError::at(
                self.file,
                self.number,
                format!("a line longer than {LINE_BYTES_MAX} bytes"),
            ));
        }
        let text = std::str::from_utf8(&self.buffer).map_err(|e| {
            HistoryError::at(self.file, self.number, format!("not UTF-8 text ({e})"))
        })?;
        Ok(Some(text.to_string()))
    }
}

/// A history being read a line at a time.
struct Stream<'a> {
    format: Format,
    file: &'a str,
    /// EDN and etcd events are paired as they come.
    pairer: Pairer,
    /// JSON lines are operations already.
    operations: Vec<Operation>,
    unknown: Vec<(String, usize)>,
    /// EDN: the start of a form that continues on the next line.
    pending: String,
    pending_line: usize,
}

impl Stream<'_> {
    fn line(&mut self, line: &str, number: usize) -> Result<(), HistoryError> {
        let file = self.file;
        match self.format {
            Format::Jsonl => {
                if line.trim().is_empty() {
                    return Ok(());
                }
                if self.operations.len() >= HISTORY_OPS_MAX {
                    return Err(HistoryError::whole(
                        file,
                        format!("more than {HISTORY_OPS_MAX} operations"),
                    ));
                }
                let parsed = super::jsonl::parse(line)
                    .map_err(|e| HistoryError::at(file, number, e.to_string()))?;
                parsed
                    .operation
                    .validate()
                    .map_err(|e| HistoryError::at(file, number, e))?;
                for name in &parsed.unknown {
                    note_unknown(&mut self.unknown, name, number, JSONL_FIELDS);
                }
                self.operations.push(parsed.operation);
            }
            Format::PorcupineEtcd => {
                if let Some(event) = etcd_event(line, number, file)? {
                    self.pairer.push(file, event)?;
                }
            }
            Format::Edn | Format::PorcupineKv => self.edn_line(line, number)?,
            Format::Json | Format::Auto => unreachable!("read whole, or resolved"),
        }
        Ok(())
    }

    /// Reads the complete forms the pending text and this line hold; a
    /// form the line leaves open waits for the next.
    fn edn_line(&mut self, line: &str, number: usize) -> Result<(), HistoryError> {
        let file = self.file;
        let keyed = self.format == Format::PorcupineKv;
        if self.pending.is_empty() {
            self.pending_line = number;
        }
        self.pending.push_str(line);
        self.pending.push('\n');
        let mut reader = Reader::new(&self.pending);
        let mut events = Vec::new();
        let consumed = loop {
            if !reader.skip_space() {
                break self.pending.len();
            }
            let start = reader.offset();
            let form_line = self.pending_line + reader.line() - 1;
            match reader.read() {
                Ok(form) => {
                    let items = match form {
                        Edn::Vector(items) | Edn::List(items) => items,
                        map => vec![map],
                    };
                    for item in items {
                        if let Edn::Map(entries) = &item {
                            for (key, _) in entries {
                                if let Edn::Keyword(name) = key {
                                    note_unknown(&mut self.unknown, name, form_line, EDN_FIELDS);
                                }
                            }
                        }
                        events_from_map(&mut events, item, file, form_line, keyed)?;
                    }
                }
                // Cut short by the end of the text read so far: more to come.
                Err(_) if reader.at_end() => break start,
                Err(e) => {
                    return Err(HistoryError::at(
                        file,
                        self.pending_line + reader.line() - 1,
                        e,
                    ))
                }
            }
        };
        for event in events {
            self.pairer.push(file, event)?;
        }
        let rest = self.pending[consumed..].to_string();
        let skipped_lines = self.pending[..consumed].matches('\n').count();
        self.pending = rest;
        self.pending_line += skipped_lines;
        if self.pending.len() > LINE_BYTES_MAX {
            return Err(HistoryError::at(
                file,
                self.pending_line,
                format!("a form longer than {LINE_BYTES_MAX} bytes"),
            ));
        }
        Ok(())
    }

    fn finish(self) -> Result<Imported, HistoryError> {
        if !self.pending.trim().is_empty() {
            // The last form never closed: the reader's own error says how.
            let text = self.pending.strip_suffix('\n').unwrap_or(&self.pending);
            let mut reader = Reader::new(text);
            reader.skip_space();
            let error = reader
                .read()
                .err()
                .unwrap_or_else(|| "unexpected end".into());
            return Err(HistoryError::at(
                self.file,
                self.pending_line + reader.line() - 1,
                error,
            ));
        }
        let (history, initial) = match self.format {
            Format::Jsonl => (
                History {
                    operations: self.operations,
                },
                None,
            ),
            Format::PorcupineEtcd | Format::PorcupineKv => {
                (self.pairer.finish(), Some(String::new()))
            }
            _ => (self.pairer.finish(), None),
        };
        finish(history, self.format, initial, self.unknown, self.file)
    }
}
