//! An append-only log kept on a node's durable storage, one key per entry,
//! with an in-memory mirror: the write-ahead log every protocol with durable
//! state shares (Raft's log, a commit coordinator's decision log).
//!
//! Indices start at 1, as in the Raft paper, so index 0 means "before the
//! first entry". Writes are not durable until the caller syncs the storage:
//! the sync is the protocol's decision, because *when* it syncs (before which
//! reply) is exactly what its correctness depends on.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sim_core::storage::DurableStorage;

/// Entries per log at most. Nothing here truncates a prefix (no snapshots),
/// so a run that reaches this is longer than the simulator supports: the
/// append goes through and the run ends as inconclusive, naming this bound
/// (`DurableStorage::limit_reached`), rather than panicking.
pub const LOG_ENTRIES_MAX: u64 = 1_000_000;

#[derive(Clone, Debug)]
pub struct DurableLog<E> {
    /// The storage key prefix, e.g. "raft/log/".
    prefix: &'static str,
    entries: Vec<E>,
    /// The entries' serialised bytes: a deterministic stand-in for the heap
    /// memory the in-memory entries hold (for the run's memory budget).
    encoded_bytes: u64,
}

impl<E: Serialize + DeserializeOwned + Clone> DurableLog<E> {
    /// An empty log under `prefix` (nothing is read from storage).
    pub fn new(prefix: &'static str) -> Self {
        debug_assert!(prefix.ends_with('/'), "a log prefix ends with '/'");
        DurableLog {
            prefix,
            entries: Vec::new(),
            encoded_bytes: 0,
        }
    }

    /// Reads the log back from storage after a restart. Storage is written
    /// only by `append`, so a gap or a corrupt entry is a bug.
    pub fn load(prefix: &'static str, storage: &DurableStorage) -> Self {
        let end = format!("{}~", prefix.trim_end_matches('/'));
        let mut entries = Vec::new();
        let mut encoded_bytes = 0;
        for (key, bytes) in storage.range(prefix, &end) {
            let index: u64 = key[prefix.len()..]
                .parse()
                .expect("log keys are zero-padded indices");
            assert_eq!(index, entries.len() as u64 + 1, "a gap in the durable log");
            entries
                .push(serde_json::from_slice(bytes).expect("durable log entries are well-formed"));
            encoded_bytes += bytes.len() as u64;
        }
        DurableLog {
            prefix,
            entries,
            encoded_bytes,
        }
    }

    fn key(&self, index: u64) -> String {
        // Zero-padded so that key order is index order.
        format!("{}{index:012}", self.prefix)
    }

    /// Appends `entry` at `last_index() + 1` (not yet synced).
    pub fn append(&mut self, storage: &mut DurableStorage, entry: E) -> u64 {
        let index = self.last_index() + 1;
        if index > LOG_ENTRIES_MAX {
            storage.limit_reached(format!(
                "the durable log {} outgrew {LOG_ENTRIES_MAX} entries (nothing truncates a log: shorten the run or slow the workload)",
                self.prefix
            ));
        }
        let encoded = serde_json::to_vec(&entry).expect("log entries serialise");
        self.encoded_bytes += encoded.len() as u64;
        storage.put(&self.key(index), encoded);
        self.entries.push(entry);
        index
    }

    /// Removes every entry from `index` on (not yet synced).
    pub fn truncate_from(&mut self, storage: &mut DurableStorage, index: u64) {
        assert!(index >= 1, "index 0 is before the log");
        while self.last_index() >= index {
            let key = self.key(self.last_index());
            let encoded = storage.get(&key).map_or(0, <[u8]>::len) as u64;
            self.encoded_bytes -= encoded;
            storage.delete(&key);
            self.entries.pop();
        }
    }

    /// The entry at `index`, if there is one.
    pub fn get(&self, index: u64) -> Option<&E> {
        index
            .checked_sub(1)
            .and_then(|i| self.entries.get(i as usize))
    }

    /// Entries `from..=to` (clamped to the log).
    pub fn slice(&self, from: u64, to: u64) -> &[E] {
        let start = from.max(1) as usize - 1;
        let end = (to as usize).min(self.entries.len());
        if start >= end {
            &[]
        } else {
            &self.entries[start..end]
        }
    }

    pub fn last_index(&self) -> u64 {
        self.entries.len() as u64
    }

    /// An estimate of the heap memory the in-memory entries hold.
    pub fn memory_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<E>() + self.encoded_bytes as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_synced_log_survives_a_crash_that_loses_unsynced_writes() {
        let mut storage = DurableStorage::new(1 << 20);
        let mut log = DurableLog::new("t/log/");
        for i in 0..12u32 {
            log.append(&mut storage, i);
        }
        // As if a sync had completed.
        storage.make_all_durable();
        log.truncate_from(&mut storage, 11);
        log.append(&mut storage, 99);
        assert_eq!(log.slice(10, 20), &[9, 99]);
        // Unsynced: the truncation and the append vanish.
        storage.crash(true, 0);
        let back: DurableLog<u32> = DurableLog::load("t/log/", &storage);
        assert_eq!(back.last_index(), 12);
        assert_eq!(back.get(12), Some(&11));
        assert_eq!(back.get(0), None);
        assert_eq!(back.slice(11, 12), &[10, 11]);
        assert_eq!(back.encoded_bytes, storage_bytes_of(&back, &storage));
    }

    fn storage_bytes_of(log: &DurableLog<u32>, storage: &DurableStorage) -> u64 {
        (1..=log.last_index())
            .map(|i| storage.get(&log.key(i)).map_or(0, <[u8]>::len) as u64)
            .sum()
    }

    #[test]
    fn encoded_bytes_follow_appends_and_truncations() {
        let mut storage = DurableStorage::new(1 << 20);
        let mut log = DurableLog::new("t/log/");
        for i in 0..30u32 {
            log.append(&mut storage, i * 1000);
        }
        log.truncate_from(&mut storage, 7);
        assert_eq!(log.encoded_bytes, storage_bytes_of(&log, &storage));
        assert!(log.memory_bytes() >= 6 * 4);
    }

    #[test]
    fn a_log_past_its_bound_reports_a_limit_instead_of_panicking() {
        let mut storage = DurableStorage::new(1 << 30);
        let mut log: DurableLog<u8> = DurableLog::new("t/log/");
        log.entries = vec![0; LOG_ENTRIES_MAX as usize];
        assert_eq!(storage.take_limit(), None);
        log.append(&mut storage, 1);
        let limit = storage.take_limit().expect("the bound was reported");
        assert!(limit.contains("outgrew 1000000 entries"), "{limit}");
    }
}
