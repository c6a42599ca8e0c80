//! The 2PC coordinator's handlers (three servers: coordinator n1, shards
//! n2 and n3, accounts k0..k3 split by parity; one client): a transfer's
//! begin record is durable before its prepares go out; all yes votes
//! commit and one no aborts; the decision reaches the client and the
//! shards only once its record is synced; a retry of a decided transfer
//! gets the same answer without a new transaction; overdue votes abort;
//! under 3PC the decision follows a logged pre-commit round, or its timeout.

use super::messages::{CommitEvent, CommitMessage, CommitTimer};
use super::params::{CommitParams, CommitVariant};
use super::AtomicCommit;
use crate::client::{ClientReply, ClientRequest, Token};
use crate::cluster::Service;
use crate::kv::{KvOp, KvResult};
use crate::testkit::{Effect, ServerHarness};
use sim_core::{NodeId, SimDuration};
use std::sync::Arc;

const SHARD_EVEN: NodeId = NodeId(1);
const SHARD_ODD: NodeId = NodeId(2);

fn coordinator() -> (ServerHarness, AtomicCommit) {
    coordinator_of(CommitVariant::TwoPhase)
}

fn coordinator_of(variant: CommitVariant) -> (ServerHarness, AtomicCommit) {
    let params = CommitParams {
        variant,
        accounts: 4,
        ..CommitParams::default()
    };
    let mut server = ServerHarness::with_clients(NodeId(0), 3, 1, 1);
    let mut commit = AtomicCommit::new(Arc::new(params));
    server.call(|ctx| commit.on_start(ctx));
    (server, commit)
}

/// Client 0's transfer number `seq`: 5 from k0 (even shard) to k1 (odd).
fn transfer(seq: u64) -> ClientRequest {
    ClientRequest {
        client: 0,
        seq,
        attempt: 1,
        op: KvOp::Transfer {
            from: "k0".into(),
            to: "k1".into(),
            amount: 5,
        },
        token: Token::default(),
    }
}

const CLIENT: NodeId = NodeId(3);

/// Begins transaction 1 (they number from 1) for `transfer(1)`; returns its prepares' targets.
fn begin(server: &mut ServerHarness, commit: &mut AtomicCommit) -> Vec<NodeId> {
    let handled = server.call(|ctx| commit.on_client_request(ctx, CLIENT, transfer(1)));
    assert!(handled.synced, "the begin record is durable first");
    assert!(!handled.stored.is_empty());
    assert!(matches!(
        handled.events()[0],
        CommitEvent::Begin { txn: 1, participants } if *participants == [SHARD_EVEN, SHARD_ODD]
    ));
    assert!(handled.effects.iter().any(|e| matches!(
        e,
        Effect::SetTimer { after, timer: CommitTimer::Votes(1), .. } if *after == SimDuration::from_millis(100)
    )));
    assert!(handled.replies().is_empty(), "no answer before a decision");
    handled
        .sends()
        .into_iter()
        .map(|(to, message)| {
            assert!(matches!(message, CommitMessage::Prepare { txn: 1, .. }));
            to
        })
        .collect()
}

#[test]
fn a_transfer_prepares_both_shards_after_its_begin_record_is_durable() {
    let (mut server, mut commit) = coordinator();
    assert_eq!(begin(&mut server, &mut commit), [SHARD_EVEN, SHARD_ODD]);
    // With a slow disk, the prepares wait for the begin record's sync.
    let (mut slow, mut commit) = coordinator();
    slow.hold_syncs();
    let held = slow.call(|ctx| commit.on_client_request(ctx, CLIENT, transfer(1)));
    assert!(held.sends().is_empty(), "{:?}", held.effects);
    let released = slow.complete_sync(&mut commit);
    assert_eq!(released.sends().len(), 2);
}

#[test]
fn all_yes_votes_commit_and_the_answer_waits_for_the_decision_record() {
    let (mut server, mut commit) = coordinator();
    begin(&mut server, &mut commit);
    server.hold_syncs();
    let first = server
        .call(|ctx| commit.on_message(ctx, SHARD_EVEN, CommitMessage::Vote { txn: 1, yes: true }));
    assert!(first.effects.is_empty(), "one vote of two decides nothing");
    let second = server
        .call(|ctx| commit.on_message(ctx, SHARD_ODD, CommitMessage::Vote { txn: 1, yes: true }));
    assert!(
        second.synced || !second.syncs.is_empty(),
        "the decision is logged"
    );
    assert!(second.replies().is_empty() && second.sends().is_empty());
    assert!(!second
        .events()
        .iter()
        .any(|e| matches!(e, CommitEvent::Decided { .. })));
    let durable = server.complete_sync(&mut commit);
    assert!(durable.events().iter().any(|e| matches!(
        e,
        CommitEvent::Decided {
            txn: 1,
            commit: true
        }
    )));
    assert_eq!(
        durable.replies(),
        [&ClientReply::Result(KvResult::Done)],
        "{:?}",
        durable.effects
    );
    let decisions: Vec<NodeId> = durable
        .sends()
        .into_iter()
        .filter(|(_, m)| {
            matches!(
                m,
                CommitMessage::Decision {
                    txn: 1,
                    commit: true
                }
            )
        })
        .map(|(to, _)| to)
        .collect();
    assert_eq!(decisions, [SHARD_EVEN, SHARD_ODD]);
}

#[test]
fn one_no_vote_aborts_and_a_retry_gets_the_same_answer_without_a_new_transaction() {
    let (mut server, mut commit) = coordinator();
    begin(&mut server, &mut commit);
    let aborted = server
        .call(|ctx| commit.on_message(ctx, SHARD_ODD, CommitMessage::Vote { txn: 1, yes: false }));
    assert_eq!(aborted.replies(), [&ClientReply::Result(KvResult::Aborted)]);
    assert!(aborted.sends().iter().all(|(_, m)| matches!(
        m,
        CommitMessage::Decision {
            txn: 1,
            commit: false
        }
    )));
    // A late yes from the other shard changes nothing.
    let late = server
        .call(|ctx| commit.on_message(ctx, SHARD_EVEN, CommitMessage::Vote { txn: 1, yes: true }));
    assert!(late.effects.is_empty(), "{:?}", late.effects);
    // The client's retry of the same operation: the same answer, no prepare.
    let mut retry = transfer(1);
    retry.attempt = 2;
    let again = server.call(|ctx| commit.on_client_request(ctx, CLIENT, retry));
    assert_eq!(again.replies(), [&ClientReply::Result(KvResult::Aborted)]);
    assert!(again.sends().is_empty());
}

#[test]
fn overdue_votes_abort_the_transaction() {
    let (mut server, mut commit) = coordinator();
    begin(&mut server, &mut commit);
    server
        .call(|ctx| commit.on_message(ctx, SHARD_EVEN, CommitMessage::Vote { txn: 1, yes: true }));
    let timed_out =
        server.call(|ctx| commit.on_timer(ctx, sim_core::TimerId(0), CommitTimer::Votes(1)));
    assert!(timed_out.events().iter().any(|e| matches!(
        e,
        CommitEvent::Decided {
            txn: 1,
            commit: false
        }
    )));
    assert_eq!(
        timed_out.replies(),
        [&ClientReply::Result(KvResult::Aborted)]
    );
}

/// The bug switch `decide_before_sync`: the client and the shards hear the
/// decision while its record is still on its way to the disk.
#[test]
fn with_decide_before_sync_the_answer_leaves_before_the_record_is_durable() {
    let params = CommitParams {
        variant: CommitVariant::TwoPhase,
        accounts: 4,
        decide_before_sync: true,
        ..CommitParams::default()
    };
    let mut server = ServerHarness::with_clients(NodeId(0), 3, 1, 1);
    let mut commit = AtomicCommit::new(Arc::new(params));
    server.call(|ctx| commit.on_start(ctx));
    begin(&mut server, &mut commit);
    server.hold_syncs();
    for shard in [SHARD_EVEN, SHARD_ODD] {
        let handled = server
            .call(|ctx| commit.on_message(ctx, shard, CommitMessage::Vote { txn: 1, yes: true }));
        if shard == SHARD_ODD {
            assert_eq!(handled.replies(), [&ClientReply::Result(KvResult::Done)]);
            assert_eq!(handled.sends().len(), 2, "{:?}", handled.effects);
        }
    }
}

/// 3PC: all yes votes lead to a logged pre-commit round, not a decision;
/// the decision (commit) comes once every shard acknowledged the
/// pre-commit, or, Skeen's rule, when the round times out (a shard that
/// did not ack is presumed crashed and learns on recovery).
#[test]
fn three_phase_commit_decides_after_the_pre_commit_round_or_its_timeout() {
    for every_ack in [true, false] {
        let (mut server, mut commit) = coordinator_of(CommitVariant::ThreePhase);
        begin(&mut server, &mut commit);
        server.call(|ctx| {
            commit.on_message(ctx, SHARD_EVEN, CommitMessage::Vote { txn: 1, yes: true })
        });
        let voted = server.call(|ctx| {
            commit.on_message(ctx, SHARD_ODD, CommitMessage::Vote { txn: 1, yes: true })
        });
        assert!(voted.synced, "the pre-commit record is durable first");
        assert!(voted.replies().is_empty(), "no decision yet");
        let pre_commits: Vec<NodeId> = voted
            .sends()
            .into_iter()
            .filter(|(_, m)| matches!(m, CommitMessage::PreCommit { txn: 1 }))
            .map(|(to, _)| to)
            .collect();
        assert_eq!(pre_commits, [SHARD_EVEN, SHARD_ODD]);
        assert!(voted.effects.iter().any(|e| matches!(
            e,
            Effect::SetTimer {
                timer: CommitTimer::PreCommitAcks(1),
                ..
            }
        )));
        let first = server
            .call(|ctx| commit.on_message(ctx, SHARD_EVEN, CommitMessage::PreCommitAck { txn: 1 }));
        assert!(first.replies().is_empty(), "one ack of two decides nothing");
        let decided = if every_ack {
            server.call(|ctx| {
                commit.on_message(ctx, SHARD_ODD, CommitMessage::PreCommitAck { txn: 1 })
            })
        } else {
            server.call(|ctx| {
                commit.on_timer(ctx, sim_core::TimerId(0), CommitTimer::PreCommitAcks(1))
            })
        };
        assert_eq!(
            decided.replies(),
            [&ClientReply::Result(KvResult::Done)],
            "every ack: {every_ack}"
        );
        assert!(decided.events().iter().any(|e| matches!(
            e,
            CommitEvent::Decided {
                txn: 1,
                commit: true
            }
        )));
    }
}
