//! Bully's handlers on one server (ids 1, 2, 3 on n1, n2, n3; this is n2,
//! id 2): an election from a smaller id is answered and makes this server
//! stand against the larger ones; a larger coordinator is followed; the bug
//! switch declares without asking.

use super::messages::{BullyEvent, BullyMessage, BullyTimer, SentKind};
use super::params::{BullyParams, FirstElection};
use super::Bully;
use crate::cluster::Service;
use crate::election::Ids;
use crate::testkit::{Effect, EffectOf, ServerHarness};
use sim_core::{NodeId, SimDuration};
use std::sync::Arc;

/// n2 (id 2), booted without standing (only the lowest id stands first).
fn middle(params: BullyParams) -> (ServerHarness, Bully) {
    let params = BullyParams {
        ids: Ids::Increasing,
        uids: vec![1, 2, 3],
        first_election: FirstElection::Lowest,
        ..params
    };
    let mut server = ServerHarness::new(NodeId(1), 3, 1);
    let mut bully = Bully::new(Arc::new(params));
    let booted = server.call(|ctx| bully.on_start(ctx));
    assert_eq!(
        booted.effects[0],
        Effect::Emit(BullyEvent::Started { uid: 2 }),
        "{:?}",
        booted.effects
    );
    (server, bully)
}

fn sent(kind: SentKind, to: u32, message: BullyMessage) -> [EffectOf<Bully>; 2] {
    [
        Effect::Emit(BullyEvent::Sent { kind }),
        Effect::Send {
            to: NodeId(to),
            message,
        },
    ]
}

fn without_timer_ids(effects: Vec<EffectOf<Bully>>) -> Vec<EffectOf<Bully>> {
    effects
        .into_iter()
        .map(|e| match e {
            Effect::SetTimer { after, timer, .. } => Effect::SetTimer {
                id: sim_core::TimerId(0),
                after,
                timer,
            },
            other => other,
        })
        .collect()
}

#[test]
fn an_election_from_a_smaller_id_is_answered_and_this_server_asks_the_larger_ones() {
    let (mut server, mut bully) = middle(BullyParams::default());
    let handled = server
        .call(|ctx| bully.on_message(ctx, NodeId(0), BullyMessage::Election { uid: 1, round: 4 }));
    let mut expected = Vec::new();
    expected.extend(sent(
        SentKind::Answer,
        0,
        BullyMessage::Answer {
            round: 4,
            leader: false,
        },
    ));
    expected.push(Effect::Emit(BullyEvent::ElectionStarted));
    expected.extend(sent(
        SentKind::Election,
        2,
        BullyMessage::Election { uid: 2, round: 1 },
    ));
    expected.push(Effect::SetTimer {
        id: sim_core::TimerId(0),
        after: SimDuration::from_millis(50),
        timer: BullyTimer::NoAnswer(1),
    });
    assert_eq!(without_timer_ids(handled.effects), expected);
}

#[test]
fn a_coordinator_with_a_larger_id_is_followed_and_watched() {
    let (mut server, mut bully) = middle(BullyParams::default());
    let handled =
        server.call(|ctx| bully.on_message(ctx, NodeId(2), BullyMessage::Coordinator { uid: 3 }));
    assert_eq!(
        without_timer_ids(handled.effects),
        [
            Effect::Emit(BullyEvent::LearnedLeader { uid: 3 }),
            Effect::SetTimer {
                id: sim_core::TimerId(0),
                after: SimDuration::from_millis(200),
                timer: BullyTimer::LeaderSilent
            }
        ]
    );
}

#[test]
fn a_coordinator_with_a_smaller_id_makes_this_server_stand() {
    let (mut server, mut bully) = middle(BullyParams::default());
    let handled =
        server.call(|ctx| bully.on_message(ctx, NodeId(0), BullyMessage::Coordinator { uid: 1 }));
    assert_eq!(
        handled.effects[0],
        Effect::Emit(BullyEvent::ElectionStarted)
    );
    assert_eq!(
        handled.sends(),
        [(NodeId(2), &BullyMessage::Election { uid: 2, round: 1 })]
    );
}

#[test]
fn bug_switch_declare_without_election_leads_at_once_and_tells_the_smaller_ids() {
    let (mut server, mut bully) = middle(BullyParams {
        declare_without_election: true,
        ..BullyParams::default()
    });
    let handled = server
        .call(|ctx| bully.on_message(ctx, NodeId(0), BullyMessage::Election { uid: 1, round: 4 }));
    let mut expected = Vec::new();
    expected.extend(sent(
        SentKind::Answer,
        0,
        BullyMessage::Answer {
            round: 4,
            leader: false,
        },
    ));
    expected.push(Effect::Emit(BullyEvent::ElectionStarted));
    expected.push(Effect::Emit(BullyEvent::BecameLeader { uid: 2 }));
    expected.extend(sent(
        SentKind::Coordinator,
        0,
        BullyMessage::Coordinator { uid: 2 },
    ));
    expected.push(Effect::SetTimer {
        id: sim_core::TimerId(0),
        after: SimDuration::from_millis(50),
        timer: BullyTimer::Heartbeat,
    });
    assert_eq!(without_timer_ids(handled.effects), expected);
}
