//! The shard's log records, applied: the picture a new leader rebuilds
//! from is what a one-server shard's disk would hold.

use super::*;
use sim_core::NodeId;

fn txn(client: u32, seq: u64) -> TxnId {
    TxnId {
        stamp: 1_000 + seq,
        client,
        seq,
    }
}

fn prepare(t: TxnId, key: &str) -> ShardCommand {
    ShardCommand::Prepare(PreparedOnDisk {
        record: super::super::shard::PreparedRecord {
            txn: t,
            start_ts: 5,
            writes: vec![super::super::shard::Mop::Write(key.into(), "v".into())],
            read_versions: Vec::new(),
        },
        coordinator: NodeId(2),
    })
}

fn commit(t: TxnId, key: &str, value: &str, ts: u64) -> ShardCommand {
    ShardCommand::Commit {
        txn: t,
        writes: vec![CommittedWrite {
            key: key.into(),
            commit_ts: ts,
            value: value.into(),
        }],
        owner: Owner {
            txn: t,
            committed: true,
        },
    }
}

#[test]
fn a_prepared_record_holds_its_place_until_its_decision() {
    let mut image = ShardImage::default();
    let (a, b) = (txn(1, 1), txn(2, 1));
    assert_eq!(
        ShardApp::apply(&mut image, 1, &prepare(a, "k1")),
        Some(ShardApplied::Prepared(a))
    );
    assert_eq!(
        ShardApp::apply(&mut image, 2, &prepare(b, "k2")),
        Some(ShardApplied::Prepared(b))
    );
    assert_eq!(image.prepared.keys().copied().collect::<Vec<_>>(), [a, b]);
    assert_eq!(image.prepared[&a].coordinator, NodeId(2));
    // a commits: its version and owner are in, its prepared record gone.
    assert_eq!(
        ShardApp::apply(&mut image, 3, &commit(a, "k1", "x", 7)),
        Some(ShardApplied::Committed(a))
    );
    assert_eq!(image.versions["k1"].value, "x");
    assert_eq!(image.versions["k1"].commit_ts, 7);
    assert_eq!(
        image.owners[&1],
        Owner {
            txn: a,
            committed: true
        }
    );
    // b aborts, having prepared; an abort of nothing prepared says so.
    assert_eq!(
        ShardApp::apply(&mut image, 4, &ShardCommand::Abort { txn: b }),
        Some(ShardApplied::Aborted {
            txn: b,
            prepared: true
        })
    );
    assert_eq!(
        ShardApp::apply(&mut image, 5, &ShardCommand::Abort { txn: b }),
        Some(ShardApplied::Aborted {
            txn: b,
            prepared: false
        })
    );
    assert!(image.prepared.is_empty());
    assert!(!image.owners.contains_key(&2), "an abort owns nothing");
    assert_eq!(
        image.committed(),
        [CommittedWrite {
            key: "k1".into(),
            commit_ts: 7,
            value: "x".into()
        }]
    );
}

#[test]
fn a_late_commit_of_an_older_operation_never_steps_its_clients_owner_back() {
    let mut image = ShardImage::default();
    let (older, newer) = (txn(1, 1), txn(1, 2));
    ShardApp::apply(&mut image, 1, &commit(newer, "k1", "new", 9));
    ShardApp::apply(&mut image, 2, &commit(older, "k2", "old", 8));
    assert_eq!(image.owners[&1].txn, newer);
    // A later write of a key replaces its version: the log's order is
    // the commit order.
    ShardApp::apply(&mut image, 3, &commit(txn(3, 1), "k1", "newest", 10));
    assert_eq!(image.versions["k1"].value, "newest");
    assert_eq!(image.versions.len(), 2);
}

#[test]
fn every_replica_applying_one_log_reaches_one_picture() {
    let log = [
        prepare(txn(1, 1), "a"),
        prepare(txn(2, 1), "b"),
        commit(txn(1, 1), "a", "1", 3),
        ShardCommand::Abort { txn: txn(2, 1) },
        commit(txn(4, 1), "b", "2", 4),
    ];
    let pictures: Vec<String> = (0..3)
        .map(|_| {
            let mut image = ShardImage::default();
            for (i, command) in log.iter().enumerate() {
                ShardApp::apply(&mut image, i as u64 + 1, command);
            }
            format!("{image:?}")
        })
        .collect();
    assert!(pictures.windows(2).all(|w| w[0] == w[1]));
    assert!(pictures[0].contains("\"2\""));
}

#[test]
fn the_first_decision_logged_for_a_transaction_stands() {
    let mut image = ShardImage::default();
    let (a, b) = (txn(1, 1), txn(2, 1));
    // A shard in doubt had an abort logged first: the coordinator's late
    // commit hears the abort.
    let abort = ShardCommand::Decide {
        txn: a,
        commit_ts: None,
    };
    let late_commit = ShardCommand::Decide {
        txn: a,
        commit_ts: Some(9),
    };
    assert_eq!(
        ShardApp::apply(&mut image, 1, &abort),
        Some(ShardApplied::Decided {
            txn: a,
            commit_ts: None
        })
    );
    assert_eq!(
        ShardApp::apply(&mut image, 2, &late_commit),
        Some(ShardApplied::Decided {
            txn: a,
            commit_ts: None
        })
    );
    // The coordinator's commit first: a later query's abort hears commit.
    ShardApp::apply(
        &mut image,
        3,
        &ShardCommand::Decide {
            txn: b,
            commit_ts: Some(4),
        },
    );
    assert_eq!(
        ShardApp::apply(
            &mut image,
            4,
            &ShardCommand::Decide {
                txn: b,
                commit_ts: None
            }
        ),
        Some(ShardApplied::Decided {
            txn: b,
            commit_ts: Some(4)
        })
    );
    // Once every shard has it, it goes.
    assert_eq!(
        ShardApp::apply(&mut image, 5, &ShardCommand::Forget { txn: b }),
        Some(ShardApplied::Forgotten)
    );
    assert_eq!(image.decisions.keys().copied().collect::<Vec<_>>(), [a]);
}
