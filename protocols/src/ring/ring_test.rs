//! Ring election's handlers on one server (Chang–Roberts, ids 1, 2, 3 on
//! n1, n2, n3; this is n2, id 2, in the election it started at boot): each
//! ring message is acknowledged to its sender; a larger id is forwarded to
//! the successor, a smaller one swallowed; its own id coming home wins.

use super::messages::{RingEvent, RingMessage, RingTimer, SentKind};
use super::params::RingParams;
use super::RingElection;
use crate::cluster::Service;
use crate::election::Ids;
use crate::testkit::{Effect, EffectOf, ServerHarness};
use sim_core::{NodeId, SimDuration};
use std::sync::Arc;

fn started(params: RingParams) -> (ServerHarness, RingElection) {
    let params = RingParams {
        ids: Ids::Increasing,
        uids: vec![1, 2, 3],
        ..params
    };
    let mut server = ServerHarness::new(NodeId(1), 3, 1);
    let mut ring = RingElection::new(Arc::new(params));
    let booted = server.call(|ctx| ring.on_start(ctx));
    // Booting starts epoch 1 and sends its own id to the successor, n3.
    assert_eq!(
        booted.sends(),
        [(
            NodeId(2),
            &RingMessage::Election {
                uid: 2,
                origin: NodeId(1),
                epoch: 1,
                hop: 0
            }
        )]
    );
    (server, ring)
}

fn election(uid: u64, origin: u32, hop: u64) -> RingMessage {
    RingMessage::Election {
        uid,
        origin: NodeId(origin),
        epoch: 1,
        hop,
    }
}

fn ack(hop: u64) -> [EffectOf<RingElection>; 2] {
    [
        Effect::Emit(RingEvent::Sent {
            kind: SentKind::Ack,
            epoch: 1,
        }),
        Effect::Send {
            to: NodeId(0),
            message: RingMessage::HopAck { hop },
        },
    ]
}

#[test]
fn a_larger_id_is_acknowledged_and_forwarded_to_the_successor_with_a_hop_timer() {
    let (mut server, mut ring) = started(RingParams::default());
    let handled = server.call(|ctx| ring.on_message(ctx, NodeId(0), election(3, 2, 9)));
    let mut expected = ack(9).to_vec();
    expected.push(Effect::Emit(RingEvent::Sent {
        kind: SentKind::Election,
        epoch: 1,
    }));
    expected.push(Effect::Send {
        to: NodeId(2),
        message: election(3, 2, 1),
    });
    assert_eq!(handled.effects[..4], expected[..]);
    assert!(matches!(
        handled.effects[4..],
        [Effect::SetTimer { after, timer: RingTimer::Hop(1), .. }] if after == SimDuration::from_millis(50)
    ));
}

#[test]
fn a_smaller_id_is_acknowledged_and_swallowed() {
    let (mut server, mut ring) = started(RingParams::default());
    let handled = server.call(|ctx| ring.on_message(ctx, NodeId(0), election(1, 0, 9)));
    assert_eq!(handled.effects, ack(9));
}

#[test]
fn its_own_id_coming_home_makes_it_leader_and_it_announces_itself() {
    let (mut server, mut ring) = started(RingParams::default());
    let handled = server.call(|ctx| ring.on_message(ctx, NodeId(0), election(2, 1, 9)));
    assert_eq!(handled.effects[..2], ack(9));
    assert_eq!(
        handled.effects[2],
        Effect::Emit(RingEvent::BecameLeader { epoch: 1, uid: 2 })
    );
    let sends = handled.sends();
    assert_eq!(
        sends[1],
        (
            NodeId(2),
            &RingMessage::Elected {
                uid: 2,
                leader: NodeId(1),
                epoch: 1,
                hop: 1
            }
        )
    );
    // Then a heartbeat to every peer.
    assert_eq!(
        sends[2..],
        [
            (NodeId(0), &RingMessage::Alive { uid: 2, epoch: 1 }),
            (NodeId(2), &RingMessage::Alive { uid: 2, epoch: 1 })
        ]
    );
}

#[test]
fn bug_switch_forward_smaller_ids_forwards_what_it_should_swallow() {
    let (mut server, mut ring) = started(RingParams {
        forward_smaller_ids: true,
        ..RingParams::default()
    });
    let handled = server.call(|ctx| ring.on_message(ctx, NodeId(0), election(1, 0, 9)));
    assert_eq!(
        handled.sends(),
        [
            (NodeId(0), &RingMessage::HopAck { hop: 9 }),
            (NodeId(2), &election(1, 0, 1))
        ]
    );
}

/// Regression (found by the swarm: one-leader-per-epoch on a ring of two
/// with crashes only). Postmortem: n1 led epoch 1 and crashed; n2, which
/// had forwarded n1's election, crashed and restarted knowing no epoch, and
/// elected itself in epoch 1 again. A server now keeps the epoch it
/// entered on its storage and resumes from it: its next election is of
/// epoch 2.
#[test]
fn a_restarted_server_resumes_from_the_epoch_it_had_entered() {
    let (mut server, _ring) = started(RingParams::default());
    assert!(server.storage().get("ring/epoch").is_some());
    let params = RingParams {
        ids: Ids::Increasing,
        uids: vec![1, 2, 3],
        ..RingParams::default()
    };
    let mut restarted = RingElection::new(Arc::new(params));
    server.call(|ctx| restarted.on_recover(ctx));
    assert_eq!(restarted.epoch, 1);
    // No leader answers the Hello: it elects, in epoch 2.
    server.advance(SimDuration::from_secs(1));
    let elected =
        server.call(|ctx| restarted.on_timer(ctx, sim_core::TimerId(0), RingTimer::LeaderSilent));
    assert!(
        elected
            .events()
            .contains(&&RingEvent::ElectionStarted { epoch: 2 }),
        "{:?}",
        elected.events()
    );
}
