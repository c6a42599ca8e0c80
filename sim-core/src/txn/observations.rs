//! What a datatype's analysis infers from a history (the edges, reads,
//! writes and known version order), and the anomalies found on the way:
//! what `list_append` and `rw_register` produce and `check` and
//! `saturation` consume.

use super::graph::Edge;
use serde::Serialize;
use std::collections::BTreeMap;

/// An external read and the transaction it read from (`u32::MAX`: the
/// initial state), for the saturation checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReadFrom {
    pub reader: u32,
    pub mop: u32,
    pub key: u32,
    pub writer: u32,
}

/// What a datatype's analysis infers from a history.
pub struct Observations {
    /// Transactions that may have committed (graph nodes with edges).
    pub member: Vec<bool>,
    /// ww, wr and rw edges.
    pub edges: Vec<Edge>,
    /// External reads, sorted by reader and micro-op.
    pub reads: Vec<ReadFrom>,
    /// (transaction, key) of every write by a transaction that may have
    /// committed, sorted.
    pub writes: Vec<(u32, u32)>,
    /// Known version order: (key, earlier writer, later writer).
    pub co: Vec<(u32, u32, u32)>,
    /// What could not be inferred, in words.
    pub notes: Vec<String>,
    /// Some versions' order is unknown (rw-register): a cycle through
    /// them cannot be seen, so no missing cycle proves a model.
    pub incomplete_order: bool,
}

impl Observations {
    pub fn new(n: usize) -> Observations {
        Observations {
            member: vec![false; n],
            edges: Vec::new(),
            reads: Vec::new(),
            writes: Vec::new(),
            co: Vec::new(),
            notes: Vec::new(),
            incomplete_order: false,
        }
    }
}

/// One anomaly found, with the transactions it involves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: String,
    pub txns: Vec<u32>,
    /// What was seen, in words.
    pub text: String,
    /// For a cycle: its edges, each with its reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cycle: Option<Vec<Edge>>,
}

/// Anomalies by kind: every one counted, the first few of each kept.
pub struct Findings {
    pub counts: BTreeMap<String, u64>,
    pub examples: Vec<Finding>,
    per_kind_max: usize,
}

impl Findings {
    pub fn new(per_kind_max: usize) -> Findings {
        Findings {
            counts: BTreeMap::new(),
            examples: Vec::new(),
            per_kind_max,
        }
    }

    pub fn add(&mut self, kind: &str, txns: Vec<u32>, text: String) {
        self.push(kind, txns, text, None);
    }

    pub fn add_cycle(&mut self, kind: &str, steps: Vec<Edge>) {
        let mut txns: Vec<u32> = steps.iter().map(|e| e.from).collect();
        txns.dedup();
        self.push(kind, txns, String::new(), Some(steps));
    }

    fn push(&mut self, kind: &str, txns: Vec<u32>, text: String, cycle: Option<Vec<Edge>>) {
        let count = self.counts.entry(kind.to_string()).or_insert(0);
        *count += 1;
        if *count as usize <= self.per_kind_max {
            self.examples.push(Finding {
                kind: kind.to_string(),
                txns,
                text,
                cycle,
            });
        }
    }
}
