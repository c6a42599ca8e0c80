//! Transactional histories and their checkers: Elle's list-append and
//! rw-register (Kingsbury & Alvaro, "Elle: Inferring Isolation Anomalies
//! from Experimental Observations", VLDB 2020), and the Plume text format's
//! key-value histories.
//!
//! A transaction is a list of micro-ops over integer values: appends and
//! list reads (list-append), or writes and register reads (rw-register).
//! Keys are interned: the checkers work on `u32` keys and `i64` values, so
//! a million transactions fit in a few hundred megabytes.
//!
//! - `parse`: Jepsen EDN/JSON `:txn` operations and faultline's JSON lines
//!   into a `TxnHistory`; `plume`: the Plume text format.
//! - `list_append`, `rw_register`: infer version orders and build the
//!   dependency graph (ww, wr, rw, process, realtime), and find the
//!   anomalies that are not cycles, into `observations` (`writes` is the
//!   index of writes both use).
//! - `graph`: strongly connected components and the search for cycles,
//!   each classified (G0, G1c, G-single, G-nonadjacent, G2-item, and their
//!   `-process` and `-realtime` variants).
//! - `saturation`: read-committed, read-atomic and causal consistency as
//!   Biswas & Enea define them ("On the Complexity of Checking
//!   Transactional Consistency", OOPSLA 2019), the definitions Plume,
//!   PolySI and AWDIT check.
//! - `models`: which anomalies each consistency model proscribes, and the
//!   strongest models a history is still consistent with.
//! - `check`: the whole judgement, with explanations in words.

pub mod check;
pub mod explain;
pub mod generate;
pub mod graph;
pub mod history;
pub mod list_append;
pub mod models;
pub mod observations;
pub mod parse;
pub mod plume;
pub mod rw_register;
pub mod saturation;
pub mod writes;

use crate::history::Outcome;
use serde::Serialize;

/// Which datatype the micro-ops act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TxnKind {
    /// Appends to lists, reads of whole lists.
    ListAppend,
    /// Writes of registers, reads of registers.
    RwRegister,
}

impl TxnKind {
    pub fn name(self) -> &'static str {
        match self {
            TxnKind::ListAppend => "list-append",
            TxnKind::RwRegister => "rw-register",
        }
    }
}

/// One micro-op. Keys index `TxnHistory::keys`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mop {
    Append {
        key: u32,
        value: i64,
    },
    /// A list read: `elements[start..start + len]`; `known` is false where
    /// the read's result is not known (an `:info` or `:fail` transaction).
    ReadList {
        key: u32,
        start: u32,
        len: u32,
        known: bool,
    },
    Write {
        key: u32,
        value: i64,
    },
    /// A register read: `Some(v)`, or `None` for the initial (nil) state.
    /// `known` is false where the result is not known.
    Read {
        key: u32,
        value: Option<i64>,
        known: bool,
    },
}

impl Mop {
    pub fn key(&self) -> u32 {
        match *self {
            Mop::Append { key, .. }
            | Mop::ReadList { key, .. }
            | Mop::Write { key, .. }
            | Mop::Read { key, .. } => key,
        }
    }
    pub fn is_write(&self) -> bool {
        matches!(self, Mop::Append { .. } | Mop::Write { .. })
    }
}

/// One transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Txn {
    pub process: u64,
    pub outcome: Outcome,
    pub invoke_ns: u64,
    /// `None` for `Info`: it may have committed at any later time.
    pub complete_ns: Option<u64>,
    /// `mops[mops_start..mops_start + mops_len]`.
    pub mops_start: u32,
    pub mops_len: u32,
    /// Where it was read from: the invocation's line (0 when made in memory).
    pub line: u32,
}

/// A history of transactions, in invocation order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnHistory {
    pub kind: TxnKind,
    pub txns: Vec<Txn>,
    pub mops: Vec<Mop>,
    /// The elements of every list read, end to end.
    pub elements: Vec<i64>,
    /// Key names, by interned index.
    pub keys: Vec<String>,
    /// How processes are named in explanations ("process 3" when empty;
    /// a simulated run names its clients: "client3").
    pub process_names: Vec<(u64, String)>,
    /// Times are nanoseconds (a simulated run) rather than event numbers
    /// (an imported history).
    pub times_are_ns: bool,
    /// Invocation and completion times order transactions in real time
    /// (false for formats that record no times, such as Plume's).
    pub has_realtime: bool,
}

/// A history holds at most this many transactions and micro-ops.
pub const TXNS_MAX: usize = 10_000_000;
pub const MOPS_MAX: usize = 50_000_000;

impl TxnHistory {
    pub fn new(kind: TxnKind) -> TxnHistory {
        TxnHistory {
            kind,
            txns: Vec::new(),
            mops: Vec::new(),
            elements: Vec::new(),
            keys: Vec::new(),
            process_names: Vec::new(),
            times_are_ns: false,
            has_realtime: true,
        }
    }

    pub fn len(&self) -> usize {
        self.txns.len()
    }
    pub fn is_empty(&self) -> bool {
        self.txns.is_empty()
    }

    pub fn mops_of(&self, txn: usize) -> &[Mop] {
        let t = &self.txns[txn];
        &self.mops[t.mops_start as usize..(t.mops_start + t.mops_len) as usize]
    }

    pub fn list(&self, start: u32, len: u32) -> &[i64] {
        &self.elements[start as usize..(start + len) as usize]
    }

    /// The process's name as the run names it.
    pub fn process_name(&self, process: u64) -> String {
        match self
            .process_names
            .binary_search_by_key(&process, |(p, _)| *p)
        {
            Ok(i) => self.process_names[i].1.clone(),
            Err(_) => format!("process {process}"),
        }
    }

    /// Appends a transaction; the caller has pushed its micro-ops (and
    /// read elements) already, from `mops_start` on.
    pub fn push_txn(&mut self, txn: Txn) {
        debug_assert_eq!(
            (txn.mops_start + txn.mops_len) as usize,
            self.mops.len(),
            "a transaction owns the micro-ops pushed last"
        );
        debug_assert!(txn.complete_ns.is_none_or(|c| c >= txn.invoke_ns));
        self.txns.push(txn);
    }

    /// An estimate of the heap the history holds, in bytes.
    pub fn bytes(&self) -> u64 {
        (self.txns.capacity() * std::mem::size_of::<Txn>()
            + self.mops.capacity() * std::mem::size_of::<Mop>()
            + self.elements.capacity() * 8
            + self.keys.iter().map(|k| k.capacity() + 24).sum::<usize>()) as u64
    }

    /// One transaction in Jepsen's notation: `[[:append 7 3] [:r 9 [1 5]]]`.
    pub fn render_mops(&self, txn: usize) -> String {
        let mut out = String::from("[");
        for (i, mop) in self.mops_of(txn).iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            match *mop {
                Mop::Append { key, value } => {
                    out.push_str(&format!("[:append {} {value}]", self.keys[key as usize]))
                }
                Mop::Write { key, value } => {
                    out.push_str(&format!("[:w {} {value}]", self.keys[key as usize]))
                }
                Mop::ReadList {
                    key,
                    start,
                    len,
                    known,
                } => {
                    let value = if known {
                        let items: Vec<String> =
                            self.list(start, len).iter().map(i64::to_string).collect();
                        format!("[{}]", items.join(" "))
                    } else {
                        "nil".into()
                    };
                    out.push_str(&format!("[:r {} {value}]", self.keys[key as usize]))
                }
                Mop::Read { key, value, known } => {
                    let value = match (known, value) {
                        (true, Some(v)) => v.to_string(),
                        _ => "nil".into(),
                    };
                    out.push_str(&format!("[:r {} {value}]", self.keys[key as usize]))
                }
            }
        }
        out.push(']');
        out
    }
}

/// Interns key names while a history is built.
#[derive(Default)]
pub struct KeyInterner {
    index: std::collections::BTreeMap<String, u32>,
}

impl KeyInterner {
    pub fn intern(&mut self, history: &mut TxnHistory, name: &str) -> u32 {
        if let Some(&k) = self.index.get(name) {
            return k;
        }
        let k = history.keys.len() as u32;
        history.keys.push(name.to_string());
        self.index.insert(name.to_string(), k);
        k
    }
}
