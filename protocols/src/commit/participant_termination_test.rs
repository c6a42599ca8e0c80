//! A 3PC participant's termination protocol (Skeen), handler by handler
//! (four servers: coordinator n1, shards n2, n3, n4; this is n2, the
//! lowest participant id, so the backup coordinator when n1 is silent):
//! an uncertain participant past its timeout asks everyone for their
//! state; a live lower id makes it defer; as the lowest live id it aborts
//! when all are uncertain, and commits when anyone pre-committed, after a
//! logged pre-commit round (acks, or the round's timeout, which presumes
//! the silent crashed); a participant that knows the transaction only from
//! its log after a restart asks, and never decides.

use super::messages::{CommitEvent, CommitMessage, CommitTimer, Delta, TxnState};
use super::params::{CommitParams, CommitVariant};
use super::AtomicCommit;
use crate::cluster::Service;
use crate::testkit::{Effect, ServerHarness};
use sim_core::{NodeId, SimDuration, TimerId};
use std::sync::Arc;

const COORDINATOR: NodeId = NodeId(0);
const ME: NodeId = NodeId(1);
const PEER: NodeId = NodeId(2);
const PEER_HIGH: NodeId = NodeId(3);

fn params() -> Arc<CommitParams> {
    Arc::new(CommitParams {
        variant: CommitVariant::ThreePhase,
        accounts: 6,
        ..CommitParams::default()
    })
}

/// This shard, having voted yes on transaction 1 (with n3 and n4) and
/// heard nothing since: uncertain.
fn uncertain() -> (ServerHarness, AtomicCommit) {
    let mut server = ServerHarness::new(ME, 4, 1);
    let mut commit = AtomicCommit::new(params());
    server.call(|ctx| commit.on_start(ctx));
    let prepare = CommitMessage::Prepare {
        txn: 1,
        participants: vec![ME, PEER, PEER_HIGH],
        deltas: vec![Delta {
            account: 0,
            amount: -5,
        }],
    };
    let voted = server.call(|ctx| commit.on_message(ctx, COORDINATOR, prepare));
    assert_eq!(voted.events()[0], &CommitEvent::Voted { txn: 1, yes: true });
    (server, commit)
}

/// The uncertainty timeout fires: the round's requests go out.
fn start_round(server: &mut ServerHarness, commit: &mut AtomicCommit) {
    server.advance(SimDuration::from_millis(300));
    let asked = server.call(|ctx| commit.on_timer(ctx, TimerId(0), CommitTimer::Uncertain(1)));
    let to: Vec<NodeId> = asked
        .sends()
        .into_iter()
        .map(|(to, message)| {
            assert_eq!(message, &CommitMessage::StateRequest { txn: 1 });
            to
        })
        .collect();
    assert_eq!(to, [COORDINATOR, PEER, PEER_HIGH]);
    assert!(asked.effects.iter().any(|e| matches!(
        e,
        Effect::SetTimer { after, timer: CommitTimer::Round(1), .. } if *after == SimDuration::from_millis(100)
    )));
    assert!(asked
        .events()
        .iter()
        .all(|e| !matches!(e, CommitEvent::Decided { .. })));
}

fn reply(server: &mut ServerHarness, commit: &mut AtomicCommit, from: NodeId, state: TxnState) {
    let handled = server.call(|ctx| {
        commit.on_message(
            ctx,
            from,
            CommitMessage::StateReply {
                txn: 1,
                state,
                operational: true,
            },
        )
    });
    assert!(handled.sends().is_empty(), "a reply is only collected");
}

fn decisions(handled: &[&CommitEvent]) -> Vec<bool> {
    handled
        .iter()
        .filter_map(|e| match e {
            CommitEvent::Decided { txn: 1, commit } => Some(*commit),
            _ => None,
        })
        .collect()
}

#[test]
fn a_live_coordinator_makes_the_round_defer_and_the_clock_restart() {
    let (mut server, mut commit) = uncertain();
    start_round(&mut server, &mut commit);
    reply(&mut server, &mut commit, COORDINATOR, TxnState::Uncertain);
    reply(&mut server, &mut commit, PEER, TxnState::Uncertain);
    let ended = server.call(|ctx| commit.on_timer(ctx, TimerId(0), CommitTimer::Round(1)));
    assert!(
        decisions(&ended.events()).is_empty(),
        "a lower live id decides, not n2"
    );
    assert!(ended.sends().is_empty());
    assert!(ended.effects.iter().any(|e| matches!(
        e,
        Effect::SetTimer {
            timer: CommitTimer::Uncertain(1),
            ..
        }
    )));
}

#[test]
fn the_lowest_live_participant_aborts_when_everyone_is_uncertain() {
    let (mut server, mut commit) = uncertain();
    start_round(&mut server, &mut commit);
    // The coordinator is silent (crashed); the peers are uncertain too.
    reply(&mut server, &mut commit, PEER, TxnState::Uncertain);
    reply(&mut server, &mut commit, PEER_HIGH, TxnState::Uncertain);
    let ended = server.call(|ctx| commit.on_timer(ctx, TimerId(0), CommitTimer::Round(1)));
    assert_eq!(decisions(&ended.events()), [false]);
    assert!(ended.events().contains(&&CommitEvent::Applied {
        txn: 1,
        commit: false,
        delta_sum: 0
    }));
    assert!(
        ended.synced,
        "the abort record is durable before it is told"
    );
    let told: Vec<NodeId> = ended
        .sends()
        .into_iter()
        .filter(|(_, m)| {
            **m == CommitMessage::Decision {
                txn: 1,
                commit: false,
            }
        })
        .map(|(to, _)| to)
        .collect();
    assert_eq!(told, [PEER, PEER_HIGH]);
}

#[test]
fn one_pre_committed_peer_makes_the_backup_pre_commit_the_rest_then_commit() {
    let (mut server, mut commit) = uncertain();
    start_round(&mut server, &mut commit);
    reply(&mut server, &mut commit, PEER, TxnState::PreCommitted);
    reply(&mut server, &mut commit, PEER_HIGH, TxnState::Uncertain);
    let ended = server.call(|ctx| commit.on_timer(ctx, TimerId(0), CommitTimer::Round(1)));
    assert!(
        ended.synced,
        "n2's own pre-commit is logged before the round"
    );
    assert!(!ended.stored.is_empty());
    assert!(decisions(&ended.events()).is_empty(), "not before the acks");
    assert_eq!(
        ended.sends(),
        [(PEER_HIGH, &CommitMessage::PreCommit { txn: 1 })],
        "only the uncertain peer is pre-committed"
    );
    assert!(ended.effects.iter().any(|e| matches!(
        e,
        Effect::SetTimer {
            timer: CommitTimer::Round(1),
            ..
        }
    )));
    let acked = server
        .call(|ctx| commit.on_message(ctx, PEER_HIGH, CommitMessage::PreCommitAck { txn: 1 }));
    assert_eq!(decisions(&acked.events()), [true]);
    assert!(acked.events().contains(&&CommitEvent::Applied {
        txn: 1,
        commit: true,
        delta_sum: -5
    }));
    let told: Vec<NodeId> = acked.sends().into_iter().map(|(to, _)| to).collect();
    assert_eq!(told, [PEER, PEER_HIGH]);
}

#[test]
fn a_pre_commit_round_without_acks_commits_at_its_timeout() {
    let (mut server, mut commit) = uncertain();
    start_round(&mut server, &mut commit);
    reply(&mut server, &mut commit, PEER, TxnState::PreCommitted);
    reply(&mut server, &mut commit, PEER_HIGH, TxnState::Uncertain);
    server.call(|ctx| commit.on_timer(ctx, TimerId(0), CommitTimer::Round(1)));
    // n4 never acks: Skeen presumes it crashed, and it learns on recovery.
    let timed_out = server.call(|ctx| commit.on_timer(ctx, TimerId(0), CommitTimer::Round(1)));
    assert_eq!(decisions(&timed_out.events()), [true]);
}

#[test]
fn a_decision_heard_during_the_round_ends_it_without_a_second_decision() {
    let (mut server, mut commit) = uncertain();
    start_round(&mut server, &mut commit);
    let heard = server.call(|ctx| {
        commit.on_message(
            ctx,
            PEER,
            CommitMessage::StateReply {
                txn: 1,
                state: TxnState::Committed,
                operational: true,
            },
        )
    });
    assert!(heard.events().contains(&&CommitEvent::Applied {
        txn: 1,
        commit: true,
        delta_sum: -5
    }));
    assert!(
        decisions(&heard.events()).is_empty(),
        "learned, not decided"
    );
    let ended = server.call(|ctx| commit.on_timer(ctx, TimerId(0), CommitTimer::Round(1)));
    assert!(ended.effects.is_empty(), "{:?}", ended.effects);
}

#[test]
fn a_participant_restarted_from_its_log_asks_but_never_decides() {
    let (mut server, _) = uncertain();
    // A restart: the same storage, a fresh service recovering from it.
    let mut commit = AtomicCommit::new(params());
    server.call(|ctx| commit.on_recover(ctx));
    start_round(&mut server, &mut commit);
    // Everyone else is uncertain and nobody lower is live: a participant
    // that was up throughout would abort here. This one missed what
    // happened while it was down, so it defers.
    reply(&mut server, &mut commit, PEER, TxnState::Uncertain);
    reply(&mut server, &mut commit, PEER_HIGH, TxnState::Uncertain);
    let ended = server.call(|ctx| commit.on_timer(ctx, TimerId(0), CommitTimer::Round(1)));
    assert!(decisions(&ended.events()).is_empty());
    assert!(ended.sends().is_empty());
    // And it tells others it is not operational, so they do not defer to it.
    let asked =
        server.call(|ctx| commit.on_message(ctx, PEER, CommitMessage::StateRequest { txn: 1 }));
    assert_eq!(
        asked.sends(),
        [(
            PEER,
            &CommitMessage::StateReply {
                txn: 1,
                state: TxnState::Uncertain,
                operational: false
            }
        )]
    );
}
