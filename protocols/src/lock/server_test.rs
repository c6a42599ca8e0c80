//! A lock server's handlers: grants are durable before they are answered,
//! a standby refuses and takes over after silence, releases compare the
//! owner, and a restarted server remembers its holder.

use super::messages::{LockEvent, LockMessage, LockState, LockTimer, Refusal};
use super::params::LockParams;
use super::server::LockServer;
use super::Lock;
use crate::cluster::Service;
use crate::testkit::{Effect, ServerHarness};
use sim_core::{LocalTime, NodeId, SimDuration};
use std::sync::Arc;

const TTL: SimDuration = SimDuration::from_millis(500);

fn acquire(attempt: u64) -> LockMessage {
    LockMessage::Acquire { attempt, ttl: TTL }
}

/// Server `id` of a run with these params (4 nodes, or 5 with a standby).
fn server(id: u32, params: LockParams) -> (ServerHarness, Lock) {
    let nodes = params.lock_servers() + 3;
    let mut harness = ServerHarness::new(NodeId(id), nodes, 1);
    let mut lock = Lock::Server(LockServer::new(Arc::new(params)));
    harness.call(|ctx| lock.on_start(ctx));
    (harness, lock)
}

fn state(lock: &Lock) -> &LockState {
    match lock {
        Lock::Server(server) => server.state(),
        _ => unreachable!(),
    }
}

#[test]
fn a_grant_is_written_and_synced_before_it_is_answered_and_a_second_client_is_refused() {
    let (mut harness, mut lock) = server(0, LockParams::default());
    let granted = harness.call(|ctx| lock.on_message(ctx, NodeId(2), acquire(7)));
    assert_eq!(granted.stored, ["lock/state"]);
    assert!(granted.synced);
    assert_eq!(
        granted.effects,
        [
            Effect::Emit(LockEvent::Granted {
                client: NodeId(2),
                token: 1,
                monotonic: true
            }),
            Effect::Send {
                to: NodeId(2),
                message: LockMessage::Granted {
                    attempt: 7,
                    token: 1
                }
            },
        ]
    );
    harness.advance(SimDuration::from_millis(100));
    let refused = harness.call(|ctx| lock.on_message(ctx, NodeId(3), acquire(1)));
    assert_eq!(
        refused.effects,
        [Effect::Send {
            to: NodeId(3),
            message: LockMessage::Refused {
                attempt: 1,
                why: Refusal::Held
            }
        }]
    );
    assert!(refused.stored.is_empty(), "a refusal changes nothing");
}

#[test]
fn a_repeated_acquire_of_the_same_owner_is_answered_again_without_a_new_grant_event() {
    let (mut harness, mut lock) = server(0, LockParams::default());
    harness.call(|ctx| lock.on_message(ctx, NodeId(2), acquire(7)));
    let again = harness.call(|ctx| lock.on_message(ctx, NodeId(2), acquire(7)));
    assert_eq!(
        again.effects,
        [Effect::Send {
            to: NodeId(2),
            message: LockMessage::Granted {
                attempt: 7,
                token: 1
            }
        }]
    );
}

#[test]
fn a_release_deletes_only_the_owners_grant_unless_the_bug_is_on() {
    let (mut harness, mut lock) = server(0, LockParams::default());
    harness.call(|ctx| lock.on_message(ctx, NodeId(2), acquire(7)));
    let stranger = LockMessage::Release { attempt: 7 };
    let ignored = harness.call(|ctx| lock.on_message(ctx, NodeId(3), stranger));
    assert!(ignored.stored.is_empty());
    assert!(state(&lock).holder.is_some());
    let owner = LockMessage::Release { attempt: 7 };
    let deleted = harness.call(|ctx| lock.on_message(ctx, NodeId(2), owner));
    assert_eq!(deleted.stored, ["lock/state"]);
    assert!(state(&lock).holder.is_none());

    let buggy = LockParams {
        release_without_owner_check: true,
        ..LockParams::default()
    };
    let (mut harness, mut lock) = server(0, buggy);
    harness.call(|ctx| lock.on_message(ctx, NodeId(2), acquire(7)));
    let stranger = LockMessage::Release { attempt: 1 };
    harness.call(|ctx| lock.on_message(ctx, NodeId(3), stranger));
    assert!(state(&lock).holder.is_none(), "anyone's release deletes");
}

#[test]
fn a_standby_refuses_takes_the_primarys_state_and_takes_over_after_silence() {
    let params = LockParams {
        standby: true,
        ..LockParams::default()
    };
    let (mut harness, mut lock) = server(1, params);
    let refused = harness.call(|ctx| lock.on_message(ctx, NodeId(3), acquire(1)));
    assert_eq!(
        refused.sends(),
        [(
            NodeId(3),
            &LockMessage::Refused {
                attempt: 1,
                why: Refusal::NotPrimary
            }
        )]
    );
    let replicated = LockState {
        holder: None,
        last_token: 5,
        epoch: 0,
    };
    let adopted = harness.call(|ctx| {
        lock.on_message(
            ctx,
            NodeId(0),
            LockMessage::Replicate {
                state: replicated.clone(),
            },
        )
    });
    assert_eq!(adopted.stored, ["lock/state"]);
    assert_eq!(state(&lock), &replicated);
    // A check within failover_after (300 ms) of the last word: no change.
    harness.advance(SimDuration::from_millis(200));
    let early =
        harness.call(|ctx| lock.on_timer(ctx, sim_core::TimerId(9), LockTimer::FailoverCheck));
    assert!(early.events().is_empty());
    harness.advance(SimDuration::from_millis(100));
    let promoted =
        harness.call(|ctx| lock.on_timer(ctx, sim_core::TimerId(9), LockTimer::FailoverCheck));
    assert_eq!(promoted.events(), [&LockEvent::Promoted { epoch: 1 }]);
    let granted = harness.call(|ctx| lock.on_message(ctx, NodeId(3), acquire(1)));
    assert_eq!(
        granted.sends(),
        [(
            NodeId(3),
            &LockMessage::Granted {
                attempt: 1,
                token: 6
            }
        )],
        "the promoted standby counts on from what it was told"
    );
}

#[test]
fn a_primary_steps_down_to_a_higher_epoch_and_ignores_a_lower_one() {
    let params = LockParams {
        standby: true,
        ..LockParams::default()
    };
    let (mut harness, mut lock) = server(0, params);
    let stale = LockState {
        epoch: 0,
        ..LockState::default()
    };
    harness.call(|ctx| lock.on_message(ctx, NodeId(1), LockMessage::Replicate { state: stale }));
    let Lock::Server(server0) = &lock else {
        unreachable!()
    };
    assert!(
        server0.is_primary(),
        "an equal epoch from a larger id is ignored"
    );
    let newer = LockState {
        epoch: 1,
        last_token: 9,
        holder: None,
    };
    harness.call(|ctx| lock.on_message(ctx, NodeId(1), LockMessage::Replicate { state: newer }));
    let Lock::Server(server0) = &lock else {
        unreachable!()
    };
    assert!(!server0.is_primary());
    assert_eq!(server0.state().last_token, 9);
}

#[test]
fn a_restarted_server_remembers_its_holder_and_counter() {
    let (mut harness, mut lock) = server(0, LockParams::default());
    harness.call(|ctx| lock.on_message(ctx, NodeId(2), acquire(7)));
    let mut restarted = Lock::Server(LockServer::new(Arc::new(LockParams::default())));
    harness.call(|ctx| restarted.on_recover(ctx));
    assert_eq!(state(&restarted), state(&lock));
    harness.set_now(LocalTime::from_nanos(600_000_000));
    let after_expiry = harness.call(|ctx| restarted.on_message(ctx, NodeId(3), acquire(1)));
    assert_eq!(
        after_expiry.sends(),
        [(
            NodeId(3),
            &LockMessage::Granted {
                attempt: 1,
                token: 2
            }
        )]
    );
}
