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
/// so a run that reaches this is longer than the simulator supports.
pub const LOG_ENTRIES_MAX: u64 = 1_000_000;

#[derive(Clone, Debug)]
pub struct DurableLog<E> {
    /// The storage key prefix, e.g. "raft/log/".
    prefix: &'static str,
    entries: Vec<E>,
}

impl<E: Serialize + DeserializeOwned + Clone> DurableLog<E> {
    /// An empty log under `prefix` (nothing is read from storage).
    pub fn new(prefix: &'static str) -> Self {
        debug_assert!(prefix.ends_with('/'), "a log prefix ends with '/'");
        DurableLog {
            prefix,
            entries: Vec::new(),
        }
    }

    /// Reads the log back from storage after a restart. Storage is written
    /// only by `append`, so a gap or a corrupt entry is a bug.
    pub fn load(prefix: &'static str, storage: &DurableStorage) -> Self {
        let end = format!("{}~", prefix.trim_end_matches('/'));
        let mut entries = Vec::new();
        for (key, bytes) in storage.range(prefix, &end) {
            let index: u64 = key[prefix.len()..]
                .parse()
                .expect("log keys are zero-padded indices");
            assert_eq!(index, entries.len() as u64 + 1, "a gap in the durable log");
            entries
                .push(serde_json::from_slice(bytes).expect("durable log entries are well-formed"));
        }
        DurableLog { prefix, entries }
    }

    fn key(&self, index: u64) -> String {
        // Zero-padded so that key order is index order.
        format!("{}{index:012}", self.prefix)
    }

    /// Appends `entry` at `last_index() + 1` (not yet synced).
    pub fn append(&mut self, storage: &mut DurableStorage, entry: E) -> u64 {
        let index = self.last_index() + 1;
        assert!(
            index <= LOG_ENTRIES_MAX,
            "the log outgrew {LOG_ENTRIES_MAX} entries"
        );
        storage.put(
            &self.key(index),
            serde_json::to_vec(&entry).expect("log entries serialise"),
        );
        self.entries.push(entry);
        index
    }

    /// Removes every entry from `index` on (not yet synced).
    pub fn truncate_from(&mut self, storage: &mut DurableStorage, index: u64) {
        assert!(index >= 1, "index 0 is before the log");
        while self.last_index() >= index {
            storage.delete(&self.key(self.last_index()));
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
        storage.sync();
        log.truncate_from(&mut storage, 11);
        log.append(&mut storage, 99);
        assert_eq!(log.slice(10, 20), &[9, 99]);
        // Unsynced: the truncation and the append vanish.
        storage.crash(true);
        let back: DurableLog<u32> = DurableLog::load("t/log/", &storage);
        assert_eq!(back.last_index(), 12);
        assert_eq!(back.get(12), Some(&11));
        assert_eq!(back.get(0), None);
        assert_eq!(back.slice(11, 12), &[10, 11]);
    }
}
