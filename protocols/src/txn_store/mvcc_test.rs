//! Snapshot reads, first committer wins, and pruning, version by version.

use super::mvcc::{Read, VersionStore, VERSIONS_PER_KEY_MAX};

fn value(read: Read<'_>) -> Option<String> {
    match read {
        Read::Value(v) => Some(v.value.clone()),
        Read::Absent => None,
        Read::TooOld => Some("too old".into()),
    }
}

#[test]
fn a_snapshot_reads_the_newest_version_committed_at_or_before_it() {
    let mut store = VersionStore::default();
    assert_eq!(value(store.read_at("x", 5)), None);
    store.install("x", 10, "a".into());
    store.install("x", 20, "b".into());
    assert_eq!(
        value(store.read_at("x", 9)),
        None,
        "before the first commit"
    );
    assert_eq!(value(store.read_at("x", 10)), Some("a".into()));
    assert_eq!(value(store.read_at("x", 19)), Some("a".into()));
    assert_eq!(value(store.read_at("x", 25)), Some("b".into()));
    assert_eq!(store.latest("x").map(|v| v.commit_ts), Some(20));
}

#[test]
fn the_first_committer_wins_and_the_second_sees_the_conflict() {
    let mut store = VersionStore::default();
    store.install("x", 10, "a".into());
    // T1 and T2 both start at 12; T1 commits its write of x at 15.
    assert!(!store.written_since("x", 12));
    store.install("x", 15, "t1".into());
    // T2, started at 12, must not also write x: lost update prevented.
    assert!(store.written_since("x", 12));
    assert!(
        !store.written_since("x", 15),
        "a transaction started after T1 may"
    );
    assert!(!store.written_since("y", 0));
}

#[test]
#[should_panic(expected = "out of commit order")]
fn versions_of_a_key_install_in_commit_order_only() {
    let mut store = VersionStore::default();
    store.install("x", 20, "b".into());
    store.install("x", 10, "a".into());
}

#[test]
fn pruning_keeps_what_the_oldest_snapshot_reads_and_says_when_a_read_is_too_old() {
    let mut store = VersionStore::default();
    for ts in [10, 20, 30, 40] {
        store.install("x", ts, format!("v{ts}"));
    }
    store.install("y", 5, "y5".into());
    assert_eq!(store.versions_kept(), 5);
    store.prune(25);
    // A snapshot at 25 reads v20: kept; v10 is gone.
    assert_eq!(store.versions_kept(), 4);
    assert_eq!(value(store.read_at("x", 25)), Some("v20".into()));
    assert_eq!(value(store.read_at("x", 15)), Some("too old".into()));
    assert_eq!(value(store.read_at("y", 25)), Some("y5".into()));
    // The bound: a key keeps at most VERSIONS_PER_KEY_MAX.
    for ts in 100..100 + VERSIONS_PER_KEY_MAX as u64 + 10 {
        store.install("z", ts, String::new());
    }
    assert_eq!(value(store.read_at("z", 100)), Some("too old".into()));
    assert!(store.versions_kept() <= 4 + VERSIONS_PER_KEY_MAX);
}
