//! A step service's handler under orchestration (this is the inventory,
//! n2): a step is applied once, durably, and answered; a retried command
//! gets the remembered answer and applies nothing; the bug switch
//! `no_dedup` applies it again.

use super::messages::{Order, SagaEvent, SagaMessage, Step};
use super::params::SagaParams;
use super::Saga;
use crate::cluster::Service;
use crate::testkit::{Effect, ServerHarness};
use sim_core::NodeId;
use std::sync::Arc;

const ORCHESTRATOR: NodeId = NodeId(0);
const ORDER: Order = Order {
    customer: 0,
    item: 1,
    quantity: 3,
};

fn inventory(params: SagaParams) -> (ServerHarness, Saga) {
    let params = SagaParams { items: 2, ..params };
    let mut server = ServerHarness::new(NodeId(1), 4, 1);
    let mut saga = Saga::new(Arc::new(params));
    server.call(|ctx| saga.on_start(ctx));
    (server, saga)
}

fn reserve() -> SagaMessage {
    SagaMessage::Do {
        saga: 7,
        step: Step::Reserve,
        order: ORDER,
    }
}

fn done(ok: bool) -> [Effect<SagaMessage, super::messages::SagaTimer, SagaEvent>; 2] {
    [
        Effect::Emit(SagaEvent::Sent { saga: 7 }),
        Effect::Send {
            to: ORCHESTRATOR,
            message: SagaMessage::Done {
                saga: 7,
                step: Step::Reserve,
                ok,
            },
        },
    ]
}

#[test]
fn a_step_is_applied_durably_then_answered() {
    let (mut server, mut saga) = inventory(SagaParams::default());
    let handled = server.call(|ctx| saga.on_message(ctx, ORCHESTRATOR, reserve()));
    // The answer and the monitor's event wait for the record's sync (the
    // harness's disk completes it after the handler); the send is counted
    // when it is handed over.
    let [sent, answer] = done(true);
    let expected = vec![
        sent,
        Effect::Emit(SagaEvent::StepApplied {
            saga: 7,
            step: Step::Reserve,
        }),
        answer,
    ];
    assert_eq!(handled.effects, expected);
    assert!(handled.synced);
}

#[test]
fn a_retried_command_gets_the_remembered_answer_and_applies_nothing() {
    let (mut server, mut saga) = inventory(SagaParams::default());
    server.call(|ctx| saga.on_message(ctx, ORCHESTRATOR, reserve()));
    let again = server.call(|ctx| saga.on_message(ctx, ORCHESTRATOR, reserve()));
    assert_eq!(again.effects, done(true));
    assert!(again.stored.is_empty() && !again.synced);
}

#[test]
fn bug_switch_no_dedup_applies_a_retried_command_again() {
    let (mut server, mut saga) = inventory(SagaParams {
        no_dedup: true,
        ..SagaParams::default()
    });
    server.call(|ctx| saga.on_message(ctx, ORCHESTRATOR, reserve()));
    let again = server.call(|ctx| saga.on_message(ctx, ORCHESTRATOR, reserve()));
    assert_eq!(
        again.events()[1],
        &SagaEvent::StepApplied {
            saga: 7,
            step: Step::Reserve
        }
    );
}
