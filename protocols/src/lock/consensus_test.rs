//! A Consensus lock server's handlers: a follower refuses with the leader
//! it knows of, the leader answers an acquire only once its entry is
//! committed and applied (one entry to each follower, the token its log
//! index), it expires a lease by proposing `Expire` after the TTL and the
//! drift allowance, and a new leader restarts the full lease unless the
//! bug switch reads the old leader's expiry on its own clock.

use super::messages::{LockCommand, LockEvent, LockMessage, LockTimer, Refusal};
use super::params::{Design, LockParams};
use super::{ConsensusServer, Lock};
use crate::cluster::Service;
use crate::raft::messages::{
    AppendEntries, AppendReply, Command, LogEntry, RaftMessage, RaftTimer,
};
use crate::raft::params::RaftParams;
use crate::testkit::{Effect, EffectOf, ServerHarness};
use sim_core::{LocalTime, NodeId, SimDuration, TimerId};
use std::sync::Arc;

const CLIENT: NodeId = NodeId(4);
const OTHER: NodeId = NodeId(5);

/// Three lock servers, n1 (id 0) leading from the start, the resource
/// (id 3) and two clients (ids 4 and 5).
fn params(bug: bool) -> LockParams {
    LockParams {
        design: Design::Consensus,
        instances: 3,
        raft: RaftParams {
            pre_vote: false,
            check_quorum: false,
            initial_leader: Some(0),
            ..RaftParams::default()
        },
        lease_expiry_on_follower_clock: bug,
        ..LockParams::default()
    }
}

fn server(id: u32, params: LockParams) -> (ServerHarness, Lock) {
    let mut harness = ServerHarness::new(NodeId(id), 6, 1);
    let mut lock = Lock::Consensus(Box::new(ConsensusServer::new(Arc::new(params))));
    harness.call(|ctx| lock.on_start(ctx));
    (harness, lock)
}

fn acquire(attempt: u64) -> LockMessage {
    LockMessage::Acquire {
        attempt,
        ttl: LockParams::default().ttl.0,
    }
}

/// The lock messages sent (Raft's apart), by destination.
fn lock_sends(effects: &[EffectOf<Lock>]) -> Vec<(NodeId, LockMessage)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, message } if !matches!(message, LockMessage::Raft(_)) => {
                Some((*to, message.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The AppendEntries sent, with their entries' commands.
fn appends(effects: &[EffectOf<Lock>]) -> Vec<(NodeId, Vec<Command<LockCommand>>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send {
                to,
                message: LockMessage::Raft(RaftMessage::AppendEntries(a)),
            } => Some((*to, a.entries.iter().map(|e| e.command.clone()).collect())),
            _ => None,
        })
        .collect()
}

/// The lease timers set: (id, token, after).
fn lease_timers(effects: &[EffectOf<Lock>]) -> Vec<(TimerId, u64, SimDuration)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::SetTimer {
                id,
                after,
                timer: LockTimer::LeaseExpiry(token),
            } => Some((*id, *token, *after)),
            _ => None,
        })
        .collect()
}

/// Both followers acknowledge the leader's log up to `index`; the effects
/// of the second acknowledgement, which commits it.
fn acknowledge(harness: &mut ServerHarness, lock: &mut Lock, index: u64) -> Vec<EffectOf<Lock>> {
    let reply = LockMessage::Raft(RaftMessage::AppendReply(AppendReply {
        term: 1,
        success: true,
        match_index: index,
        conflict: None,
        round: 0,
    }));
    let first = harness.call(|ctx| lock.on_message(ctx, NodeId(1), reply.clone()));
    assert!(
        lock_sends(&first.effects).is_empty(),
        "one follower and an undurable leader copy are no majority"
    );
    harness
        .call(|ctx| lock.on_message(ctx, NodeId(2), reply))
        .effects
}

/// The other client asks and, once both followers have the entry at
/// `index`, holds the lock under that token.
fn other_is_granted_at(harness: &mut ServerHarness, lock: &mut Lock, index: u64) {
    harness.call(|ctx| lock.on_message(ctx, OTHER, acquire(1)));
    let granted = acknowledge(harness, lock, index);
    assert_eq!(
        lock_sends(&granted),
        [(
            OTHER,
            LockMessage::Granted {
                attempt: 1,
                token: index
            }
        )]
    );
}

#[test]
fn the_leader_answers_an_acquire_once_committed_with_the_log_index_as_token() {
    let (mut harness, mut lock) = server(0, params(false));
    let proposed = harness.call(|ctx| lock.on_message(ctx, CLIENT, acquire(7)));
    let entry = Command::Client(LockCommand::Acquire {
        client: CLIENT.0,
        attempt: 7,
        expires_at: LocalTime::from_nanos(500_000_000),
    });
    assert_eq!(
        appends(&proposed.effects),
        [(NodeId(1), vec![entry.clone()]), (NodeId(2), vec![entry])],
        "one entry to each follower"
    );
    assert!(lock_sends(&proposed.effects).is_empty(), "not answered yet");
    let committed = acknowledge(&mut harness, &mut lock, 2);
    assert_eq!(
        lock_sends(&committed),
        [(
            CLIENT,
            LockMessage::Granted {
                attempt: 7,
                token: 2
            }
        )],
        "the token is the acquire's index, after the leader's no-op"
    );
    assert!(committed.contains(&Effect::Emit(LockEvent::ReplicaGranted {
        client: CLIENT,
        token: 2,
    })));
    let lease = LockParams::default().lease_on_leader();
    assert_eq!(lease, SimDuration::from_millis(507), "500 ms + 1% + 2 ms");
    assert_eq!(
        lease_timers(&committed)
            .iter()
            .map(|t| (t.1, t.2))
            .collect::<Vec<_>>(),
        [(2, lease)]
    );
    let refused = harness.call(|ctx| lock.on_message(ctx, OTHER, acquire(1)));
    assert_eq!(appends(&refused.effects).len(), 2, "through the log too");
    let answered = acknowledge(&mut harness, &mut lock, 3);
    assert_eq!(
        lock_sends(&answered),
        [(
            OTHER,
            LockMessage::Refused {
                attempt: 1,
                why: Refusal::Held
            }
        )]
    );
    assert!(
        lease_timers(&answered).is_empty(),
        "a refusal leaves the lease alone"
    );
}

#[test]
fn a_release_is_one_entry_to_each_follower_and_frees_the_lock_and_its_timer() {
    let (mut harness, mut lock) = server(0, params(false));
    harness.call(|ctx| lock.on_message(ctx, CLIENT, acquire(7)));
    acknowledge(&mut harness, &mut lock, 2);
    let release =
        harness.call(|ctx| lock.on_message(ctx, CLIENT, LockMessage::Release { attempt: 7 }));
    let entry = Command::Client(LockCommand::Release {
        client: CLIENT.0,
        attempt: 7,
    });
    assert_eq!(
        appends(&release.effects),
        [(NodeId(1), vec![entry.clone()]), (NodeId(2), vec![entry])]
    );
    let freed = acknowledge(&mut harness, &mut lock, 3);
    assert!(lock_sends(&freed).is_empty(), "a release is not answered");
    let Lock::Consensus(server) = &lock else {
        unreachable!()
    };
    assert_eq!(server.raft().state().lock.holder, None);
    other_is_granted_at(&mut harness, &mut lock, 4);
}

#[test]
fn the_leader_expires_a_lease_by_proposing_it_when_its_timer_fires() {
    let (mut harness, mut lock) = server(0, params(false));
    harness.call(|ctx| lock.on_message(ctx, CLIENT, acquire(7)));
    let committed = acknowledge(&mut harness, &mut lock, 2);
    let (id, token, after) = lease_timers(&committed)[0];
    harness.advance(after);
    let fired = harness.call(|ctx| lock.on_timer(ctx, id, LockTimer::LeaseExpiry(token)));
    let entry = Command::Client(LockCommand::Expire { token: 2 });
    assert_eq!(
        appends(&fired.effects),
        [(NodeId(1), vec![entry.clone()]), (NodeId(2), vec![entry])]
    );
    let stale = harness.call(|ctx| lock.on_timer(ctx, id, LockTimer::LeaseExpiry(token)));
    assert!(stale.effects.is_empty(), "a timer fires once");
    acknowledge(&mut harness, &mut lock, 3);
    other_is_granted_at(&mut harness, &mut lock, 4);
}

#[test]
fn a_follower_refuses_an_acquire_with_the_leader_it_knows_and_drops_a_release() {
    let (mut harness, mut lock) = server(1, params(false));
    let before = harness.call(|ctx| lock.on_message(ctx, CLIENT, acquire(7)));
    assert_eq!(
        lock_sends(&before.effects),
        [(
            CLIENT,
            LockMessage::Refused {
                attempt: 7,
                why: Refusal::NotLeader { hint: None }
            }
        )]
    );
    let heartbeat = LockMessage::Raft(RaftMessage::AppendEntries(AppendEntries {
        term: 1,
        prev_log_index: 0,
        prev_log_term: 0,
        entries: Vec::new(),
        leader_commit: 0,
        round: 1,
    }));
    harness.call(|ctx| lock.on_message(ctx, NodeId(0), heartbeat));
    let after = harness.call(|ctx| lock.on_message(ctx, CLIENT, acquire(8)));
    assert_eq!(
        lock_sends(&after.effects),
        [(
            CLIENT,
            LockMessage::Refused {
                attempt: 8,
                why: Refusal::NotLeader { hint: Some(0) }
            }
        )]
    );
    let release =
        harness.call(|ctx| lock.on_message(ctx, CLIENT, LockMessage::Release { attempt: 8 }));
    assert!(release.effects.is_empty(), "the lease frees it instead");
}

/// Server n2 (id 1) learns a grant n1 made at 1 s on n1's clock (expiry
/// 1.5 s there), while its own clock reads 10 s, then wins an election.
/// The lease it starts: the full one, or (bug) none left at all.
fn took_over_lease(bug: bool) -> SimDuration {
    let (mut harness, mut lock) = server(1, params(bug));
    harness.set_now(LocalTime::from_nanos(10_000_000_000));
    let grant = LockCommand::Acquire {
        client: CLIENT.0,
        attempt: 7,
        expires_at: LocalTime::from_nanos(1_500_000_000),
    };
    let entries = vec![
        LogEntry {
            term: 1,
            command: Command::Noop,
        },
        LogEntry {
            term: 1,
            command: Command::Client(grant),
        },
    ];
    let append = LockMessage::Raft(RaftMessage::AppendEntries(AppendEntries {
        term: 1,
        prev_log_index: 0,
        prev_log_term: 0,
        entries,
        leader_commit: 2,
        round: 1,
    }));
    let learned = harness.call(|ctx| lock.on_message(ctx, NodeId(0), append));
    assert!(
        lease_timers(&learned.effects).is_empty(),
        "a follower keeps no lease"
    );
    let Lock::Consensus(server) = &lock else {
        unreachable!()
    };
    assert_eq!(server.raft().state().lock.holder.map(|h| h.token), Some(2));
    let election = learned
        .effects
        .iter()
        .rev()
        .find_map(|e| match e {
            Effect::SetTimer {
                id,
                timer: LockTimer::Raft(RaftTimer::Election),
                ..
            } => Some(*id),
            _ => None,
        })
        .expect("hearing the leader restarts the election timer");
    // A candidate leads once its own term and vote are on its disk.
    harness.hold_syncs();
    harness.call(|ctx| lock.on_timer(ctx, election, LockTimer::Raft(RaftTimer::Election)));
    let vote = LockMessage::Raft(RaftMessage::Vote {
        term: 2,
        granted: true,
        pre_vote: false,
    });
    harness.call(|ctx| lock.on_message(ctx, NodeId(2), vote));
    let won = harness.complete_sync(&mut lock);
    let Lock::Consensus(server) = &lock else {
        unreachable!()
    };
    assert_eq!(server.raft().leader_term(), Some(2), "{:?}", won.effects);
    let timers = lease_timers(&won.effects);
    assert_eq!(timers.len(), 1, "the new leader keeps the grant's lease");
    assert_eq!(timers[0].1, 2);
    timers[0].2
}

#[test]
fn a_new_leader_restarts_the_full_lease_on_its_own_timer() {
    assert_eq!(
        took_over_lease(false),
        LockParams::default().lease_on_leader()
    );
}

#[test]
fn bug_switch_lease_expiry_on_follower_clock_expires_the_grant_at_once() {
    assert_eq!(took_over_lease(true), SimDuration::ZERO);
}
