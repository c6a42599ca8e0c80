//! Coordinating, a handler at a time: a write goes to the key's home
//! replicas and is answered after W distinct durable acks; a read answers
//! with the newest of R replies and repairs the stale ones; too few live
//! home replicas refuse at once, or, sloppy, send stand-ins hints.

use super::messages::{QEvent, QMessage, QTimer};
use super::params::{QuorumParams, ReadRepair, Versioning};
use super::ring::Ring;
use super::test_support::{home, lww, setup, KEY, SERVERS};
use super::versions::{Dot, Version};
use super::Quorum;
use crate::client::{ClientReply, ClientRequest, Token};
use crate::cluster::Service;
use crate::kv::{CausalContext, KvOp, KvResult};
use crate::testkit::{Effect, ServerHarness};
use sim_core::{NodeId, SimDuration};
use std::sync::Arc;

const CLIENT: NodeId = NodeId(SERVERS);

/// A coordinator that is not one of the key's home replicas, started.
fn coordinator(params: QuorumParams) -> (ServerHarness, Quorum) {
    let me = (0..SERVERS).find(|s| !home().contains(s)).unwrap();
    let mut harness = ServerHarness::with_clients(NodeId(me), SERVERS, 1, 7);
    let mut q = Quorum::new(setup(params));
    harness.call(|ctx| q.on_start(ctx));
    (harness, q)
}

fn request(seq: u64, op: KvOp) -> ClientRequest {
    ClientRequest {
        client: 0,
        seq,
        attempt: 1,
        op,
        token: Token::default(),
    }
}

fn put(value: &str, context: CausalContext) -> ClientRequest {
    request(
        1,
        KvOp::Put {
            key: KEY.into(),
            value: value.into(),
            context,
        },
    )
}

fn get() -> ClientRequest {
    request(2, KvOp::Get { key: KEY.into() })
}

#[test]
fn a_write_goes_to_the_home_replicas_and_is_answered_after_w_distinct_acks() {
    let (mut harness, mut q) = coordinator(QuorumParams::default());
    let me = harness.id().0;
    let write = harness.call(|ctx| q.on_client_request(ctx, CLIENT, put("a", CausalContext::NONE)));
    let dot = Dot {
        node: me,
        counter: 1,
    };
    let version = lww(me, 1, 0, "a");
    let sent = QMessage::Write {
        op: 1,
        key: KEY.into(),
        versions: vec![version],
        hint: None,
    };
    let expected: Vec<(NodeId, &QMessage)> =
        home().into_iter().map(|s| (NodeId(s), &sent)).collect();
    assert_eq!(write.sends(), expected);
    assert_eq!(
        write.events(),
        [&QEvent::Accepted {
            key: KEY.into(),
            dot
        }]
    );
    let expiry: Vec<_> = write
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::SetTimer { after, timer, .. } => Some((*after, timer)),
            _ => None,
        })
        .collect();
    assert_eq!(
        expiry,
        [(
            QuorumParams::default().request_timeout.0,
            &QTimer::Expire { op: 1 }
        )]
    );
    assert!(write.replies().is_empty());
    // The first replica's ack, then the same ack duplicated: still one of two.
    let first = NodeId(home()[0]);
    let ack = harness.call(|ctx| q.on_message(ctx, first, QMessage::WriteAck { op: 1 }));
    assert!(ack.effects.is_empty());
    let again = harness.call(|ctx| q.on_message(ctx, first, QMessage::WriteAck { op: 1 }));
    assert!(
        again.effects.is_empty(),
        "a duplicated ack does not count twice"
    );
    let second =
        harness.call(|ctx| q.on_message(ctx, NodeId(home()[1]), QMessage::WriteAck { op: 1 }));
    assert_eq!(second.replies(), [&ClientReply::Result(KvResult::Done)]);
    assert_eq!(
        second.events(),
        [&QEvent::Acked {
            key: KEY.into(),
            dot
        }]
    );
    // A late third ack finds nothing.
    let late =
        harness.call(|ctx| q.on_message(ctx, NodeId(home()[2]), QMessage::WriteAck { op: 1 }));
    assert!(late.effects.is_empty());
}

#[test]
fn with_the_bug_switch_a_duplicated_ack_completes_the_write() {
    let (mut harness, mut q) = coordinator(QuorumParams {
        count_duplicate_acks: true,
        ..QuorumParams::default()
    });
    harness.call(|ctx| q.on_client_request(ctx, CLIENT, put("a", CausalContext::NONE)));
    let first = NodeId(home()[0]);
    harness.call(|ctx| q.on_message(ctx, first, QMessage::WriteAck { op: 1 }));
    let again = harness.call(|ctx| q.on_message(ctx, first, QMessage::WriteAck { op: 1 }));
    assert_eq!(
        again.replies(),
        [&ClientReply::Result(KvResult::Done)],
        "one replica's ack, twice, made W = 2"
    );
}

#[test]
fn a_read_answers_with_the_newest_of_r_replies_and_repairs_the_stale_one() {
    for repair in [ReadRepair::Off, ReadRepair::Async, ReadRepair::Blocking] {
        let (mut harness, mut q) = coordinator(QuorumParams {
            read_repair: repair,
            ..QuorumParams::default()
        });
        let read = harness.call(|ctx| q.on_client_request(ctx, CLIENT, get()));
        let asked = QMessage::Read {
            op: 1,
            key: KEY.into(),
        };
        let expected: Vec<(NodeId, &QMessage)> =
            home().into_iter().map(|s| (NodeId(s), &asked)).collect();
        assert_eq!(read.sends(), expected, "{repair:?}: a read asks all N");
        let (old, new) = (lww(0, 1, 5, "old"), lww(1, 1, 9, "new"));
        let (stale, fresh) = (NodeId(home()[0]), NodeId(home()[1]));
        let one = harness.call(|ctx| {
            q.on_message(
                ctx,
                stale,
                QMessage::ReadReply {
                    op: 1,
                    versions: vec![old.clone()],
                },
            )
        });
        assert!(one.effects.is_empty());
        let two = harness.call(|ctx| {
            q.on_message(
                ctx,
                fresh,
                QMessage::ReadReply {
                    op: 1,
                    versions: vec![new.clone()],
                },
            )
        });
        let answer = ClientReply::Result(KvResult::Value("new".into()));
        let repair_write = QMessage::Write {
            op: 1,
            key: KEY.into(),
            versions: vec![new.clone()],
            hint: None,
        };
        match repair {
            ReadRepair::Off => {
                assert!(two.sends().is_empty());
                assert_eq!(two.replies(), [&answer]);
            }
            ReadRepair::Async => {
                assert_eq!(two.sends(), [(stale, &repair_write)]);
                assert_eq!(two.replies(), [&answer], "answered at once");
                let used = vec![home()[0], home()[1]];
                assert_eq!(
                    two.events(),
                    [
                        &QEvent::ReadResolved { op: 1, used },
                        &QEvent::Repaired { replicas: 1 }
                    ]
                );
                // The third replica answers late and stale: repaired too.
                let late = harness.call(|ctx| {
                    q.on_message(
                        ctx,
                        NodeId(home()[2]),
                        QMessage::ReadReply {
                            op: 1,
                            versions: Vec::new(),
                        },
                    )
                });
                assert_eq!(late.sends(), [(NodeId(home()[2]), &repair_write)]);
            }
            ReadRepair::Blocking => {
                assert_eq!(two.sends(), [(stale, &repair_write)]);
                assert!(two.replies().is_empty(), "waits for the repair");
                let acked =
                    harness.call(|ctx| q.on_message(ctx, stale, QMessage::WriteAck { op: 1 }));
                assert_eq!(acked.replies(), [&answer]);
            }
        }
    }
}

#[test]
fn too_few_live_home_replicas_refuse_at_once_and_a_sloppy_quorum_sends_hints() {
    for sloppy in [false, true] {
        let (mut harness, mut q) = coordinator(QuorumParams {
            sloppy_quorum: sloppy,
            ..QuorumParams::default()
        });
        let me = harness.id().0;
        // Only the first home replica and the other stand-in keep talking.
        let other = (0..SERVERS)
            .find(|s| !home().contains(s) && *s != me)
            .unwrap();
        harness.advance(SimDuration::from_millis(300));
        for s in [home()[0], other] {
            harness.call(|ctx| q.on_message(ctx, NodeId(s), QMessage::Heartbeat));
        }
        let write =
            harness.call(|ctx| q.on_client_request(ctx, CLIENT, put("a", CausalContext::NONE)));
        if !sloppy {
            assert!(write.sends().is_empty(), "nothing sent");
            assert_eq!(write.replies(), [&ClientReply::Unavailable]);
            continue;
        }
        // The live home replica, then the live servers past the home on
        // the walk, each standing in for a down home replica in order.
        let walk = Ring::new(SERVERS, 64).walk(KEY);
        let stand_ins: Vec<u32> = walk[3..]
            .iter()
            .copied()
            .filter(|s| [me, other].contains(s))
            .collect();
        let targets: Vec<(NodeId, Option<u32>)> = write
            .sends()
            .iter()
            .map(|(to, m)| match m {
                QMessage::Write { hint, .. } => (*to, *hint),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            targets,
            vec![
                (NodeId(home()[0]), None),
                (NodeId(stand_ins[0]), Some(home()[1])),
                (NodeId(stand_ins[1]), Some(home()[2])),
            ]
        );
    }
}

#[test]
fn version_vectors_return_siblings_with_their_joined_context_and_the_next_write_carries_it() {
    let params = QuorumParams {
        versioning: Versioning::VersionVectors,
        ..QuorumParams::default()
    };
    let (mut harness, mut q) = coordinator(params);
    let me = harness.id().0;
    harness.call(|ctx| q.on_client_request(ctx, CLIENT, get()));
    let sibling = |node: u32, value: &str| Version {
        dot: Dot { node, counter: 1 },
        stamp: 0,
        context: Arc::from(vec![0u64; SERVERS as usize]),
        value: value.into(),
    };
    let (a, b) = (sibling(0, "a"), sibling(1, "b"));
    harness.call(|ctx| {
        q.on_message(
            ctx,
            NodeId(home()[0]),
            QMessage::ReadReply {
                op: 1,
                versions: vec![a.clone()],
            },
        )
    });
    let answered = harness.call(|ctx| {
        q.on_message(
            ctx,
            NodeId(home()[1]),
            QMessage::ReadReply {
                op: 1,
                versions: vec![b.clone()],
            },
        )
    });
    let response = answered
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::Reply { response, .. } => Some(response.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        response.reply,
        ClientReply::Result(KvResult::Value("a|b".into()))
    );
    assert_eq!(response.context.counters(), &[1, 1, 0, 0, 0]);
    // The client's next write (its next seq) carries that context: its
    // version covers both.
    let next = request(
        3,
        KvOp::Put {
            key: KEY.into(),
            value: "c".into(),
            context: response.context.clone(),
        },
    );
    let write = harness.call(|ctx| q.on_client_request(ctx, CLIENT, next));
    let QMessage::Write { versions, .. } = write.sends()[0].1 else {
        panic!("a write")
    };
    assert_eq!(
        versions[0].dot,
        Dot {
            node: me,
            counter: 2
        }
    );
    assert!(versions[0].covers(&a) && versions[0].covers(&b));
}

#[test]
fn an_expired_read_is_refused_and_an_expired_write_is_left_unanswered() {
    let (mut harness, mut q) = coordinator(QuorumParams::default());
    harness.call(|ctx| q.on_client_request(ctx, CLIENT, put("a", CausalContext::NONE)));
    harness.call(|ctx| q.on_client_request(ctx, CLIENT, get()));
    let write = harness.call(|ctx| q.on_timer(ctx, sim_core::TimerId(0), QTimer::Expire { op: 1 }));
    assert!(
        write.effects.is_empty(),
        "the write may have landed: no answer"
    );
    let read = harness.call(|ctx| q.on_timer(ctx, sim_core::TimerId(0), QTimer::Expire { op: 2 }));
    assert_eq!(read.replies(), [&ClientReply::Unavailable]);
}

/// Regression (issue: a strict quorum's reads went stale on a duplicating
/// network, even with N = R = W = 1). Postmortem: a copy of a client's
/// write request, delayed past the write's completion, was coordinated
/// again with a newer stamp and overwrote a write that began after the
/// first had ended: a phantom write no client invoked then. A coordinator
/// now takes each (client, seq, attempt) once; a retry is a new attempt.
#[test]
fn a_duplicated_or_stale_request_is_not_coordinated_again_but_a_retry_is() {
    let (mut harness, mut q) = coordinator(QuorumParams::default());
    let first = harness.call(|ctx| q.on_client_request(ctx, CLIENT, put("a", CausalContext::NONE)));
    assert!(!first.sends().is_empty());
    let copy = harness.call(|ctx| q.on_client_request(ctx, CLIENT, put("a", CausalContext::NONE)));
    assert!(
        copy.effects.is_empty(),
        "a copy changes nothing: {:?}",
        copy.effects
    );
    let later = harness.call(|ctx| q.on_client_request(ctx, CLIENT, get()));
    assert!(!later.sends().is_empty());
    // A copy of the write arriving after the client moved on: stale.
    let stale = harness.call(|ctx| q.on_client_request(ctx, CLIENT, put("a", CausalContext::NONE)));
    assert!(stale.effects.is_empty());
    // The read's second attempt (the client's retry) is coordinated.
    let mut retry = get();
    retry.attempt = 2;
    let retried = harness.call(|ctx| q.on_client_request(ctx, CLIENT, retry));
    assert!(!retried.sends().is_empty());
}
