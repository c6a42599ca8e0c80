//! The saga orchestrator's handlers (n1; inventory n2, payment n3,
//! shipping n4; one client): an order runs its steps forward one at a
//! time, each logged before the next command goes out, and is answered
//! when it ends; a refused step turns it back, compensating what ran, last
//! first; late answers are ignored; the bug switch `skip_refund` leaves the
//! payment uncompensated.

use super::messages::{SagaEvent, SagaMessage, Step};
use super::params::SagaParams;
use super::Saga;
use crate::client::{ClientReply, ClientRequest, Token};
use crate::cluster::Service;
use crate::kv::{KvOp, KvResult};
use crate::testkit::ServerHarness;
use sim_core::NodeId;
use std::sync::Arc;

const CLIENT: NodeId = NodeId(4);

fn orchestrator(params: SagaParams) -> (ServerHarness, Saga) {
    let params = SagaParams { items: 2, ..params };
    let mut server = ServerHarness::with_clients(NodeId(0), 4, 1, 1);
    let mut saga = Saga::new(Arc::new(params));
    server.call(|ctx| saga.on_start(ctx));
    (server, saga)
}

fn order() -> ClientRequest {
    ClientRequest {
        client: 0,
        seq: 1,
        attempt: 1,
        op: KvOp::Order {
            item: "k1".into(),
            quantity: 3,
        },
        token: Token::default(),
    }
}

/// The one command `handled` sent: (to, saga, step, forward?).
fn command(sends: &[(NodeId, &SagaMessage)]) -> (NodeId, u64, Step, bool) {
    let commands: Vec<(NodeId, u64, Step, bool)> = sends
        .iter()
        .filter_map(|(to, m)| match m {
            SagaMessage::Do { saga, step, .. } => Some((*to, *saga, *step, true)),
            SagaMessage::Undo { saga, step, .. } => Some((*to, *saga, *step, false)),
            _ => None,
        })
        .collect();
    assert_eq!(commands.len(), 1, "{sends:?}");
    commands[0]
}

/// Places the order; returns its saga id, checking the first command.
fn place(server: &mut ServerHarness, saga: &mut Saga) -> u64 {
    let handled = server.call(|ctx| saga.on_client_request(ctx, CLIENT, order()));
    assert!(handled.replies().is_empty());
    let (to, id, step, forward) = command(&handled.sends());
    assert_eq!(
        (to, step, forward),
        (Step::Reserve.service(), Step::Reserve, true)
    );
    id
}

fn done(id: u64, step: Step, ok: bool) -> SagaMessage {
    SagaMessage::Done { saga: id, step, ok }
}

fn undone(id: u64, step: Step) -> SagaMessage {
    SagaMessage::Undone { saga: id, step }
}

/// An order whose reservation and charge succeed and whose shipping is
/// refused: the harness, the saga, its id and the first command of its
/// turning back.
fn refused_at_ship(params: SagaParams) -> (ServerHarness, Saga, u64, (NodeId, u64, Step, bool)) {
    let (mut server, mut saga) = orchestrator(params);
    let id = place(&mut server, &mut saga);
    for step in [Step::Reserve, Step::Charge] {
        server.call(|ctx| saga.on_message(ctx, step.service(), done(id, step, true)));
    }
    let refused =
        server.call(|ctx| saga.on_message(ctx, Step::Ship.service(), done(id, Step::Ship, false)));
    let first = command(&refused.sends());
    (server, saga, id, first)
}

#[test]
fn an_order_runs_its_steps_in_turn_each_logged_and_is_answered_at_the_end() {
    let (mut server, mut saga) = orchestrator(SagaParams::default());
    let id = place(&mut server, &mut saga);
    for (step, next) in [(Step::Reserve, Step::Charge), (Step::Charge, Step::Ship)] {
        let handled = server.call(|ctx| saga.on_message(ctx, step.service(), done(id, step, true)));
        assert!(handled.synced, "{step:?}'s success is durable first");
        assert_eq!(command(&handled.sends()), (next.service(), id, next, true));
        assert!(handled.replies().is_empty());
    }
    let end =
        server.call(|ctx| saga.on_message(ctx, Step::Ship.service(), done(id, Step::Ship, true)));
    assert!(end.synced);
    assert_eq!(end.replies(), [&ClientReply::Result(KvResult::Done)]);
    assert!(end.events().iter().any(|e| matches!(
        e,
        SagaEvent::Ended {
            completed: true,
            ..
        }
    )));
    // The client's retry is answered the same, and nothing is sent again.
    let mut retry = order();
    retry.attempt = 2;
    let again = server.call(|ctx| saga.on_client_request(ctx, CLIENT, retry));
    assert_eq!(again.replies(), [&ClientReply::Result(KvResult::Done)]);
    assert!(again.sends().is_empty());
}

#[test]
fn a_refused_step_compensates_what_ran_last_first_and_aborts() {
    let (mut server, mut saga, id, refused) = refused_at_ship(SagaParams::default());
    assert_eq!(
        refused,
        (Step::Charge.service(), id, Step::Charge, false),
        "the refund first"
    );
    // A late, duplicated success of the reservation changes nothing.
    let late = server
        .call(|ctx| saga.on_message(ctx, Step::Reserve.service(), done(id, Step::Reserve, true)));
    assert!(late.sends().is_empty() && late.replies().is_empty());
    let refunded =
        server.call(|ctx| saga.on_message(ctx, Step::Charge.service(), undone(id, Step::Charge)));
    assert_eq!(
        command(&refunded.sends()),
        (Step::Reserve.service(), id, Step::Reserve, false)
    );
    let restocked =
        server.call(|ctx| saga.on_message(ctx, Step::Reserve.service(), undone(id, Step::Reserve)));
    assert_eq!(
        restocked.replies(),
        [&ClientReply::Result(KvResult::Aborted)]
    );
}

#[test]
fn with_skip_refund_a_failed_saga_leaves_the_payment_in_place() {
    let params = SagaParams {
        skip_refund: true,
        ..SagaParams::default()
    };
    let (_, _, id, refused) = refused_at_ship(params);
    assert_eq!(
        refused,
        (Step::Reserve.service(), id, Step::Reserve, false),
        "the refund is skipped"
    );
}
