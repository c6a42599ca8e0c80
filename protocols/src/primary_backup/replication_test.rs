//! Shipping and committing, a handler at a time: a Sync primary answers
//! only once every backup has a write on disk, an Async one after its own
//! disk alone and ships on its timer, and a backup acks only what is on
//! its disk and refuses a deposed primary.

use super::messages::{Append, Entry, PbEvent, PbMessage, PbTimer};
use super::params::{Mode, PrimaryBackupParams};
use super::PrimaryBackup;
use crate::client::{ClientReply, ClientRequest, Token};
use crate::cluster::Service;
use crate::kv::{KvOp, KvResult};
use crate::testkit::{Effect, ServerHarness};
use sim_core::{Dur, NodeId};
use std::sync::Arc;

const CLIENT: NodeId = NodeId(3);

fn server(mode: Mode) -> PrimaryBackup {
    PrimaryBackup::new(Arc::new(PrimaryBackupParams {
        mode,
        ..PrimaryBackupParams::default()
    }))
}

fn put(seq: u64) -> ClientRequest {
    ClientRequest {
        client: 0,
        seq,
        attempt: 1,
        op: KvOp::Put {
            key: "k1".into(),
            value: format!("v{seq}"),
            context: Default::default(),
        },
        token: Token::default(),
    }
}

fn ack(index: u64, round: u64) -> PbMessage {
    PbMessage::AppendAck {
        epoch: 1,
        ok: true,
        index,
        round,
    }
}

/// Server 0 started as the primary of epoch 1, its no-op on its disk and
/// acked by both backups (so its lease holds), with a slow disk.
fn primary(mode: Mode) -> (ServerHarness, PrimaryBackup) {
    let mut harness = ServerHarness::with_clients(NodeId(0), 3, 1, 7);
    harness.hold_syncs();
    let mut pb = server(mode);
    let started = harness.call(|ctx| pb.on_start(ctx));
    assert_eq!(started.events()[0], &PbEvent::Promoted { epoch: 1 });
    let noop = Entry {
        epoch: 1,
        request: None,
    };
    assert_eq!(
        started.sends()[0],
        (
            NodeId(1),
            &PbMessage::Append(Append {
                epoch: 1,
                prev_index: 0,
                prev_epoch: 0,
                entries: vec![noop],
                commit: 0,
                round: 1,
            })
        )
    );
    harness.complete_sync(&mut pb);
    for backup in [NodeId(1), NodeId(2)] {
        harness.call(|ctx| pb.on_message(ctx, backup, ack(1, 1)));
    }
    assert_eq!(pb.commit_index(), 1, "the no-op committed");
    (harness, pb)
}

#[test]
fn a_sync_primary_answers_once_every_backup_has_the_write_on_disk() {
    let (mut harness, mut pb) = primary(Mode::Sync);
    let write = harness.call(|ctx| pb.on_client_request(ctx, CLIENT, put(1)));
    let entry = Entry {
        epoch: 1,
        request: Some(put(1)),
    };
    assert_eq!(
        write.events(),
        [&PbEvent::Appended {
            epoch: 1,
            index: 2,
            digest: entry.digest()
        }]
    );
    let shipped = PbMessage::Append(Append {
        epoch: 1,
        prev_index: 1,
        prev_epoch: 1,
        entries: vec![entry],
        commit: 1,
        round: 2,
    });
    assert_eq!(
        write.sends(),
        [(NodeId(1), &shipped), (NodeId(2), &shipped)]
    );
    assert!(write.replies().is_empty());
    // Its own disk, then one backup: still no answer.
    assert!(harness.complete_sync(&mut pb).replies().is_empty());
    let one = harness.call(|ctx| pb.on_message(ctx, NodeId(1), ack(2, 2)));
    assert!(one.replies().is_empty());
    // The second backup: committed, applied, answered with its position.
    let both = harness.call(|ctx| pb.on_message(ctx, NodeId(2), ack(2, 2)));
    assert!(both.events().contains(&&PbEvent::Committed {
        epoch: 1,
        index: 2,
        digest: Entry {
            epoch: 1,
            request: Some(put(1))
        }
        .digest(),
        write: true,
        safe: true,
    }));
    let answered: Vec<_> = both
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Reply { to, response } => Some((*to, response.token)),
            _ => None,
        })
        .collect();
    assert_eq!(
        answered,
        [(
            CLIENT,
            Token {
                epoch: 1,
                position: 2
            }
        )]
    );
}

#[test]
fn an_async_primary_answers_after_its_own_disk_and_ships_on_its_timer() {
    let (mut harness, mut pb) = primary(Mode::Async {
        ship_interval: Dur::ms(50),
    });
    let write = harness.call(|ctx| pb.on_client_request(ctx, CLIENT, put(1)));
    assert!(write.sends().is_empty(), "nothing ships before the timer");
    assert!(write.replies().is_empty(), "nor answers before the sync");
    let synced = harness.complete_sync(&mut pb);
    assert_eq!(synced.replies(), [&ClientReply::Result(KvResult::Done)]);
    assert!(synced.events().iter().any(|e| matches!(
        e,
        PbEvent::Committed {
            index: 2,
            safe: false,
            ..
        }
    )));
    let timer = pb.ship_timer.expect("armed at promotion");
    let ship = harness.call(|ctx| pb.on_timer(ctx, timer, PbTimer::Ship));
    let sent: Vec<_> = ship
        .sends()
        .into_iter()
        .map(|(to, m)| match m {
            PbMessage::Append(Append {
                prev_index,
                entries,
                ..
            }) => (to, *prev_index, entries.len()),
            other => panic!("a ship sends appends, not {other:?}"),
        })
        .collect();
    assert_eq!(sent, [(NodeId(1), 1, 1), (NodeId(2), 1, 1)]);
}

#[test]
fn a_backup_acks_only_once_durable_and_refuses_a_deposed_primary() {
    let mut harness = ServerHarness::new(NodeId(1), 3, 7);
    harness.hold_syncs();
    let mut pb = server(Mode::Sync);
    harness.call(|ctx| pb.on_start(ctx));
    let entries = vec![
        Entry {
            epoch: 1,
            request: None,
        },
        Entry {
            epoch: 1,
            request: Some(put(1)),
        },
    ];
    let append = PbMessage::Append(Append {
        epoch: 1,
        prev_index: 0,
        prev_epoch: 0,
        entries,
        commit: 1,
        round: 4,
    });
    let took = harness.call(|ctx| pb.on_message(ctx, NodeId(0), append));
    assert!(took.sends().is_empty(), "the ack waits for the disk");
    assert_eq!(pb.commit_index(), 1, "commits what the primary committed");
    let synced = harness.complete_sync(&mut pb);
    assert_eq!(synced.sends(), [(NodeId(0), &ack(2, 4))]);
    // Epoch 2 arrives; an append of epoch 1 is then refused with epoch 2.
    let newer = PbMessage::Append(Append {
        epoch: 2,
        prev_index: 2,
        prev_epoch: 1,
        entries: Vec::new(),
        commit: 1,
        round: 1,
    });
    harness.call(|ctx| pb.on_message(ctx, NodeId(2), newer));
    harness.complete_sync(&mut pb);
    let stale = PbMessage::Append(Append {
        epoch: 1,
        prev_index: 2,
        prev_epoch: 1,
        entries: Vec::new(),
        commit: 2,
        round: 5,
    });
    let refused = harness.call(|ctx| pb.on_message(ctx, NodeId(0), stale));
    let refusal = PbMessage::AppendAck {
        epoch: 2,
        ok: false,
        index: 0,
        round: 5,
    };
    assert_eq!(refused.sends(), [(NodeId(0), &refusal)]);
    assert_eq!(pb.epoch(), 2);
}
