//! The key-value state machine every replicated protocol drives, with
//! exactly-once deduplication.
//!
//! Clients tag each operation with (client, sequence number) and retry with
//! the same tag. The state machine remembers each client's last applied
//! sequence number and its reply, so a retried operation that was already
//! applied returns the remembered reply instead of applying twice. Raft's
//! dissertation (§6.3) describes the same scheme.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a client asks the store to do.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvOp {
    Get {
        key: String,
    },
    Put {
        key: String,
        value: String,
        /// The versions this write supersedes, as the client last saw
        /// them (leaderless stores with version vectors); none elsewhere.
        #[serde(default, skip_serializing_if = "CausalContext::is_none")]
        context: CausalContext,
    },
    Cas {
        key: String,
        expected: String,
        new: String,
    },
    Append {
        key: String,
        value: String,
    },
    /// Move `amount` from account `from` to account `to` (keys "k<i>"), as
    /// one distributed transaction. Only the atomic-commit protocols serve
    /// it; scenario validation keeps it away from the key-value stores.
    Transfer {
        from: String,
        to: String,
        amount: u64,
    },
    /// Order `quantity` of item `item` (a key "k<i>") for the calling
    /// client, as a saga. Only the saga protocols serve it.
    Order {
        item: String,
        quantity: u64,
    },
    /// Read every account's balance as one transaction (the bank's audit):
    /// only the atomic-commit protocols serve it, with transfers.
    Audit,
    /// A transaction of micro-ops on keys "k<i>", applied all at once:
    /// appends to lists and list reads (`lists`), or register writes and
    /// reads. Only protocols that apply operations through one log serve
    /// it (Raft, KvSingle); scenario validation keeps it from the others.
    Txn {
        mops: std::sync::Arc<[TxnMop]>,
        lists: bool,
    },
}

/// One micro-op of a transaction: a read of key `k<key>`, or a write
/// (append) of `value` to it. Values are unique per key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TxnMop {
    pub read: bool,
    pub key: u32,
    pub value: u64,
}

/// A transaction in Jepsen's notation, `[[:append k3 17] [:r k1 [4 9]]]`,
/// with each read's result from `results` (in order) or `nil` if none.
pub fn render_txn(mops: &[TxnMop], lists: bool, results: Option<&[String]>) -> String {
    let mut out = String::from("[");
    let mut read = 0;
    for (i, m) in mops.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if m.read {
            let value = match results.and_then(|r| r.get(read)) {
                Some(v) if lists => format!("[{v}]"),
                Some(v) if v.is_empty() => "nil".to_string(),
                Some(v) => v.clone(),
                None => "nil".to_string(),
            };
            read += 1;
            out.push_str(&format!("[:r k{} {value}]", m.key));
        } else if lists {
            out.push_str(&format!("[:append k{} {}]", m.key, m.value));
        } else {
            out.push_str(&format!("[:w k{} {}]", m.key, m.value));
        }
    }
    out.push(']');
    out
}

/// What a client of a leaderless store knows of a key's history: per
/// server, the highest write counter of that server's it has seen (a
/// version vector). A read returns it with the value; the client sends it
/// back with its next write of the key, whose new version then supersedes
/// every version the read returned (`protocols::quorum`). Empty for every
/// other protocol.
///
/// Why an `Option<Arc<[u64]>>`: 16 bytes, so `KvOp::Put` stays below the
/// largest variant and the request keeps its size (see `ClientRequest`);
/// shared, so a retry copies no vector.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Option<Vec<u64>>", into = "Option<Vec<u64>>")]
pub struct CausalContext(pub Option<std::sync::Arc<[u64]>>);

impl From<Option<Vec<u64>>> for CausalContext {
    fn from(counters: Option<Vec<u64>>) -> Self {
        CausalContext(counters.map(Into::into))
    }
}

impl From<CausalContext> for Option<Vec<u64>> {
    fn from(context: CausalContext) -> Self {
        context.0.map(|counters| counters.to_vec())
    }
}

impl CausalContext {
    pub const NONE: CausalContext = CausalContext(None);

    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }

    /// The counters, one per server (empty when none).
    pub fn counters(&self) -> &[u64] {
        self.0.as_deref().unwrap_or(&[])
    }

    pub fn heap_bytes(&self) -> usize {
        self.counters().len() * 8
    }
}

/// Why by hand: an empty context hashes as nothing, so a write without
/// one (every protocol but the leaderless store's) traces as before.
impl std::hash::Hash for CausalContext {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        if let Some(counters) = &self.0 {
            counters.hash(state);
        }
    }
}

/// The number in a key "k<i>". Keys come from the workload generator,
/// which writes exactly that form (accounts, items).
pub fn key_index(key: &str) -> u32 {
    key.strip_prefix('k')
        .and_then(|i| i.parse().ok())
        .unwrap_or_else(|| panic!("keys are k<number>, got {key:?}"))
}

impl KvOp {
    pub fn key(&self) -> &str {
        match self {
            KvOp::Get { key }
            | KvOp::Put { key, .. }
            | KvOp::Cas { key, .. }
            | KvOp::Append { key, .. } => key,
            KvOp::Transfer { from, .. } => from,
            KvOp::Order { item, .. } => item,
            KvOp::Txn { .. } | KvOp::Audit => "",
        }
    }
    /// A get, or a transaction that only reads: it changes nothing, so a
    /// protocol may serve it off its log (`read_mode`).
    pub fn is_read(&self) -> bool {
        match self {
            KvOp::Get { .. } => true,
            KvOp::Txn { mops, .. } => mops.iter().all(|m| m.read),
            _ => false,
        }
    }
}

/// What applying an operation returned.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvResult {
    /// A get's value ("" for a key never written, as in Porcupine's kv model).
    Value(String),
    /// A put, an append, or a cas whose expectation held.
    Done,
    /// A cas whose expectation did not hold; it took no effect.
    CasMismatch { current: String },
    /// A transaction that aborted; it took no effect anywhere.
    Aborted,
    /// A transaction of micro-ops that committed: itself in Jepsen's
    /// notation, its reads filled in (`render_txn`).
    Txn(std::sync::Arc<str>),
}

impl KvOp {
    /// Heap bytes its strings hold (for the run's memory budget).
    pub fn heap_bytes(&self) -> usize {
        match self {
            KvOp::Get { key } => key.capacity(),
            KvOp::Put {
                key,
                value,
                context,
            } => key.capacity() + value.capacity() + context.heap_bytes(),
            KvOp::Append { key, value } => key.capacity() + value.capacity(),
            KvOp::Cas { key, expected, new } => {
                key.capacity() + expected.capacity() + new.capacity()
            }
            KvOp::Transfer { from, to, .. } => from.capacity() + to.capacity(),
            KvOp::Order { item, .. } => item.capacity(),
            KvOp::Txn { mops, .. } => mops.len() * std::mem::size_of::<TxnMop>(),
            KvOp::Audit => 0,
        }
    }
}

impl KvResult {
    /// Heap bytes its strings hold (for the run's memory budget).
    pub fn heap_bytes(&self) -> usize {
        match self {
            KvResult::Value(value) | KvResult::CasMismatch { current: value } => value.capacity(),
            KvResult::Done | KvResult::Aborted => 0,
            KvResult::Txn(text) => text.len(),
        }
    }
}

/// Clients tracked for deduplication at most; beyond it the oldest is forgotten
/// (a retry from a forgotten client could then apply twice, so keep it large).
pub const DEDUP_CLIENTS_MAX: usize = 100_000;

/// The store: data plus each client's last applied (sequence, result).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvStore {
    data: BTreeMap<String, String>,
    last_applied: BTreeMap<u64, (u64, KvResult)>,
}

impl KvStore {
    /// Applies `op` from `client` with sequence number `seq`, at most once.
    /// A sequence number at or below the client's last applied one returns the
    /// remembered result if it is the same number, and `None` if it is older
    /// (the client has moved on; the reply no longer matters).
    pub fn apply(&mut self, client: u64, seq: u64, op: &KvOp) -> Option<KvResult> {
        if let Some((last_seq, result)) = self.last_applied.get(&client) {
            if seq == *last_seq {
                return Some(result.clone());
            }
            if seq < *last_seq {
                return None;
            }
        }
        let result = self.apply_fresh(op);
        if self.last_applied.len() >= DEDUP_CLIENTS_MAX && !self.last_applied.contains_key(&client)
        {
            let oldest = *self.last_applied.keys().next().expect("non-empty");
            self.last_applied.remove(&oldest);
        }
        self.last_applied.insert(client, (seq, result.clone()));
        Some(result)
    }

    /// Heap bytes the store holds: every key and value, and each entry's
    /// share of its map. O(keys); keys are few (workload.keys is bounded).
    pub fn heap_bytes(&self) -> usize {
        crate::heap::string_map_bytes(&self.data) + crate::heap::map_bytes(&self.last_applied)
    }

    /// Applies a read without recording it (reads need no deduplication).
    pub fn read(&self, key: &str) -> String {
        self.data.get(key).cloned().unwrap_or_default()
    }

    fn apply_fresh(&mut self, op: &KvOp) -> KvResult {
        match op {
            KvOp::Get { key } => KvResult::Value(self.read(key)),
            KvOp::Put { key, value, .. } => {
                self.data.insert(key.clone(), value.clone());
                KvResult::Done
            }
            KvOp::Cas { key, expected, new } => {
                let current = self.read(key);
                if current == *expected {
                    self.data.insert(key.clone(), new.clone());
                    KvResult::Done
                } else {
                    KvResult::CasMismatch { current }
                }
            }
            KvOp::Append { key, value } => {
                self.data.entry(key.clone()).or_default().push_str(value);
                KvResult::Done
            }
            KvOp::Txn { mops, lists } => {
                let mut results = Vec::new();
                for m in mops.iter() {
                    let key = format!("k{}", m.key);
                    if m.read {
                        results.push(self.read(&key));
                    } else {
                        let entry = self.data.entry(key).or_default();
                        if *lists && !entry.is_empty() {
                            entry.push(' ');
                            entry.push_str(&m.value.to_string());
                        } else {
                            *entry = m.value.to_string();
                        }
                    }
                }
                KvResult::Txn(render_txn(mops, *lists, Some(&results)).into())
            }
            KvOp::Transfer { .. } | KvOp::Order { .. } | KvOp::Audit => {
                panic!("a transaction reached a key-value store; scenario validation forbids it")
            }
        }
    }

    /// Answers a read-only transaction from the current state, without
    /// recording it (as `read` does for a get).
    pub fn read_txn(&self, mops: &[TxnMop], lists: bool) -> KvResult {
        debug_assert!(
            mops.iter().all(|m| m.read),
            "only reads are answered off the log"
        );
        let results: Vec<String> = mops
            .iter()
            .map(|m| self.read(&format!("k{}", m.key)))
            .collect();
        KvResult::Txn(render_txn(mops, lists, Some(&results)).into())
    }

    /// The data, in key order.
    pub fn data(&self) -> &BTreeMap<String, String> {
        &self.data
    }

    /// Serialises the whole store for durable storage.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a KvStore always serialises")
    }

    /// Restores a store written by `to_bytes`. Storage is written only by
    /// this code, so corrupt bytes are a bug, not user input.
    pub fn from_bytes(bytes: &[u8]) -> KvStore {
        serde_json::from_slice(bytes).expect("durable KvStore bytes are well-formed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retried_operation_applies_once() {
        let mut store = KvStore::default();
        let op = KvOp::Append {
            key: "k".into(),
            value: "x".into(),
        };
        assert_eq!(store.apply(1, 1, &op), Some(KvResult::Done));
        assert_eq!(store.apply(1, 1, &op), Some(KvResult::Done));
        assert_eq!(store.read("k"), "x");
        assert_eq!(store.apply(1, 0, &op), None);
        assert_eq!(store.apply(1, 2, &op), Some(KvResult::Done));
        assert_eq!(store.read("k"), "xx");
    }

    #[test]
    fn cas_applies_only_when_expectation_holds() {
        let mut store = KvStore::default();
        let cas = |e: &str, n: &str| KvOp::Cas {
            key: "k".into(),
            expected: e.into(),
            new: n.into(),
        };
        assert_eq!(store.apply(1, 1, &cas("", "a")), Some(KvResult::Done));
        assert_eq!(
            store.apply(1, 2, &cas("b", "c")),
            Some(KvResult::CasMismatch {
                current: "a".into()
            })
        );
        assert_eq!(store.read("k"), "a");
        let bytes = store.to_bytes();
        assert_eq!(KvStore::from_bytes(&bytes), store);
    }
}
