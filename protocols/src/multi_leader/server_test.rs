//! A region server's handlers: a write commits locally before it is
//! answered and shipped; a retry is answered, not applied again; remote
//! writes wait for their dependencies (or not), merge, and are
//! acknowledged; the outbox resends until acknowledged; the ring forwards
//! and stops; a duplicate merges to nothing unless the merge is broken;
//! LWW stamps beat what a region read; followers receive what the leader
//! applies; a restarted leader recovers its state.

use super::messages::{MultiLeaderEvent, MultiLeaderMessage, MultiLeaderTimer, Shipped};
use super::params::MultiLeaderParams;
use super::resolution::{CrdtKind, KeyState, Resolution, Write};
use super::server::MultiLeader;
use super::topology::{Regions, Topology};
use crate::client::{ClientReply, ClientRequest, Token};
use crate::cluster::Service;
use crate::crdt::{Dot, VersionVector};
use crate::kv::{CausalContext, KvOp, KvResult};
use crate::testkit::{Effect, ServerHarness};
use sim_core::{LocalTime, NodeId, SimDuration};
use std::sync::Arc;

const CLIENTS: u32 = 4;

fn params(regions: u32) -> MultiLeaderParams {
    MultiLeaderParams {
        regions,
        ..MultiLeaderParams::default()
    }
}

fn server(id: u32, params: MultiLeaderParams) -> (ServerHarness, MultiLeader) {
    let servers = params.servers();
    let mut harness = ServerHarness::with_clients(NodeId(id), servers, CLIENTS, 1);
    let mut server = MultiLeader::new(Arc::new(params), NodeId(id));
    harness.call(|ctx| server.on_start(ctx));
    (harness, server)
}

fn put(client: u32, seq: u64, key: &str, value: &str) -> ClientRequest {
    ClientRequest {
        client,
        seq,
        attempt: 1,
        op: KvOp::Put {
            key: key.to_string(),
            value: value.to_string(),
            context: CausalContext::NONE,
        },
        token: Token::default(),
    }
}

fn get(client: u32, seq: u64, key: &str) -> ClientRequest {
    ClientRequest {
        client,
        seq,
        attempt: 1,
        op: KvOp::Get {
            key: key.to_string(),
        },
        token: Token::default(),
    }
}

use super::test_support::{dot, vv};

/// Region `region`'s `counter`-th write of `value` to `key` (an LWW
/// register stamped `stamp`), depending on `deps`.
fn remote(
    region: u32,
    counter: u64,
    deps: &[(u32, u64)],
    key: &str,
    value: &str,
    stamp: u64,
) -> Shipped {
    let mut state = Resolution::LastWriterWins.empty();
    state.write(region, stamp, &Write::Put(value.to_string()));
    Shipped {
        dot: dot(region, counter),
        deps: vv(deps),
        key_deps: VersionVector::default(),
        key: key.to_string(),
        state,
        visited: Regions::of(region),
        hops: 1,
    }
}

fn ship(writes: Vec<Shipped>) -> MultiLeaderMessage {
    MultiLeaderMessage::Ship { writes }
}

fn client_node(params: &MultiLeaderParams, client: u32) -> NodeId {
    NodeId(params.servers() + client)
}

#[test]
fn a_write_is_stored_and_synced_then_answered_reported_and_shipped_to_every_other_region() {
    let p = params(3);
    let (mut harness, mut s) = server(0, p.clone());
    let client = client_node(&p, 0);
    let handled = harness.call(|ctx| s.on_client_request(ctx, client, put(0, 1, "k0", "0.1")));
    assert!(handled.synced);
    assert_eq!(
        handled.stored,
        [
            "ml/delivery",
            "ml/k/k0",
            "ml/out/00001/00000/00000000000000000001",
            "ml/out/00002/00000/00000000000000000001",
            "ml/reply/0000000000"
        ]
    );
    let mut state = Resolution::LastWriterWins.empty();
    state.write(0, 0, &Write::Put("0.1".into()));
    let shipped = |visited: Regions| Shipped {
        dot: dot(0, 1),
        deps: VersionVector::default(),
        key_deps: VersionVector::default(),
        key: "k0".into(),
        state: state.clone(),
        visited,
        hops: 1,
    };
    assert_eq!(handled.replies(), [&ClientReply::Result(KvResult::Done)]);
    assert_eq!(
        handled.events(),
        [
            &MultiLeaderEvent::Taking {
                region: 0,
                dot: dot(0, 1),
                deps: VersionVector::default(),
                key: "k0".into(),
                write: Write::Put("0.1".into()),
            },
            &MultiLeaderEvent::Took {
                region: 0,
                dot: dot(0, 1),
                deps: VersionVector::default(),
                key: "k0".into(),
                write: Write::Put("0.1".into()),
                resolution: Resolution::LastWriterWins,
                value: vec!["0.1".into()],
            },
            &MultiLeaderEvent::Forwarded {
                region: 0,
                dot: dot(0, 1),
                hops: 1
            },
            &MultiLeaderEvent::Forwarded {
                region: 0,
                dot: dot(0, 1),
                hops: 1
            },
        ]
    );
    // All-to-all: the origin's copy marks itself visited and goes to both.
    let visited = Regions::of(0);
    assert_eq!(
        handled.sends(),
        [
            (NodeId(1), &ship(vec![shipped(visited)])),
            (NodeId(2), &ship(vec![shipped(visited)])),
        ]
    );
    assert_eq!(s.outbox_len(), 2);
    let read = harness.call(|ctx| s.on_client_request(ctx, client, get(0, 2, "k0")));
    assert_eq!(
        read.replies(),
        [&ClientReply::Result(KvResult::Value("0.1".into()))]
    );
}

#[test]
fn a_retried_write_is_answered_again_and_a_counter_counts_it_once() {
    let p = MultiLeaderParams {
        conflict_resolution: Resolution::Crdt(CrdtKind::GCounter),
        ..params(2)
    };
    let (mut harness, mut s) = server(0, p.clone());
    let client = client_node(&p, 0);
    harness.call(|ctx| s.on_client_request(ctx, client, put(0, 1, "k0", "0.1")));
    let again = harness.call(|ctx| s.on_client_request(ctx, client, put(0, 1, "k0", "0.1")));
    assert_eq!(again.replies(), [&ClientReply::Result(KvResult::Done)]);
    assert!(again.events().is_empty() && again.sends().is_empty());
    assert!(again.stored.is_empty(), "a retry writes nothing");
    assert_eq!(
        s.key_state("k0").map(KeyState::read),
        Some(vec!["1".to_string()])
    );
    let older = harness.call(|ctx| s.on_client_request(ctx, client, put(0, 0, "k0", "0.0")));
    assert!(
        older.effects.is_empty(),
        "an older operation's attempt is dropped"
    );
}

#[test]
fn a_remote_write_waits_for_the_write_it_depends_on_then_both_apply_in_order() {
    let p = params(3);
    let (mut harness, mut s) = server(2, p);
    // Region 1's write depends on region 0's first, which has not arrived.
    let second = remote(1, 1, &[(0, 1)], "y", "b", 20);
    let waited = harness.call(|ctx| s.on_message(ctx, NodeId(1), ship(vec![second])));
    assert!(waited.events().is_empty(), "nothing applied");
    assert_eq!(
        waited.sends(),
        [(
            NodeId(1),
            &MultiLeaderMessage::Ack {
                applied: VersionVector::default()
            }
        )]
    );
    assert_eq!(s.key_state("y"), None);
    let first = remote(0, 1, &[], "x", "a", 10);
    let both = harness.call(|ctx| s.on_message(ctx, NodeId(0), ship(vec![first])));
    let applied: Vec<(Dot, bool)> = both
        .events()
        .iter()
        .filter_map(|e| match e {
            MultiLeaderEvent::Applied {
                dot,
                deps_met,
                causal,
                ..
            } => {
                assert!(causal);
                Some((*dot, *deps_met))
            }
            _ => None,
        })
        .collect();
    assert_eq!(applied, [(dot(0, 1), true), (dot(1, 1), true)]);
    assert_eq!(
        both.sends(),
        [(
            NodeId(0),
            &MultiLeaderMessage::Ack {
                applied: vv(&[(0, 1), (1, 1)])
            }
        )]
    );
}

#[test]
fn without_causal_delivery_a_remote_write_applies_on_arrival_and_says_its_dependency_was_missing() {
    for bug in [false, true] {
        let p = MultiLeaderParams {
            causal_delivery: bug,
            apply_without_dependencies: bug,
            ..params(3)
        };
        let (mut harness, mut s) = server(2, p);
        let early = remote(1, 1, &[(0, 1)], "y", "b", 20);
        let handled = harness.call(|ctx| s.on_message(ctx, NodeId(1), ship(vec![early])));
        assert_eq!(
            handled.events(),
            [&MultiLeaderEvent::Applied {
                region: 2,
                dot: dot(1, 1),
                key: "y".into(),
                deps_met: false,
                causal: bug,
                conflict: false,
                value: vec!["b".into()],
            }]
        );
    }
}

#[test]
fn the_outbox_resends_what_is_not_acknowledged_and_forgets_what_is() {
    let p = params(3);
    let (mut harness, mut s) = server(0, p.clone());
    let client = client_node(&p, 0);
    harness.call(|ctx| s.on_client_request(ctx, client, put(0, 1, "k0", "0.1")));
    harness.call(|ctx| s.on_client_request(ctx, client, put(0, 2, "k1", "0.2")));
    assert_eq!(s.outbox_len(), 4);
    let acked = harness.call(|ctx| {
        s.on_message(
            ctx,
            NodeId(1),
            MultiLeaderMessage::Ack {
                applied: vv(&[(0, 2)]),
            },
        )
    });
    assert_eq!(acked.stored.len(), 2, "both entries for region 1 deleted");
    assert!(!acked.synced, "a deletion needs no sync");
    assert_eq!(s.outbox_len(), 2);
    harness.advance(SimDuration::from_millis(200));
    let timer = harness.call(|ctx| {
        let id = sim_core::TimerId(0);
        s.on_timer(ctx, id, MultiLeaderTimer::Resend)
    });
    // The timer id the harness gave at start is the first one.
    let sends: Vec<(NodeId, usize)> = timer
        .sends()
        .iter()
        .map(|(to, m)| match m {
            MultiLeaderMessage::Ship { writes } => (*to, writes.len()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        sends,
        [(NodeId(2), 2)],
        "only region 3 is owed, both writes"
    );
}

#[test]
fn a_ring_forwards_to_the_next_region_until_the_write_has_been_everywhere_and_the_bug_goes_round() {
    for loops in [false, true] {
        let p = MultiLeaderParams {
            topology: Topology::Ring,
            ring_forward_loops: loops,
            ..params(3)
        };
        // Region 2 (the last) gets region 0's write from region 1.
        let (mut harness, mut s) = server(2, p);
        let mut write = remote(0, 1, &[], "x", "a", 10);
        write.visited = Regions::of(0).with(1);
        write.hops = 2;
        let handled = harness.call(|ctx| s.on_message(ctx, NodeId(1), ship(vec![write.clone()])));
        let forwarded: Vec<NodeId> = handled
            .sends()
            .iter()
            .filter(|(_, m)| matches!(m, MultiLeaderMessage::Ship { .. }))
            .map(|(to, _)| *to)
            .collect();
        if loops {
            assert_eq!(forwarded, [NodeId(0)], "back to its origin: round again");
            assert!(handled.events().contains(&&MultiLeaderEvent::Forwarded {
                region: 2,
                dot: dot(0, 1),
                hops: 3
            }));
        } else {
            assert!(forwarded.is_empty(), "everyone has it: the ring ends");
        }
    }
}

#[test]
fn a_duplicate_merges_to_nothing_but_the_adding_merge_counts_it_again() {
    for bug in [false, true] {
        let p = MultiLeaderParams {
            conflict_resolution: Resolution::Crdt(CrdtKind::GCounter),
            crdt_merge_not_idempotent: bug,
            ..params(2)
        };
        let (mut harness, mut s) = server(1, p);
        let mut state = Resolution::Crdt(CrdtKind::GCounter).empty();
        state.write(0, 0, &Write::Add(1));
        let write = Shipped {
            dot: dot(0, 1),
            deps: VersionVector::default(),
            key_deps: VersionVector::default(),
            key: "c".into(),
            state,
            visited: Regions::of(0),
            hops: 1,
        };
        harness.call(|ctx| s.on_message(ctx, NodeId(0), ship(vec![write.clone()])));
        let again = harness.call(|ctx| s.on_message(ctx, NodeId(0), ship(vec![write.clone()])));
        let read = s.key_state("c").map(KeyState::read);
        if bug {
            assert_eq!(read, Some(vec!["2".to_string()]));
            assert_eq!(
                again.events(),
                [&MultiLeaderEvent::Merged {
                    region: 1,
                    key: "c".into(),
                    value: vec!["2".into()]
                }]
            );
        } else {
            assert_eq!(read, Some(vec!["1".to_string()]));
            assert!(again.events().is_empty() && again.stored.is_empty());
        }
    }
}

#[test]
fn an_lww_write_made_after_reading_a_later_stamp_wins_unless_the_stamp_ignores_skew() {
    for bug in [false, true] {
        let p = MultiLeaderParams {
            lww_ignore_clock_skew: bug,
            ..params(2)
        };
        let (mut harness, mut s) = server(1, p.clone());
        // Region 0's clock is a second ahead: its write is stamped 1 s.
        let ahead = remote(0, 1, &[], "x", "a", 1_000_000_000);
        harness.call(|ctx| s.on_message(ctx, NodeId(0), ship(vec![ahead])));
        harness.set_now(LocalTime::from_nanos(100_000_000));
        let client = client_node(&p, 1);
        harness.call(|ctx| s.on_client_request(ctx, client, put(1, 1, "x", "1.1")));
        let read = s.key_state("x").map(KeyState::read);
        if bug {
            assert_eq!(
                read,
                Some(vec!["a".to_string()]),
                "the later write lost to skew"
            );
        } else {
            assert_eq!(read, Some(vec!["1.1".to_string()]));
        }
    }
}

#[test]
fn a_leader_ships_what_it_applies_to_its_followers_which_apply_and_acknowledge() {
    let p = MultiLeaderParams {
        followers: 1,
        ..params(2)
    };
    // Region 1's leader is server 2, its follower server 3.
    let (mut harness, mut leader) = server(2, p.clone());
    let write = remote(0, 1, &[], "x", "a", 10);
    let handled = harness.call(|ctx| leader.on_message(ctx, NodeId(0), ship(vec![write.clone()])));
    assert!(handled
        .sends()
        .contains(&(NodeId(3), &ship(vec![write.clone()]))));
    let (mut fh, mut follower) = server(3, p);
    assert!(!follower.is_leader());
    let followed = fh.call(|ctx| follower.on_message(ctx, NodeId(2), ship(vec![write])));
    assert!(followed.events().is_empty(), "followers report nothing");
    assert_eq!(
        followed.sends(),
        [(
            NodeId(2),
            &MultiLeaderMessage::Ack {
                applied: vv(&[(0, 1)])
            }
        )]
    );
    assert_eq!(
        follower
            .replica_data()
            .and_then(|d| d.get("x"))
            .map(String::as_str),
        Some("a")
    );
}

#[test]
fn a_restarted_leader_recovers_its_keys_its_outbox_and_what_it_applied() {
    let p = params(2);
    let (mut harness, mut s) = server(0, p.clone());
    let client = client_node(&p, 0);
    harness.call(|ctx| s.on_client_request(ctx, client, put(0, 1, "k0", "0.1")));
    harness.call(|ctx| s.on_message(ctx, NodeId(1), ship(vec![remote(1, 1, &[], "k1", "b", 5)])));
    let mut again = MultiLeader::new(Arc::new(p.clone()), NodeId(0));
    harness.call(|ctx| again.on_start(ctx));
    assert_eq!(again.replica_data(), s.replica_data());
    assert_eq!(again.outbox_len(), 1);
    assert_eq!(again.applied(), &vv(&[(0, 1), (1, 1)]));
    let retry = harness.call(|ctx| again.on_client_request(ctx, client, put(0, 1, "k0", "0.1")));
    assert!(
        retry.events().is_empty(),
        "the retry is remembered across the restart"
    );
}

#[test]
fn a_follower_refuses_clients() {
    let p = MultiLeaderParams {
        followers: 1,
        ..params(2)
    };
    let (mut harness, mut s) = server(1, p.clone());
    let handled =
        harness.call(|ctx| s.on_client_request(ctx, client_node(&p, 0), put(0, 1, "k", "v")));
    assert_eq!(handled.replies(), [&ClientReply::Unavailable]);
    assert!(matches!(handled.effects[0], Effect::Reply { .. }));
}

#[test]
fn a_resend_goes_in_messages_of_batch_max_writes_in_causal_order_once_durable() {
    let p = MultiLeaderParams {
        batch_max: 2,
        ..params(2)
    };
    let (mut harness, mut s) = server(0, p.clone());
    let client = client_node(&p, 0);
    for seq in 1..=3 {
        harness
            .call(|ctx| s.on_client_request(ctx, client, put(0, seq, "k0", &format!("0.{seq}"))));
    }
    harness.hold_syncs();
    // A fourth write whose sync is still in flight when the tick comes.
    harness.call(|ctx| s.on_client_request(ctx, client, put(0, 4, "k0", "0.4")));
    harness.advance(SimDuration::from_millis(200));
    let tick = harness.call(|ctx| s.on_timer(ctx, sim_core::TimerId(0), MultiLeaderTimer::Resend));
    assert!(
        tick.sends().is_empty(),
        "nothing leaves before the write in flight is durable"
    );
    let released = harness.complete_sync(&mut s);
    let batches: Vec<Vec<u64>> = released
        .sends()
        .iter()
        .filter_map(|(_, m)| match m {
            MultiLeaderMessage::Ship { writes } => {
                Some(writes.iter().map(|w| w.dot.counter).collect())
            }
            _ => None,
        })
        .collect();
    // The fourth write's first send, then the tick's resend of all four
    // (each sent 200 ms ago), two per message, in order.
    assert_eq!(batches, [vec![4], vec![1, 2], vec![3, 4]]);
}

#[test]
fn a_write_after_merging_a_key_saw_the_writes_its_state_carried() {
    let p = MultiLeaderParams {
        causal_delivery: false,
        ..params(2)
    };
    let (mut harness, mut s) = server(1, p.clone());
    // Region 0's third write of x arrives alone, its state carrying its
    // first two: the key's state here includes all three.
    let mut third = remote(0, 3, &[(0, 2)], "x", "c", 30);
    third.key_deps = vv(&[(0, 2)]);
    harness.call(|ctx| s.on_message(ctx, NodeId(0), ship(vec![third])));
    assert_eq!(
        s.applied(),
        &VersionVector::default(),
        "the prefix applied is still empty"
    );
    let client = client_node(&p, 1);
    let handled = harness.call(|ctx| s.on_client_request(ctx, client, put(1, 1, "x", "1.1")));
    let deps = handled.events().iter().find_map(|e| match e {
        MultiLeaderEvent::Took { deps, .. } => Some(deps.clone()),
        _ => None,
    });
    assert_eq!(
        deps,
        Some(vv(&[(0, 3)])),
        "it saw region 0's writes of x up to the third"
    );
}
