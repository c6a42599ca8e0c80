//! What waits for the disk, a handler at a time, with a slow disk
//! (`ServerHarness::hold_syncs`): a vote and an AppendEntries reply go only
//! once the writes they promise are durable, a candidate counts its own
//! vote and a leader its own entries only once synced, and each server
//! writes one sync per message even when the message also raises its term.

use super::messages::{AppendEntries, AppendReply, RaftEvent, RaftMessage, RaftTimer};
use super::params::RaftParams;
use super::test_support::{follower, noop, request_vote, split_election_timer, vote};
use super::{Raft, Role, META_KEY};
use crate::testkit::{Effect, ServerHarness};
use sim_core::NodeId;
use std::sync::Arc;

const OTHER: NodeId = NodeId(0);

fn sends(effects: &[Effect<RaftMessage, RaftTimer, RaftEvent>]) -> Vec<(NodeId, RaftMessage)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, message } => Some((*to, message.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_vote_goes_once_the_new_term_and_the_vote_are_durable_in_one_sync() {
    let (mut server, mut raft) = follower(1, RaftParams::default(), 1, &[1]);
    server.hold_syncs();
    let handled = server.call(|ctx| raft.on_message(ctx, OTHER, request_vote(2, 1, 1)));
    let (timeout, rest) = split_election_timer(handled.effects);
    assert!(
        timeout.is_some(),
        "the timer restarts when the vote is granted"
    );
    assert_eq!(rest, [], "nothing goes before the sync");
    assert_eq!(handled.syncs.len(), 1, "the term and the vote in one sync");
    assert!(!server.storage().is_synced(META_KEY));
    let synced = server.complete_sync(&mut raft);
    assert_eq!(
        synced.effects,
        [Effect::Send {
            to: OTHER,
            message: vote(2, true)
        }]
    );
    assert!(server.storage().is_synced(META_KEY));
}

#[test]
fn an_append_reply_goes_once_the_entries_and_the_new_term_are_durable_in_one_sync() {
    let (mut server, mut raft) = follower(1, RaftParams::default(), 1, &[1]);
    server.hold_syncs();
    let append = RaftMessage::AppendEntries(AppendEntries {
        term: 2,
        prev_log_index: 1,
        prev_log_term: 1,
        entries: vec![noop(2)],
        leader_commit: 0,
        round: 3,
    });
    let handled = server.call(|ctx| raft.on_message(ctx, OTHER, append));
    assert_eq!(sends(&handled.effects), [], "the reply waits for the sync");
    assert_eq!(handled.syncs.len(), 1, "the term and the entry in one sync");
    let synced = server.complete_sync(&mut raft);
    assert_eq!(
        sends(&synced.effects),
        [(
            OTHER,
            RaftMessage::AppendReply(AppendReply {
                term: 2,
                success: true,
                match_index: 2,
                conflict: None,
                round: 3,
            })
        )]
    );
}

/// Server 0 of 3 after its election timer fired, with a slow disk: a
/// candidate for term 2, and what the timeout made it send.
fn candidate(params: RaftParams) -> (ServerHarness, Raft, Vec<(NodeId, RaftMessage)>) {
    let (mut server, mut raft) = follower(0, params, 1, &[1]);
    server.hold_syncs();
    let timer = raft
        .election_timer
        .expect("a follower has an election timer");
    let started = server.call(|ctx| raft.on_timer(ctx, timer, RaftTimer::Election));
    assert_eq!(raft.role, Role::Candidate);
    assert_eq!(
        started.syncs.len(),
        1,
        "the vote for itself is being written"
    );
    let sent = sends(&started.effects);
    (server, raft, sent)
}

#[test]
fn a_candidate_asks_at_once_and_counts_its_own_vote_only_once_it_is_durable() {
    let (mut server, mut raft, sent) = candidate(RaftParams::default());
    let request = request_vote(2, 1, 1);
    assert_eq!(sent, [(NodeId(1), request.clone()), (NodeId(2), request)]);
    // One peer's vote: with its own not yet durable, one of the two needed.
    server.call(|ctx| raft.on_message(ctx, NodeId(1), vote(2, true)));
    assert_eq!(raft.role, Role::Candidate);
    let synced = server.complete_sync(&mut raft);
    assert_eq!(raft.role, Role::Leader);
    assert!(synced
        .events()
        .contains(&&RaftEvent::BecameLeader { term: 2 }));
}

#[test]
fn a_candidate_that_persists_first_asks_only_once_its_vote_is_durable() {
    let params = RaftParams {
        overlap_own_vote_write: false,
        ..RaftParams::default()
    };
    let (mut server, mut raft, sent) = candidate(params);
    assert_eq!(sent, [], "the requests wait for the vote");
    let synced = server.complete_sync(&mut raft);
    let request = request_vote(2, 1, 1);
    assert_eq!(
        sends(&synced.effects),
        [(NodeId(1), request.clone()), (NodeId(2), request)]
    );
}

#[test]
fn a_leader_counts_its_own_entry_only_once_its_sync_completes() {
    let params = RaftParams {
        initial_leader: Some(0),
        ..RaftParams::default()
    };
    let mut server = ServerHarness::new(NodeId(0), 3, 7);
    server.hold_syncs();
    let mut raft = Raft::new(Arc::new(params));
    let started = server.call(|ctx| raft.on_start(ctx));
    assert_eq!(raft.role, Role::Leader);
    assert_eq!(started.syncs.len(), 1, "its no-op is being written");
    // A follower has the no-op (index 1): with the leader's own copy not
    // yet durable, that is one copy of the two a majority needs.
    let ack = RaftMessage::AppendReply(AppendReply {
        term: 1,
        success: true,
        match_index: 1,
        conflict: None,
        round: 1,
    });
    let acked = server.call(|ctx| raft.on_message(ctx, NodeId(1), ack));
    assert!(!acked
        .events()
        .iter()
        .any(|e| matches!(e, RaftEvent::LeaderCommitted { .. })));
    assert_eq!(raft.commit_index, 0);
    let synced = server.complete_sync(&mut raft);
    assert!(synced.events().contains(&&RaftEvent::LeaderCommitted {
        commit_index: 1,
        term: 1
    }));
    assert_eq!(raft.commit_index, 1);
}
