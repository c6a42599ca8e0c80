//! A small, bounded reader for the EDN that Jepsen and Knossos histories use:
//! maps, vectors, lists, sets, keywords, symbols, strings, integers, floats,
//! `nil` and booleans. Tagged literals and reader macros beyond `#{}` and
//! `#_` are rejected.
//!
//! Why not a crate: history import needs a line number on every error and a
//! hard bound on nesting and size, and these forms are all it reads.

use std::fmt;

/// Nesting deeper than this is an error, not a recursion.
pub const DEPTH_MAX: usize = 32;

#[derive(Clone, Debug, PartialEq)]
pub enum Edn {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Keyword(String),
    Symbol(String),
    Vector(Vec<Edn>),
    List(Vec<Edn>),
    Set(Vec<Edn>),
    Map(Vec<(Edn, Edn)>),
}

impl Edn {
    /// The value under keyword `key` in a map.
    pub fn get(&self, key: &str) -> Option<&Edn> {
        match self {
            Edn::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Edn::Keyword(name) if name == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

impl fmt::Display for Edn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seq = |f: &mut fmt::Formatter<'_>, open: &str, items: &[Edn], close: &str| {
            write!(f, "{open}")?;
            for (i, item) in items.iter().enumerate() {
                write!(f, "{}{item}", if i > 0 { " " } else { "" })?;
            }
            write!(f, "{close}")
        };
        match self {
            Edn::Nil => write!(f, "nil"),
            Edn::Bool(b) => write!(f, "{b}"),
            Edn::Int(i) => write!(f, "{i}"),
            Edn::Float(x) => write!(f, "{x}"),
            Edn::Str(s) => write!(f, "{s:?}"),
            Edn::Keyword(k) => write!(f, ":{k}"),
            Edn::Symbol(s) => write!(f, "{s}"),
            Edn::Vector(items) => seq(f, "[", items, "]"),
            Edn::List(items) => seq(f, "(", items, ")"),
            Edn::Set(items) => seq(f, "#{", items, "}"),
            Edn::Map(entries) => {
                write!(f, "{{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    write!(f, "{}{k} {v}", if i > 0 { ", " } else { "" })?;
                }
                write!(f, "}}")
            }
        }
    }
}

/// A reader over text, tracking the line for errors.
pub struct Reader<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Self {
        Reader {
            text: text.as_bytes(),
            pos: 0,
            line: 1,
        }
    }

    /// The line the reader is on (1-based).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The byte offset the reader is at.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Whether the reader has consumed all of its text (after an error:
    /// the form was cut short by the end, not malformed).
    pub fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// Skips whitespace, commas and comments; true if input remains.
    pub fn skip_space(&mut self) -> bool {
        while let Some(&byte) = self.text.get(self.pos) {
            match byte {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | b',' => self.pos += 1,
                b';' => {
                    while self.text.get(self.pos).is_some_and(|b| *b != b'\n') {
                        self.pos += 1;
                    }
                }
                _ => return true,
            }
        }
        false
    }

    /// Reads the next value.
    pub fn read(&mut self) -> Result<Edn, String> {
        self.read_at(0)
    }

    fn read_at(&mut self, depth: usize) -> Result<Edn, String> {
        if depth > DEPTH_MAX {
            return Err(format!("nesting deeper than {DEPTH_MAX} levels"));
        }
        if !self.skip_space() {
            return Err("unexpected end of input".into());
        }
        let byte = self.text[self.pos];
        match byte {
            b'{' => {
                self.pos += 1;
                let items = self.read_until(b'}', depth)?;
                if items.len() % 2 != 0 {
                    return Err("a map needs an even number of forms".into());
                }
                let mut entries = Vec::with_capacity(items.len() / 2);
                let mut iter = items.into_iter();
                while let (Some(k), Some(v)) = (iter.next(), iter.next()) {
                    entries.push((k, v));
                }
                Ok(Edn::Map(entries))
            }
            b'[' => {
                self.pos += 1;
                Ok(Edn::Vector(self.read_until(b']', depth)?))
            }
            b'(' => {
                self.pos += 1;
                Ok(Edn::List(self.read_until(b')', depth)?))
            }
            b'#' => match self.text.get(self.pos + 1) {
                Some(b'{') => {
                    self.pos += 2;
                    Ok(Edn::Set(self.read_until(b'}', depth)?))
                }
                Some(b'_') => {
                    self.pos += 2;
                    self.read_at(depth + 1)?;
                    self.read_at(depth)
                }
                _ => Err("tagged literals (#tag) are not supported".into()),
            },
            b'"' => self.read_string(),
            b'}' | b']' | b')' => Err(format!("unexpected `{}`", byte as char)),
            _ => self.read_atom(),
        }
    }

    fn read_until(&mut self, close: u8, depth: usize) -> Result<Vec<Edn>, String> {
        let mut items = Vec::new();
        loop {
            if !self.skip_space() {
                return Err(format!("missing `{}`", close as char));
            }
            if self.text[self.pos] == close {
                self.pos += 1;
                return Ok(items);
            }
            items.push(self.read_at(depth + 1)?);
        }
    }

    fn read_string(&mut self) -> Result<Edn, String> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&byte) = self.text.get(self.pos) else {
                return Err("unterminated string".into());
            };
            self.pos += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    let escaped = *self.text.get(self.pos).ok_or("unterminated string")?;
                    self.pos += 1;
                    out.push(match escaped {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        other => other,
                    });
                }
                b'\n' => {
                    self.line += 1;
                    out.push(byte);
                }
                _ => out.push(byte),
            }
        }
        String::from_utf8(out)
            .map(Edn::Str)
            .map_err(|_| "a string is not valid UTF-8".to_string())
    }

    fn read_atom(&mut self) -> Result<Edn, String> {
        let start = self.pos;
        while let Some(&byte) = self.text.get(self.pos) {
            if matches!(
                byte,
                b' ' | b'\t'
                    | b'\r'
                    | b'\n'
                    | b','
                    | b'{'
                    | b'}'
                    | b'['
                    | b']'
                    | b'('
                    | b')'
                    | b'"'
                    | b';'
            ) {
                break;
            }
            self.pos += 1;
        }
        let token = std::str::from_utf8(&self.text[start..self.pos])
            .map_err(|_| "a token is not valid UTF-8".to_string())?;
        Ok(match token {
            "nil" => Edn::Nil,
            "true" => Edn::Bool(true),
            "false" => Edn::Bool(false),
            _ if token.starts_with(':') && token.len() > 1 => Edn::Keyword(token[1..].to_string()),
            _ => {
                let numeric = token.trim_end_matches(['N', 'M']);
                if let Ok(int) = numeric.parse::<i64>() {
                    Edn::Int(int)
                } else if numeric.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+')
                    && numeric.parse::<f64>().is_ok()
                {
                    Edn::Float(numeric.parse().expect("checked"))
                } else {
                    Edn::Symbol(token.to_string())
                }
            }
        })
    }
}
