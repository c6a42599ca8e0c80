//! A 2PC participant's prepare handler (three servers: coordinator n1,
//! shards n2 and n3; this is n2, holding the even accounts): a yes vote is
//! made durable and locks before it is sent; a vote it cannot give is a
//! no with nothing locked; a duplicate prepare repeats the vote.

use super::messages::{CommitEvent, CommitMessage, CommitTimer, Delta, SentKind};
use super::params::{CommitParams, CommitVariant};
use super::AtomicCommit;
use crate::cluster::Service;
use crate::testkit::{Effect, ServerHarness};
use sim_core::{NodeId, SimDuration};
use std::sync::Arc;

const COORDINATOR: NodeId = NodeId(0);

fn shard() -> (ServerHarness, AtomicCommit) {
    let params = CommitParams {
        variant: CommitVariant::TwoPhase,
        accounts: 4,
        ..CommitParams::default()
    };
    let mut server = ServerHarness::new(NodeId(1), 3, 1);
    let mut commit = AtomicCommit::new(Arc::new(params));
    server.call(|ctx| commit.on_start(ctx));
    (server, commit)
}

fn prepare(txn: u64, amount: i64) -> CommitMessage {
    CommitMessage::Prepare {
        txn,
        participants: vec![NodeId(1), NodeId(2)],
        deltas: vec![Delta { account: 0, amount }],
    }
}

fn vote(txn: u64, yes: bool) -> [Effect<CommitMessage, CommitTimer, CommitEvent>; 2] {
    [
        Effect::Emit(CommitEvent::Sent {
            txn,
            kind: SentKind::Vote,
        }),
        Effect::Send {
            to: COORDINATOR,
            message: CommitMessage::Vote { txn, yes },
        },
    ]
}

#[test]
fn a_yes_vote_is_logged_and_synced_before_it_is_sent_and_waits_for_the_decision() {
    let (mut server, mut commit) = shard();
    let handled = server.call(|ctx| commit.on_message(ctx, COORDINATOR, prepare(1, -30)));
    assert_eq!(
        handled.effects[0],
        Effect::Emit(CommitEvent::Voted { txn: 1, yes: true })
    );
    assert!(matches!(
        handled.effects[1],
        Effect::SetTimer { after, timer: CommitTimer::Uncertain(1), .. } if after == SimDuration::from_millis(300)
    ));
    assert_eq!(handled.effects[2..], vote(1, true));
    assert!(
        handled.synced,
        "the prepared record is durable before the vote"
    );
    assert!(!handled.stored.is_empty());
}

#[test]
fn a_prepare_the_balance_cannot_fund_gets_a_no_and_locks_nothing() {
    let (mut server, mut commit) = shard();
    let handled = server.call(|ctx| commit.on_message(ctx, COORDINATOR, prepare(1, -1_000)));
    assert_eq!(
        handled.effects[0],
        Effect::Emit(CommitEvent::Voted { txn: 1, yes: false })
    );
    assert_eq!(handled.effects[handled.effects.len() - 2..], vote(1, false));
    // The account is free: the next transaction on it can vote yes.
    let next = server.call(|ctx| commit.on_message(ctx, COORDINATOR, prepare(2, -30)));
    assert_eq!(
        next.effects[0],
        Effect::Emit(CommitEvent::Voted { txn: 2, yes: true })
    );
}

#[test]
fn a_duplicate_prepare_repeats_the_vote_and_logs_nothing() {
    let (mut server, mut commit) = shard();
    server.call(|ctx| commit.on_message(ctx, COORDINATOR, prepare(1, -30)));
    let again = server.call(|ctx| commit.on_message(ctx, COORDINATOR, prepare(1, -30)));
    assert_eq!(again.effects, vote(1, true));
    assert!(again.stored.is_empty());
}
