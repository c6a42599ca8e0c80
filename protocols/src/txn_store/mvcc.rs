//! A shard's multi-version storage for snapshot isolation (Berenson et
//! al., 1995): every committed write is a version stamped with its
//! commit timestamp, a transaction reads the newest version at or before
//! its start timestamp, and a transaction may commit a write only if no
//! other transaction committed a write to that key after its start (first
//! committer wins; the later one aborts).
//!
//! Also what read committed reads: the newest committed version, with no
//! snapshot (`latest`).
//!
//! Bounded: a key keeps at most `VERSIONS_PER_KEY_MAX` versions, and
//! `prune` drops those no snapshot can still read. A read below the
//! oldest kept version cannot be answered (`Read::TooOld`): the caller
//! aborts that transaction, as a real store whose old versions were
//! garbage-collected does.

use std::collections::BTreeMap;

/// Versions one key keeps at most.
pub const VERSIONS_PER_KEY_MAX: usize = 256;

/// A committed version of a key's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub commit_ts: u64,
    pub value: String,
}

/// What a snapshot read found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read<'a> {
    /// The newest version at or before the snapshot.
    Value(&'a Version),
    /// No version at or before the snapshot: the key did not exist then.
    Absent,
    /// Versions older than the snapshot may have been dropped: unknown.
    TooOld,
}

#[derive(Debug, Default)]
struct Versions {
    /// Ascending commit timestamps.
    list: Vec<Version>,
    /// Whether older versions than `list[0]` were ever dropped.
    truncated: bool,
}

/// The versions of a shard's keys.
#[derive(Debug, Default)]
pub struct VersionStore {
    keys: BTreeMap<String, Versions>,
    versions: usize,
}

impl VersionStore {
    /// The value of `key` as of `snapshot_ts`.
    pub fn read_at(&self, key: &str, snapshot_ts: u64) -> Read<'_> {
        let Some(versions) = self.keys.get(key) else {
            return Read::Absent;
        };
        let visible = versions
            .list
            .partition_point(|v| v.commit_ts <= snapshot_ts);
        match visible.checked_sub(1) {
            Some(i) => Read::Value(&versions.list[i]),
            None if versions.truncated => Read::TooOld,
            None => Read::Absent,
        }
    }

    /// The newest committed version of `key` (read committed's read).
    pub fn latest(&self, key: &str) -> Option<&Version> {
        self.keys.get(key)?.list.last()
    }

    /// First committer wins: whether a version of `key` was committed
    /// after `start_ts`, so a transaction that began then must not also
    /// write it.
    pub fn written_since(&self, key: &str, start_ts: u64) -> bool {
        self.latest(key).is_some_and(|v| v.commit_ts > start_ts)
    }

    /// Installs a committed write. Commit timestamps of one key only grow
    /// (the caller checked `written_since` under the key's commit order).
    pub fn install(&mut self, key: &str, commit_ts: u64, value: String) {
        let versions = self.keys.entry(key.to_string()).or_default();
        assert!(
            versions.list.last().is_none_or(|v| v.commit_ts < commit_ts),
            "versions of {key} installed out of commit order"
        );
        versions.list.push(Version { commit_ts, value });
        self.versions += 1;
        if versions.list.len() > VERSIONS_PER_KEY_MAX {
            versions.list.remove(0);
            versions.truncated = true;
            self.versions -= 1;
        }
        debug_assert!(versions
            .list
            .windows(2)
            .all(|w| w[0].commit_ts < w[1].commit_ts));
    }

    /// Installs a version recovered from disk, the only one kept of its
    /// key: older snapshots than it cannot be answered (`Read::TooOld`),
    /// since the versions before it were not kept on disk.
    pub fn install_recovered(&mut self, key: &str, commit_ts: u64, value: String) {
        self.install(key, commit_ts, value);
        self.keys.get_mut(key).expect("just installed").truncated = true;
    }

    /// Replaces the value of `key`'s newest version (a transaction that
    /// wrote the key twice installs one version, its last value).
    pub fn replace_latest(&mut self, key: &str, value: String) {
        let latest = self
            .keys
            .get_mut(key)
            .and_then(|v| v.list.last_mut())
            .expect("a version to replace");
        latest.value = value;
    }

    /// Drops the versions no snapshot at or after `oldest_snapshot_ts` can
    /// read: every version older than the newest one at or before it.
    pub fn prune(&mut self, oldest_snapshot_ts: u64) {
        for versions in self.keys.values_mut() {
            let visible = versions
                .list
                .partition_point(|v| v.commit_ts <= oldest_snapshot_ts);
            if visible > 1 {
                versions.list.drain(..visible - 1);
                versions.truncated = true;
                self.versions -= visible - 1;
            }
        }
        debug_assert_eq!(
            self.versions,
            self.keys.values().map(|v| v.list.len()).sum::<usize>()
        );
    }

    /// Versions kept, over every key (a metric: "versions kept").
    pub fn versions_kept(&self) -> usize {
        self.versions
    }
}
