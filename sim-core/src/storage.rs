//! A node's durable storage: a byte key-value store with an explicit sync.
//!
//! Writes are visible to the node at once. `sync` asks for every write so
//! far to be made durable and returns at once with a `SyncId`; the disk
//! (`disk.rs`) completes syncs later, in order, and the node hears of each
//! in `Protocol::on_synced`. A write is durable once a sync asked for after
//! it has completed. On a crash, unsynced writes either survive (the
//! default: the OS flushed them) or are lost (a power loss), with the syncs
//! in flight deciding by the disk's rule. Keys are ordered, so a protocol
//! can keep a log under one prefix and scan it.

use crate::ids::SyncId;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

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

/// Syncs in flight on one node at most: a protocol that asks for more
/// without waiting for any to complete is leaking them, and the run ends
/// as inconclusive with this bound named.
pub const SYNCS_IN_FLIGHT_MAX: usize = 100_000;

/// A sync asked for and not yet complete: what it will make durable (each
/// key's value when it was asked for; `None` for a delete).
#[derive(Clone, Debug)]
struct PendingSync {
    id: SyncId,
    writes: Vec<(String, Option<Vec<u8>>)>,
    bytes: u64,
}

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
    /// Syncs asked for and not complete, oldest first.
    pending: VecDeque<PendingSync>,
    /// Key and value bytes the pending syncs hold.
    pending_bytes: u64,
    /// Syncs asked for since the engine last took them: (id, bytes).
    asked: Vec<(SyncId, u64)>,
    next_sync: u64,
    /// Group commit: a sync was asked for (`sync_grouped`) while another
    /// was in flight; it is issued when that one completes, with the next
    /// id, and covers every write before it.
    sync_wanted: bool,
    /// Every sync with an id below this was asked for before the last
    /// crash, which ended it: its completion event is void.
    crashed_below: u64,
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

    /// Asks for every write so far to be made durable; returns at once.
    /// The disk completes the sync later and the node hears of it in
    /// `Protocol::on_synced(id)`: only then are the writes durable. Writes
    /// after this call are not covered, even if they come before the sync
    /// completes.
    pub fn sync(&mut self) -> SyncId {
        // A wanted grouped sync is this one: it covers every write so far
        // and takes the id `sync_grouped` promised.
        self.sync_wanted = false;
        let id = SyncId(self.next_sync);
        self.next_sync += 1;
        let dirty = std::mem::take(&mut self.dirty);
        let mut bytes = 0u64;
        let writes: Vec<(String, Option<Vec<u8>>)> = dirty
            .into_iter()
            .map(|key| {
                let value = self.current.get(&key).cloned();
                bytes += (key.len() + value.as_ref().map_or(0, Vec::len)) as u64;
                (key, value)
            })
            .collect();
        self.pending_bytes += bytes;
        self.pending.push_back(PendingSync { id, writes, bytes });
        self.asked.push((id, bytes));
        if self.pending.len() > SYNCS_IN_FLIGHT_MAX && self.limit.is_none() {
            self.limit = Some(format!(
                "more than {SYNCS_IN_FLIGHT_MAX} syncs in flight (a protocol that asks for syncs and never waits for one?)"
            ));
        }
        self.syncs += 1;
        id
    }

    /// Group commit: asks for every write so far to be made durable, and
    /// returns the id of the sync that will do it. With no sync in flight
    /// that is a sync now. With one in flight, the writes wait and share
    /// one sync, issued when the in-flight one completes (before the node
    /// hears of it): one sync at a time, as a database's log writer does,
    /// so a slow disk costs latency but not throughput.
    pub fn sync_grouped(&mut self) -> SyncId {
        if self.pending.is_empty() {
            return self.sync();
        }
        self.sync_wanted = true;
        SyncId(self.next_sync)
    }

    /// The last sync asked for, if it is still to complete: a grouped sync
    /// waiting to be issued, else the latest in flight. Once it completes,
    /// every write before it is durable. Writes made since are covered by
    /// no sync: a record written lazily (one nothing depends on, such as a
    /// coordinator's end-of-transaction record) waits for a later sync.
    pub fn durable_point(&self) -> Option<SyncId> {
        if self.sync_wanted {
            return Some(SyncId(self.next_sync));
        }
        self.latest_sync_in_flight()
    }

    /// Syncs asked for since the last call: (id, bytes), for the engine.
    pub(crate) fn take_asked(&mut self) -> std::vec::Drain<'_, (SyncId, u64)> {
        self.asked.drain(..)
    }

    /// Whether a handler asked for a sync the engine has not taken yet.
    pub(crate) fn has_asked(&self) -> bool {
        !self.asked.is_empty()
    }

    /// A completion event for sync `id` came: the oldest sync in flight
    /// completes (its writes become durable) and its id is returned. None
    /// if `id` was in flight at a crash (which ended it either way).
    ///
    /// Why the oldest and not `id` itself: each sync in flight has one
    /// completion event and they are due in order, but a stall moves the
    /// events due inside it to its end, and two stalls that end a
    /// nanosecond apart can swap two of them. Syncs still complete in the
    /// order they were asked for.
    pub(crate) fn complete(&mut self, id: SyncId) -> Option<SyncId> {
        if id.0 < self.crashed_below {
            return None;
        }
        let front = self.pending.front()?.id;
        let done = self.pending.pop_front().expect("checked above");
        self.apply(done.writes);
        self.pending_bytes -= done.bytes;
        if self.sync_wanted && self.pending.is_empty() {
            self.sync();
        }
        Some(front)
    }

    /// Makes `writes` durable.
    fn apply(&mut self, writes: Vec<(String, Option<Vec<u8>>)>) {
        for (key, value) in writes {
            let key_len = key.len() as u64;
            let old = match value {
                Some(value) => {
                    self.synced_bytes += key_len + value.len() as u64;
                    self.synced.insert(key, value)
                }
                None => self.synced.remove(&key),
            };
            if let Some(old) = old {
                self.synced_bytes -= key_len + old.len() as u64;
            }
        }
    }

    /// Syncs in flight.
    pub fn syncs_in_flight(&self) -> usize {
        self.pending.len()
    }

    /// The oldest sync asked for that has not completed, if any.
    pub fn oldest_sync_in_flight(&self) -> Option<SyncId> {
        self.pending.front().map(|p| p.id)
    }

    /// The latest sync asked for that has not completed, if any: once it
    /// completes, every write before it is durable.
    pub fn latest_sync_in_flight(&self) -> Option<SyncId> {
        self.pending.back().map(|p| p.id)
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
    /// budget: both copies (current and synced), the syncs in flight, and
    /// each key's overhead.
    pub fn memory_bytes(&self) -> u64 {
        let pending_keys: usize = self.pending.iter().map(|p| p.writes.len()).sum();
        let keys =
            (self.current.len() + self.synced.len() + self.dirty.len() + pending_keys) as u64;
        self.bytes + self.synced_bytes + self.pending_bytes + keys * KEY_OVERHEAD_BYTES
    }

    /// Applies a crash. Without `lose_unsynced` every write survives.
    /// With it (a power loss), what completed syncs made durable survives,
    /// plus the first `in_flight_surviving` syncs in flight (the disk's
    /// rule draws how many); the rest is lost. No sync is in flight after.
    pub fn crash(&mut self, lose_unsynced: bool, in_flight_surviving: usize) {
        let pending = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        self.asked.clear();
        self.sync_wanted = false;
        self.crashed_below = self.next_sync;
        if lose_unsynced {
            for sync in pending.into_iter().take(in_flight_surviving) {
                self.apply(sync.writes);
            }
            self.current = self.synced.clone();
            self.bytes = self.synced_bytes;
            self.dirty.clear();
        } else {
            for sync in pending {
                self.apply(sync.writes);
            }
            self.make_all_durable();
        }
        debug_assert!(self.dirty.is_empty() && self.pending.is_empty());
    }

    /// Makes every write so far durable at once, outside the disk model
    /// (a crash that keeps every write, and handler tests).
    pub fn make_all_durable(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        let writes = dirty
            .into_iter()
            .map(|key| {
                let value = self.current.get(&key).cloned();
                (key, value)
            })
            .collect();
        self.apply(writes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asks for a sync and completes it at once.
    fn sync_now(s: &mut DurableStorage) {
        let id = s.sync();
        assert_eq!(s.complete(id), Some(id));
    }

    #[test]
    fn crash_keeps_or_loses_unsynced_writes() {
        let mut s = DurableStorage::new(1 << 20);
        s.put("a", b"1".to_vec());
        sync_now(&mut s);
        s.put("a", b"2".to_vec());
        s.put("b", b"3".to_vec());
        let mut lossy = s.clone();
        s.crash(false, 0);
        assert_eq!(s.get("a"), Some(&b"2"[..]));
        assert_eq!(s.get("b"), Some(&b"3"[..]));
        lossy.crash(true, 0);
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
        sync_now(&mut s);
        s.delete("log/00000002");
        let keys: Vec<&str> = s.range("log/", "log0").map(|(k, _)| k).collect();
        assert_eq!(keys, ["log/00000001", "log/00000003"]);
        s.crash(true, 0);
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
        sync_now(&mut s);
        assert_eq!((s.bytes(), s.synced_bytes), (17, 17));
        s.put("a", vec![0; 2]);
        s.delete("b");
        assert_eq!((s.bytes(), s.synced_bytes), (3, 17));
        sync_now(&mut s);
        assert_eq!((s.bytes(), s.synced_bytes), (3, 3));
        s.put("c", vec![0; 7]);
        s.crash(true, 0);
        assert_eq!((s.bytes(), s.synced_bytes), (3, 3));
        assert!(s.memory_bytes() >= 6);
    }

    #[test]
    fn a_sync_makes_durable_what_was_written_before_it_when_it_completes() {
        let mut s = DurableStorage::new(1 << 20);
        s.put("a", b"1".to_vec());
        let first = s.sync();
        // Written after the request: not covered by it.
        s.put("a", b"2".to_vec());
        s.put("b", b"3".to_vec());
        assert!(!s.is_synced("a"), "in flight is not durable");
        assert_eq!(s.syncs_in_flight(), 1);
        let second = s.sync();
        // The second's event first (two stalls swapped them): the first
        // completes all the same, in order.
        assert_eq!(s.complete(second), Some(first), "syncs complete in order");
        assert_eq!(s.synced.get("a"), Some(&b"1".to_vec()));
        assert!(!s.is_synced("a") && !s.is_synced("b"));
        assert_eq!(s.complete(first), Some(second));
        assert!(s.is_synced("a") && s.is_synced("b"));
        assert_eq!(s.complete(second), None, "nothing left in flight");
        let asked: Vec<SyncId> = s.take_asked().map(|(id, _)| id).collect();
        assert_eq!(asked, [first, second]);
    }

    #[test]
    fn a_power_loss_keeps_completed_syncs_and_the_surviving_in_flight_prefix() {
        let mut s = DurableStorage::new(1 << 20);
        s.put("a", b"1".to_vec());
        let done = s.sync();
        assert_eq!(s.complete(done), Some(done));
        s.put("b", b"2".to_vec());
        s.sync();
        s.put("c", b"3".to_vec());
        s.sync();
        s.put("d", b"4".to_vec());
        let mut none_survive = s.clone();
        let mut one_survives = s.clone();
        let mut kept = s.clone();
        none_survive.crash(true, 0);
        assert_eq!(none_survive.range("", "~").count(), 1, "only a");
        one_survives.crash(true, 1);
        let keys: Vec<&str> = one_survives.range("", "~").map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(one_survives.syncs_in_flight(), 0);
        // A process crash keeps everything, in flight and unsynced alike.
        kept.crash(false, 0);
        assert_eq!(kept.range("", "~").count(), 4);
        assert!(kept.is_synced("d"));
        assert_eq!(kept.memory_bytes(), {
            let mut fresh = kept.clone();
            fresh.make_all_durable();
            fresh.memory_bytes()
        });
    }

    #[test]
    fn too_many_syncs_in_flight_is_a_limit() {
        let mut s = DurableStorage::new(1 << 30);
        for _ in 0..=SYNCS_IN_FLIGHT_MAX {
            s.sync();
        }
        let limit = s.take_limit().expect("the bound was passed");
        assert!(limit.contains("syncs in flight"), "{limit}");
    }
}
