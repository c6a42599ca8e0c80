//! A node's durable storage: a byte key-value store with an explicit sync.
//!
//! Writes are visible to the node at once. They become durable at `sync`.
//! On a crash, unsynced writes either survive (the default: the OS flushed them)
//! or are lost (the storage fault), depending on the crash.
//! Keys are ordered, so a protocol can keep a log under one prefix and scan it.

use std::collections::{BTreeMap, BTreeSet};

/// Storage per node is bounded; exceeding it is a protocol bug (a leak).
pub const STORAGE_BYTES_MAX_DEFAULT: u64 = 1 << 30;

#[derive(Clone, Debug, Default)]
pub struct DurableStorage {
    /// What the node reads: every write so far.
    current: BTreeMap<String, Vec<u8>>,
    /// What survives a crash that loses unsynced writes.
    synced: BTreeMap<String, Vec<u8>>,
    /// Keys written since the last sync.
    dirty: BTreeSet<String>,
    bytes: u64,
    bytes_max: u64,
    writes: u64,
    syncs: u64,
}

impl DurableStorage {
    pub fn new(bytes_max: u64) -> Self {
        DurableStorage {
            bytes_max,
            ..Default::default()
        }
    }

    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.current.get(key).map(|v| v.as_slice())
    }

    /// Writes `value` under `key` (not yet durable: call `sync`).
    ///
    /// Panics when the node's storage exceeds its bound: that is a leak in the protocol.
    pub fn put(&mut self, key: &str, value: Vec<u8>) {
        let added = (key.len() + value.len()) as u64;
        let removed = self
            .current
            .get(key)
            .map_or(0, |old| (key.len() + old.len()) as u64);
        self.bytes = self.bytes + added - removed;
        assert!(
            self.bytes <= self.bytes_max,
            "durable storage exceeded its bound of {} bytes (a protocol that never truncates?)",
            self.bytes_max
        );
        self.current.insert(key.to_string(), value);
        self.dirty.insert(key.to_string());
        self.writes += 1;
    }

    pub fn delete(&mut self, key: &str) {
        if let Some(old) = self.current.remove(key) {
            self.bytes -= (key.len() + old.len()) as u64;
            self.dirty.insert(key.to_string());
            self.writes += 1;
        }
    }

    /// Every key in `[start, end)` with its value, in key order.
    pub fn range<'a>(
        &'a self,
        start: &str,
        end: &str,
    ) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        self.current
            .range::<str, _>((
                std::ops::Bound::Included(start),
                std::ops::Bound::Excluded(end),
            ))
            .map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Makes every write so far durable.
    pub fn sync(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        for key in dirty {
            match self.current.get(&key) {
                Some(value) => {
                    self.synced.insert(key, value.clone());
                }
                None => {
                    self.synced.remove(&key);
                }
            }
        }
        self.syncs += 1;
    }

    pub fn unsynced_count(&self) -> usize {
        self.dirty.len()
    }
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
    pub fn writes(&self) -> u64 {
        self.writes
    }
    pub fn syncs(&self) -> u64 {
        self.syncs
    }

    /// Applies a crash: unsynced writes are lost if `lose_unsynced`, else kept.
    pub fn crash(&mut self, lose_unsynced: bool) {
        if lose_unsynced {
            self.current = self.synced.clone();
            self.bytes = self
                .current
                .iter()
                .map(|(k, v)| (k.len() + v.len()) as u64)
                .sum();
            self.dirty.clear();
        } else {
            self.sync();
        }
        debug_assert!(self.dirty.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_keeps_or_loses_unsynced_writes() {
        let mut s = DurableStorage::new(1 << 20);
        s.put("a", b"1".to_vec());
        s.sync();
        s.put("a", b"2".to_vec());
        s.put("b", b"3".to_vec());
        let mut lossy = s.clone();
        s.crash(false);
        assert_eq!(s.get("a"), Some(&b"2"[..]));
        assert_eq!(s.get("b"), Some(&b"3"[..]));
        lossy.crash(true);
        assert_eq!(lossy.get("a"), Some(&b"1"[..]));
        assert_eq!(lossy.get("b"), None);
        assert_eq!(lossy.bytes(), 2);
    }

    #[test]
    fn deletes_sync_and_ranges_are_ordered() {
        let mut s = DurableStorage::new(1 << 20);
        for i in [3, 1, 2] {
            s.put(&format!("log/{i:08}"), vec![i as u8]);
        }
        s.sync();
        s.delete("log/00000002");
        let keys: Vec<&str> = s.range("log/", "log0").map(|(k, _)| k).collect();
        assert_eq!(keys, ["log/00000001", "log/00000003"]);
        s.crash(true);
        assert!(
            s.get("log/00000002").is_some(),
            "the unsynced delete was lost"
        );
    }

    #[test]
    #[should_panic(expected = "durable storage exceeded its bound")]
    fn the_bound_is_enforced() {
        let mut s = DurableStorage::new(8);
        s.put("key", vec![0; 16]);
    }
}
