//! AppendEntries on a follower, a handler at a time (Figure 2,
//! "AppendEntries RPC"): the term rule, the consistency check with fast
//! backtracking (§5.3), appending and cutting conflicting entries, the
//! entries durable before the reply, and the commit index.

use super::messages::{AppendEntries, AppendReply, Conflict, RaftEvent, RaftMessage};
use super::params::RaftParams;
use super::test_support::{follower, in_election_range, noop, split_election_timer};
use crate::testkit::Effect;
use sim_core::NodeId;

const LEADER: NodeId = NodeId(0);
const ROUND: u64 = 7;

fn append(term: u64, prev: (u64, u64), entry_terms: &[u64], leader_commit: u64) -> RaftMessage {
    RaftMessage::AppendEntries(AppendEntries {
        term,
        prev_log_index: prev.0,
        prev_log_term: prev.1,
        entries: entry_terms.iter().map(|t| noop(*t)).collect(),
        leader_commit,
        round: ROUND,
    })
}

fn reply(
    term: u64,
    success: bool,
    match_index: u64,
    conflict: Option<Conflict>,
) -> Effect<RaftMessage, super::messages::RaftTimer, RaftEvent> {
    Effect::Send {
        to: LEADER,
        message: RaftMessage::AppendReply(AppendReply {
            term,
            success,
            match_index,
            conflict,
            round: ROUND,
        }),
    }
}

fn stored(index: u64, term: u64) -> Effect<RaftMessage, super::messages::RaftTimer, RaftEvent> {
    Effect::Emit(RaftEvent::Stored {
        index,
        term,
        digest: noop(term).digest(),
    })
}

fn heard(term: u64) -> Effect<RaftMessage, super::messages::RaftTimer, RaftEvent> {
    Effect::Emit(RaftEvent::HeardLeader {
        term,
        leader: LEADER,
    })
}

#[test]
fn a_request_of_an_older_term_is_refused_and_does_not_restart_the_timer() {
    let (mut server, mut raft) = follower(1, RaftParams::default(), 3, &[1]);
    let handled = server.call(|ctx| raft.on_message(ctx, LEADER, append(2, (1, 1), &[2], 1)));
    assert_eq!(handled.effects, [reply(3, false, 0, None)]);
    assert!(handled.stored.is_empty());
}

#[test]
fn new_entries_are_appended_durably_before_the_success_reply() {
    let params = RaftParams::default();
    let (mut server, mut raft) = follower(1, params.clone(), 1, &[1]);
    let handled = server.call(|ctx| raft.on_message(ctx, LEADER, append(2, (1, 1), &[2, 2], 0)));
    let (timeout, rest) = split_election_timer(handled.effects);
    assert!(in_election_range(
        timeout.expect("the leader's message restarts the timer"),
        &params
    ));
    assert_eq!(
        rest,
        [
            heard(2),
            stored(2, 2),
            stored(3, 2),
            reply(2, true, 3, None)
        ]
    );
    assert!(
        handled.synced,
        "entries are synced before the reply counts them"
    );
    assert_eq!((raft.term, raft.leader), (2, Some(LEADER)));
}

#[test]
fn a_log_too_short_for_prev_log_index_says_where_it_ends() {
    let (mut server, mut raft) = follower(1, RaftParams::default(), 2, &[1]);
    let handled = server.call(|ctx| raft.on_message(ctx, LEADER, append(2, (3, 2), &[2], 0)));
    let (_, rest) = split_election_timer(handled.effects);
    let conflict = Conflict {
        term: None,
        index: 2,
    };
    assert_eq!(rest, [heard(2), reply(2, false, 0, Some(conflict))]);
    assert!(handled.stored.is_empty());
}

#[test]
fn a_term_mismatch_at_prev_log_index_names_the_first_index_of_the_conflicting_term() {
    // Fast backtracking: the leader skips the follower's whole term 2.
    let (mut server, mut raft) = follower(1, RaftParams::default(), 3, &[1, 1, 2, 2, 2]);
    let handled = server.call(|ctx| raft.on_message(ctx, LEADER, append(3, (5, 3), &[3], 0)));
    let (_, rest) = split_election_timer(handled.effects);
    let conflict = Conflict {
        term: Some(2),
        index: 3,
    };
    assert_eq!(rest, [heard(3), reply(3, false, 0, Some(conflict))]);
}

#[test]
fn a_conflicting_entry_and_all_after_it_are_cut_before_the_new_one_is_stored() {
    let (mut server, mut raft) = follower(1, RaftParams::default(), 1, &[1, 1, 1]);
    let handled = server.call(|ctx| raft.on_message(ctx, LEADER, append(2, (1, 1), &[2], 0)));
    let (_, rest) = split_election_timer(handled.effects);
    assert_eq!(
        rest,
        [
            heard(2),
            Effect::Emit(RaftEvent::Truncated { last_index: 1 }),
            stored(2, 2),
            reply(2, true, 2, None)
        ]
    );
    assert_eq!(raft.log.last_index(), 2);
}

#[test]
fn entries_already_held_are_not_rewritten_and_the_commit_index_follows_the_leader() {
    let (mut server, mut raft) = follower(1, RaftParams::default(), 2, &[1, 2]);
    let handled = server.call(|ctx| raft.on_message(ctx, LEADER, append(2, (0, 0), &[1, 2], 5)));
    let (_, rest) = split_election_timer(handled.effects);
    // Committed up to the last entry it holds (not the leader's 5), and
    // applied: no-ops apply without a client reply.
    assert_eq!(&rest[0], &heard(2));
    assert_eq!(rest.last(), Some(&reply(2, true, 2, None)));
    assert!(!rest
        .iter()
        .any(|e| matches!(e, Effect::Emit(RaftEvent::Stored { .. }))));
    assert_eq!(raft.commit_index, 2);
    assert!(!handled.synced, "nothing new to make durable");
}

#[test]
fn a_candidate_that_hears_a_leader_of_its_term_follows_it() {
    let (mut server, mut raft) = follower(1, RaftParams::default(), 2, &[1]);
    raft.role = super::Role::Candidate;
    let handled = server.call(|ctx| raft.on_message(ctx, LEADER, append(2, (1, 1), &[], 1)));
    let (_, rest) = split_election_timer(handled.effects);
    assert_eq!(rest.last(), Some(&reply(2, true, 1, None)));
    assert_eq!(raft.role, super::Role::Follower);
}
