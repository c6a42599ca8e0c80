//! A node's durable storage: a byte key-value store with an explicit sync.
//!
//! Writes are visible to the node at once. They become durable at `sync`.
//! On a crash, unsynced writes either survive (the default: the OS flushed them)
//! or are lost (the storage fault), depending on the crash.
//! Keys are ordered, so a protocol can keep a log under one prefix and scan it.

use std::collections::{BTreeMap, BTreeSet};

/// Storage per node is bounded. A protocol that exceeds the bound (a long
/// run that never truncates, or a leak) ends the run as inconclusive with
/// the bound named: the write goes through, the storage records the limit,
/// and the engine stops after the handler (see `take_limit`).
pub const STORAGE_BYTES_MAX_DEFAULT: u64 = 1 << 30;

/// What one stored key costs beyond its key and value bytes: the map node's
/// share, the key's and value's own headers. An estimate for the memory
/// budget (B-tree nodes hold up to 11 keys of 24 + 24 bytes each, plus
/// the allocations' headers).
const KEY_OVERHEAD_BYTES: u64 = 96;

#[derive(Clone, Debug, Default)]
pub struct DurableStorage {
    /// What the node reads: every write so far.
    current: BTreeMap<String, Vec<u8>>,
    /// What survives a crash that loses unsynced writes.
    synced: BTreeMap<String, Vec<u8>>,
    /// Keys written since the last sync.
    dirty: BTreeSet<String>,
    bytes: u64,
    /// Key and value bytes in `synced` (the second copy a sync keeps).
    synced_bytes: u64,
    bytes_max: u64,
    writes: u64,
    syncs: u64,
    /// A bound this node's storage (or a log kept on it) went past, for the
    /// engine to end the run with (see `take_limit`).
    limit: Option<String>,
    /// The engine's memory accounting: what it last counted for this storage.
    pub(crate) accounted_bytes: u64,
}

impl DurableStorage {
    pub fn new(bytes_max: u64) -> Self {
        DurableStorage {
            bytes_max,
            ..Default::default()
        }
    }

    /// The keys whose current value differs from `earlier`'s (written,
    /// rewritten or deleted), in key order. For handler tests: O(keys).
    pub fn changed_since(&self, earlier: &DurableStorage) -> Vec<String> {
        let mut changed: Vec<String> = self
            .current
            .iter()
            .filter(|(key, value)| earlier.current.get(*key) != Some(*value))
            .map(|(key, _)| key.clone())
            .collect();
        changed.extend(
            earlier
                .current
                .keys()
                .filter(|key| !self.current.contains_key(*key))
                .cloned(),
        );
        changed.sort();
        changed
    }

    /// Whether `key`'s current value would survive a crash that loses
    /// unsynced writes.
    pub fn is_synced(&self, key: &str) -> bool {
        self.current.get(key) == self.synced.get(key)
    }

    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.current.get(key).map(|v| v.as_slice())
    }

    /// Writes `value` under `key` (not yet durable: call `sync`).
    ///
    /// Past the node's bound the write still happens (the handler runs to its
    /// end on consistent state), and the bound is recorded: the engine ends
    /// the run as inconclusive after this handler.
    pub fn put(&mut self, key: &str, value: Vec<u8>) {
        let added = (key.len() + value.len()) as u64;
        let removed = self
            .current
            .get(key)
            .map_or(0, |old| (key.len() + old.len()) as u64);
        self.bytes = self.bytes + added - removed;
        if self.bytes > self.bytes_max && self.limit.is_none() {
            self.limit = Some(format!(
                "durable storage outgrew its bound of {} bytes (a protocol that never truncates, over a long run)",
                self.bytes_max
            ));
        }
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
            let old = match self.current.get(&key) {
                Some(value) => {
                    self.synced_bytes += (key.len() + value.len()) as u64;
                    self.synced.insert(key.clone(), value.clone())
                }
                None => self.synced.remove(&key),
            };
            if let Some(old) = old {
                self.synced_bytes -= (key.len() + old.len()) as u64;
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

    /// Records that a bound kept on this storage was passed (a log's entry
    /// bound, say): the engine ends the run as inconclusive after the
    /// current handler, naming `what`. The first one recorded is kept.
    pub fn limit_reached(&mut self, what: String) {
        self.limit.get_or_insert(what);
    }

    /// The bound passed, if any (the engine takes it after each handler
    /// that used the storage).
    pub fn take_limit(&mut self) -> Option<String> {
        self.limit.take()
    }

    /// An estimate of the memory this storage holds, for the run's memory
    /// budget: both copies (current and synced) and each key's overhead.
    pub fn memory_bytes(&self) -> u64 {
        let keys = (self.current.len() + self.synced.len() + self.dirty.len()) as u64;
        self.bytes + self.synced_bytes + keys * KEY_OVERHEAD_BYTES
    }

    /// Applies a crash: unsynced writes are lost if `lose_unsynced`, else kept.
    pub fn crash(&mut self, lose_unsynced: bool) {
        if lose_unsynced {
            self.current = self.synced.clone();
            self.bytes = self.synced_bytes;
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
    fn the_bound_is_recorded_as_a_limit_not_a_panic() {
        let mut s = DurableStorage::new(8);
        s.put("k", vec![0; 4]);
        assert_eq!(s.take_limit(), None);
        s.put("key", vec![0; 16]);
        let limit = s.take_limit().expect("the bound was passed");
        assert!(limit.contains("bound of 8 bytes"), "{limit}");
        assert_eq!(s.take_limit(), None, "taken once");
    }

    #[test]
    fn synced_bytes_follow_puts_deletes_and_crashes() {
        let mut s = DurableStorage::new(1 << 20);
        s.put("a", vec![0; 10]);
        s.put("b", vec![0; 5]);
        s.sync();
        assert_eq!((s.bytes(), s.synced_bytes), (17, 17));
        s.put("a", vec![0; 2]);
        s.delete("b");
        assert_eq!((s.bytes(), s.synced_bytes), (3, 17));
        s.sync();
        assert_eq!((s.bytes(), s.synced_bytes), (3, 3));
        s.put("c", vec![0; 7]);
        s.crash(true);
        assert_eq!((s.bytes(), s.synced_bytes), (3, 3));
        assert!(s.memory_bytes() >= 6);
    }
}
