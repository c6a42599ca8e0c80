//! KvSingle's request handler: the primary applies a write and replies only
//! once it is synced (group commit, or at once with a zero interval); other
//! servers redirect; the bug switch replies before the sync.

use crate::client::{ClientReply, ClientRequest};
use crate::cluster::Service;
use crate::kv::{KvOp, KvResult};
use crate::kv_single::{KvSingle, KvSingleParams, KvSingleTimer};
use crate::testkit::{Effect, ServerHarness};
use sim_core::{Dur, NodeId, SimDuration};

const CLIENT: NodeId = NodeId(3);

fn put(seq: u64) -> ClientRequest {
    ClientRequest {
        client: 0,
        seq,
        attempt: 0,
        op: KvOp::Put {
            key: "k1".into(),
            value: format!("v{seq}"),
            context: Default::default(),
        },
        token: Default::default(),
    }
}

fn started(id: u32, params: KvSingleParams) -> (ServerHarness, KvSingle) {
    let mut server = ServerHarness::with_clients(NodeId(id), 3, 1, 1);
    let mut kv = KvSingle::new(params);
    server.call(|ctx| kv.on_start(ctx));
    (server, kv)
}

#[test]
fn with_a_zero_interval_the_primary_syncs_then_replies() {
    let params = KvSingleParams {
        flush_interval: Dur::ms(0),
        ..KvSingleParams::default()
    };
    let (mut server, mut kv) = started(0, params);
    let handled = server.call(|ctx| kv.on_client_request(ctx, CLIENT, put(1)));
    assert_eq!(
        handled.effects,
        [Effect::Reply {
            to: CLIENT,
            response: put(1).answer(ClientReply::Result(KvResult::Done))
        }]
    );
    assert!(handled.synced);
    assert_eq!(handled.stored, ["kv/store"]);
}

#[test]
fn with_group_commit_the_reply_waits_for_the_flush_timer() {
    let (mut server, mut kv) = started(0, KvSingleParams::default());
    let handled = server.call(|ctx| kv.on_client_request(ctx, CLIENT, put(1)));
    let [Effect::SetTimer {
        id,
        after,
        timer: KvSingleTimer::Flush,
    }] = handled.effects[..]
    else {
        panic!("expected only the flush timer: {:?}", handled.effects);
    };
    assert_eq!(after, SimDuration::from_millis(5));
    assert!(!handled.synced && handled.stored == ["kv/store"]);
    let flushed = server.call(|ctx| kv.on_timer(ctx, id, KvSingleTimer::Flush));
    assert_eq!(
        flushed.effects,
        [Effect::Reply {
            to: CLIENT,
            response: put(1).answer(ClientReply::Result(KvResult::Done))
        }]
    );
    assert!(flushed.synced);
}

#[test]
fn other_servers_redirect_to_the_primary() {
    let (mut server, mut kv) = started(2, KvSingleParams::default());
    let handled = server.call(|ctx| kv.on_client_request(ctx, CLIENT, put(1)));
    assert_eq!(
        handled.effects,
        [Effect::Reply {
            to: CLIENT,
            response: put(1).answer(ClientReply::NotLeader {
                hint: Some(NodeId(0))
            })
        }]
    );
    assert!(handled.stored.is_empty());
}

#[test]
fn bug_switch_ack_before_sync_replies_with_the_write_unsynced() {
    let params = KvSingleParams {
        ack_before_sync: true,
        ..KvSingleParams::default()
    };
    let (mut server, mut kv) = started(0, params);
    let handled = server.call(|ctx| kv.on_client_request(ctx, CLIENT, put(1)));
    assert!(matches!(
        handled.effects[..],
        [
            Effect::Reply { to: CLIENT, .. },
            Effect::SetTimer {
                timer: KvSingleTimer::Flush,
                ..
            }
        ]
    ));
    assert!(!handled.synced);
    assert!(
        !server.storage().is_synced("kv/store"),
        "a power loss now loses an acknowledged write"
    );
}
