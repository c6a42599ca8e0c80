//! A lock client's handlers: one critical section from acquire to
//! release, a fenced read that ends it, Redlock's validity rule with and
//! without its bug switch, failover to the standby, and a late grant
//! handed back.

use super::messages::{LockEvent, LockMessage, LockTimer, Refusal};
use super::params::{Design, LockParams};
use super::Lock;
use super::LockClient;
use crate::cluster::Service;
use crate::testkit::{Effect, EffectOf, Handled, ServerHarness};
use sim_core::{NodeId, SimDuration, TimerId};
use std::sync::Arc;

const FIRST: u64 = 1 << 32 | 1;
const TTL: SimDuration = SimDuration::from_millis(500);

/// The client after its first `Think`: it has asked for the lock.
fn asking(params: LockParams) -> (ServerHarness, Lock, Handled<Lock, ()>) {
    let me = params.resource() + 1;
    let mut harness = ServerHarness::new(NodeId(me), me + 2, 1);
    let mut lock = Lock::Client(LockClient::new(Arc::new(params)));
    let started = harness.call(|ctx| lock.on_start(ctx));
    assert_eq!(started.stored, ["client/incarnation"]);
    assert!(matches!(
        started.effects[..],
        [Effect::SetTimer {
            timer: LockTimer::Think,
            ..
        }]
    ));
    let asked = harness.call(|ctx| lock.on_timer(ctx, TimerId(1), LockTimer::Think));
    (harness, lock, asked)
}

/// The timers a handler set, in order.
fn timers(handled: &Handled<Lock, ()>) -> Vec<(SimDuration, LockTimer)> {
    handled
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::SetTimer { after, timer, .. } => Some((*after, timer.clone())),
            _ => None,
        })
        .collect()
}

/// The one timer a handler set.
fn timer(handled: &Handled<Lock, ()>) -> (SimDuration, LockTimer) {
    let timers = timers(handled);
    assert_eq!(timers.len(), 1, "{:?}", handled.effects);
    timers[0].clone()
}

fn without_timers(handled: &Handled<Lock, ()>) -> Vec<EffectOf<Lock>> {
    handled
        .effects
        .iter()
        .filter(|e| !matches!(e, Effect::SetTimer { .. }))
        .cloned()
        .collect()
}

/// A client's request for the lock under `attempt`.
fn acquire(attempt: u64) -> LockMessage {
    LockMessage::Acquire { attempt, ttl: TTL }
}

fn send(to: u32, message: LockMessage) -> EffectOf<Lock> {
    Effect::Send {
        to: NodeId(to),
        message,
    }
}

#[test]
fn one_critical_section_acquires_reads_works_writes_the_value_plus_one_and_releases() {
    let (mut harness, mut lock, asked) = asking(LockParams::default());
    assert_eq!(
        without_timers(&asked),
        [
            Effect::Emit(LockEvent::AcquireStarted),
            send(0, acquire(FIRST)),
        ]
    );
    let granted = LockMessage::Granted {
        attempt: FIRST,
        token: 4,
    };
    let entered = harness.call(|ctx| lock.on_message(ctx, NodeId(0), granted));
    assert_eq!(
        without_timers(&entered),
        [
            Effect::Emit(LockEvent::Acquired {
                attempt: FIRST,
                token: 4
            }),
            send(
                1,
                LockMessage::Access {
                    attempt: FIRST,
                    token: 4,
                    write: None
                }
            ),
        ]
    );
    assert_eq!(lock.leader_term(), Some(4), "\"@leader\" names the holder");
    let read = LockMessage::AccessDone {
        attempt: FIRST,
        write: false,
        accepted: true,
        value: 41,
    };
    let working = harness.call(|ctx| lock.on_message(ctx, NodeId(1), read));
    let (work, done) = timer(&working);
    assert!(
        (20..=80).contains(&(work.as_nanos() / 1_000_000)),
        "{work:?}"
    );
    let writing = harness.call(|ctx| lock.on_timer(ctx, TimerId(3), done));
    assert_eq!(
        without_timers(&writing),
        [send(
            1,
            LockMessage::Access {
                attempt: FIRST,
                token: 4,
                write: Some(42)
            }
        )]
    );
    let written = LockMessage::AccessDone {
        attempt: FIRST,
        write: true,
        accepted: true,
        value: 42,
    };
    let released = harness.call(|ctx| lock.on_message(ctx, NodeId(1), written));
    assert_eq!(
        without_timers(&released),
        [
            send(0, LockMessage::Release { attempt: FIRST }),
            Effect::Emit(LockEvent::Released { attempt: FIRST }),
        ]
    );
    assert_eq!(timer(&released).1, LockTimer::Think);
    assert_eq!(lock.leader_term(), None);
}

#[test]
fn a_fenced_read_ends_the_critical_section_without_a_write() {
    let (mut harness, mut lock, _) = asking(LockParams::default());
    let granted = LockMessage::Granted {
        attempt: FIRST,
        token: 4,
    };
    harness.call(|ctx| lock.on_message(ctx, NodeId(0), granted));
    let fenced = LockMessage::AccessDone {
        attempt: FIRST,
        write: false,
        accepted: false,
        value: 0,
    };
    let ended = harness.call(|ctx| lock.on_message(ctx, NodeId(1), fenced));
    assert_eq!(
        without_timers(&ended),
        [
            send(0, LockMessage::Release { attempt: FIRST }),
            Effect::Emit(LockEvent::Released { attempt: FIRST }),
        ]
    );
}

fn redlock(bug: bool) -> LockParams {
    LockParams {
        design: Design::Redlock,
        instances: 3,
        redlock_ignore_elapsed: bug,
        ..LockParams::default()
    }
}

/// Redlock over three instances: n0 grants, n1 refuses after `slow`,
/// n2 grants; returns what the client did on the last answer.
fn redlock_round(bug: bool, slow: SimDuration) -> Handled<Lock, ()> {
    let (mut harness, mut lock, asked) = asking(redlock(bug));
    assert_eq!(without_timers(&asked)[1], send(0, acquire(FIRST)));
    let grant = |token| LockMessage::Granted {
        attempt: FIRST,
        token,
    };
    let next = harness.call(|ctx| lock.on_message(ctx, NodeId(0), grant(3)));
    assert_eq!(
        without_timers(&next),
        [send(1, acquire(FIRST))],
        "instances are asked one after another"
    );
    harness.advance(slow);
    let refused = LockMessage::Refused {
        attempt: FIRST,
        why: Refusal::Held,
    };
    harness.call(|ctx| lock.on_message(ctx, NodeId(1), refused));
    harness.call(|ctx| lock.on_message(ctx, NodeId(2), grant(8)))
}

#[test]
fn redlock_holds_a_majority_granted_within_the_validity_under_the_largest_token() {
    let judged = redlock_round(false, SimDuration::from_millis(10));
    assert_eq!(
        without_timers(&judged),
        [
            Effect::Emit(LockEvent::Acquired {
                attempt: FIRST,
                token: 8
            }),
            send(
                3,
                LockMessage::Access {
                    attempt: FIRST,
                    token: 8,
                    write: None
                }
            ),
        ]
    );
}

#[test]
fn redlock_counts_the_acquisition_time_against_the_ttl_unless_the_bug_is_on() {
    // 500 ms spent: the validity (500 − 500 − 7 ms) is gone. Release
    // everywhere and try again later.
    let late = redlock_round(false, TTL);
    assert_eq!(
        without_timers(&late),
        [
            send(0, LockMessage::Release { attempt: FIRST }),
            send(1, LockMessage::Release { attempt: FIRST }),
            send(2, LockMessage::Release { attempt: FIRST }),
        ]
    );
    assert!(matches!(timer(&late).1, LockTimer::Retry(_)));
    // The bug counts the validity from now: 493 ms, enough to enter.
    let buggy = redlock_round(true, TTL);
    assert!(
        buggy.events().contains(&&LockEvent::Acquired {
            attempt: FIRST,
            token: 8
        }),
        "{:?}",
        buggy.effects
    );
}

#[test]
fn a_single_nodes_client_turns_to_the_standby_when_told_and_hands_back_a_late_grant() {
    let params = LockParams {
        standby: true,
        ..LockParams::default()
    };
    let (mut harness, mut lock, _) = asking(params);
    let not_primary = LockMessage::Refused {
        attempt: FIRST,
        why: Refusal::NotPrimary,
    };
    let waiting = harness.call(|ctx| lock.on_message(ctx, NodeId(0), not_primary));
    let retry = timer(&waiting).1;
    assert!(matches!(retry, LockTimer::Retry(_)));
    let retried = harness.call(|ctx| lock.on_timer(ctx, TimerId(5), retry));
    let second = 1 << 32 | 2;
    assert_eq!(without_timers(&retried), [send(1, acquire(second))]);
    let stale = LockMessage::Granted {
        attempt: FIRST,
        token: 2,
    };
    let handed_back = harness.call(|ctx| lock.on_message(ctx, NodeId(0), stale));
    assert_eq!(
        without_timers(&handed_back),
        [send(0, LockMessage::Release { attempt: FIRST })]
    );
}

#[test]
fn a_retry_timer_outlived_by_a_late_grant_does_nothing() {
    let (mut harness, mut lock, _) = asking(LockParams::default());
    let held = LockMessage::Refused {
        attempt: FIRST,
        why: Refusal::Held,
    };
    let waiting = harness.call(|ctx| lock.on_message(ctx, NodeId(0), held));
    let retry = timer(&waiting).1;
    // The grant of the same try arrives after all (a duplicate answered
    // after the refusal): the client enters.
    let granted = LockMessage::Granted {
        attempt: FIRST,
        token: 1,
    };
    harness.call(|ctx| lock.on_message(ctx, NodeId(0), granted));
    assert_eq!(lock.leader_term(), Some(1));
    let stale = harness.call(|ctx| lock.on_timer(ctx, TimerId(5), retry));
    assert!(stale.effects.is_empty(), "{:?}", stale.effects);
    assert_eq!(lock.leader_term(), Some(1));
}

/// Consensus: a follower's refusal names the leader, which the client
/// asks at once; a refusal without a name, or silence, moves it to the
/// next server of the group, after a retry delay.
#[test]
fn a_consensus_client_asks_the_named_leader_at_once_and_else_the_next_server() {
    let params = LockParams {
        design: Design::Consensus,
        instances: 3,
        ..LockParams::default()
    };
    let (mut harness, mut lock, _) = asking(params);
    let named = LockMessage::Refused {
        attempt: FIRST,
        why: Refusal::NotLeader { hint: Some(2) },
    };
    let redirected = harness.call(|ctx| lock.on_message(ctx, NodeId(0), named));
    let second = 1 << 32 | 2;
    assert_eq!(without_timers(&redirected), [send(2, acquire(second))]);
    assert!(matches!(timer(&redirected).1, LockTimer::RequestTimeout(_)));
    let unnamed = LockMessage::Refused {
        attempt: second,
        why: Refusal::NotLeader { hint: None },
    };
    let waiting = harness.call(|ctx| lock.on_message(ctx, NodeId(2), unnamed));
    assert!(without_timers(&waiting).is_empty());
    let retry = timer(&waiting).1;
    assert!(matches!(retry, LockTimer::Retry(_)));
    let retried = harness.call(|ctx| lock.on_timer(ctx, TimerId(9), retry));
    assert_eq!(
        without_timers(&retried),
        [send(0, acquire(1 << 32 | 3))],
        "after server 2 (id), the group wraps to server 0"
    );
}

/// A second copy of the grant a client holds (the network duplicates) is
/// the same grant: handing it back would free the lock under the holder.
/// A grant of the same attempt from a Redlock instance it has not counted
/// is a late one, and goes back.
#[test]
fn a_copy_of_a_counted_grant_is_ignored_and_a_late_one_is_handed_back() {
    let (mut harness, mut lock, _) = asking(LockParams::default());
    let granted = LockMessage::Granted {
        attempt: FIRST,
        token: 4,
    };
    harness.call(|ctx| lock.on_message(ctx, NodeId(0), granted.clone()));
    let copy = harness.call(|ctx| lock.on_message(ctx, NodeId(0), granted));
    assert!(copy.effects.is_empty(), "{:?}", copy.effects);
    let Lock::Client(client) = &lock else {
        unreachable!()
    };
    assert_eq!(client.holding(), Some(4));

    let (mut harness, mut lock, _) = asking(redlock(false));
    let from = |server: u32| LockMessage::Granted {
        attempt: FIRST,
        token: u64::from(server) + 1,
    };
    harness.call(|ctx| lock.on_message(ctx, NodeId(0), from(0)));
    let copy = harness.call(|ctx| lock.on_message(ctx, NodeId(0), from(0)));
    assert!(
        copy.effects.is_empty(),
        "counted already: {:?}",
        copy.effects
    );
    let late = harness.call(|ctx| lock.on_message(ctx, NodeId(3), from(3)));
    assert_eq!(
        without_timers(&late),
        [send(3, LockMessage::Release { attempt: FIRST })],
        "instance 3 was not asked yet: its grant is not this round's"
    );
}

/// 900 ms of work under the default 500 ms TTL, renewed every
/// `renew_ms` if given.
fn long_work(renew_ms: Option<u64>) -> LockParams {
    LockParams {
        work_min: sim_core::Dur::ms(900),
        work_max: sim_core::Dur::ms(900),
        renew_interval: renew_ms.map(sim_core::Dur::ms),
        ..LockParams::default()
    }
}

/// The grant of the client's first attempt, under token 4.
fn first_grant() -> LockMessage {
    LockMessage::Granted {
        attempt: FIRST,
        token: 4,
    }
}

/// Renewing: a section whose work outlasts the TTL enters once its
/// validity covers one renewal interval; while it works it asks the
/// server that granted it again, as the same owner, every interval, and
/// the renewals stop when the work is done.
#[test]
fn a_renewing_holder_enters_for_long_work_and_asks_again_every_interval() {
    let (mut harness, mut lock, _) = asking(long_work(Some(150)));
    let entered = harness.call(|ctx| lock.on_message(ctx, NodeId(0), first_grant()));
    assert!(
        entered.effects.contains(&Effect::Emit(LockEvent::Acquired {
            attempt: FIRST,
            token: 4
        })),
        "900 ms of work under a 500 ms TTL: renewing, it enters"
    );
    let read = LockMessage::AccessDone {
        attempt: FIRST,
        write: false,
        accepted: true,
        value: 41,
    };
    let working = harness.call(|ctx| lock.on_message(ctx, NodeId(1), read));
    let timers = timers(&working);
    assert_eq!(timers.len(), 2, "{timers:?}");
    let (work, done) = timers[0].clone();
    assert_eq!(work, SimDuration::from_millis(900));
    let (every, renew) = timers[1].clone();
    assert_eq!(every, SimDuration::from_millis(150));
    assert!(matches!(renew, LockTimer::Renew(_)));
    let renewed = harness.call(|ctx| lock.on_timer(ctx, TimerId(9), renew.clone()));
    assert_eq!(without_timers(&renewed), [send(0, acquire(FIRST))]);
    assert_eq!(timer(&renewed), (every, renew.clone()));
    let answered = harness.call(|ctx| lock.on_message(ctx, NodeId(0), first_grant()));
    assert!(
        answered.effects.is_empty(),
        "the renewal's answer is the same grant"
    );
    harness.call(|ctx| lock.on_timer(ctx, TimerId(3), done));
    let late = harness.call(|ctx| lock.on_timer(ctx, TimerId(10), renew));
    assert!(late.effects.is_empty(), "no renewal once the work is done");
}

#[test]
fn without_renewal_work_longer_than_the_validity_does_not_enter() {
    let (mut harness, mut lock, _) = asking(long_work(None));
    let refused = harness.call(|ctx| lock.on_message(ctx, NodeId(0), first_grant()));
    assert_eq!(
        without_timers(&refused),
        [
            Effect::Emit(LockEvent::TooLittleValidity),
            send(0, LockMessage::Release { attempt: FIRST }),
        ]
    );
}
