//! RequestVote and PreVote, a handler at a time (Figure 2, "RequestVote
//! RPC"): the term rules, one vote per term, the up-to-date check, the vote
//! made durable before it is sent, and the bug switches that break them.

use super::messages::RaftMessage;
use super::params::RaftParams;
use super::test_support::{
    durable_meta, follower, in_election_range, request_vote, split_election_timer,
};
use crate::testkit::Effect;
use sim_core::NodeId;

const CANDIDATE: NodeId = NodeId(0);

/// The vote sent to the candidate.
fn vote(
    term: u64,
    granted: bool,
) -> Effect<RaftMessage, super::messages::RaftTimer, super::messages::RaftEvent> {
    Effect::Send {
        to: CANDIDATE,
        message: super::test_support::vote(term, granted),
    }
}

#[test]
fn an_up_to_date_candidate_of_a_newer_term_gets_the_vote_durably_and_the_timer_restarts() {
    let params = RaftParams::default();
    let (mut server, mut raft) = follower(1, params.clone(), 1, &[1]);
    let handled = server.call(|ctx| raft.on_message(ctx, CANDIDATE, request_vote(2, 1, 1)));
    let (timeout, rest) = split_election_timer(handled.effects);
    assert_eq!(rest, [vote(2, true)]);
    assert!(in_election_range(
        timeout.expect("a granted vote restarts the timer"),
        &params
    ));
    assert!(handled.synced);
    assert_eq!(
        durable_meta(&server),
        (2, Some(0)),
        "term and vote durable before the reply"
    );
    assert_eq!((raft.term, raft.voted_for), (2, Some(CANDIDATE)));
}

#[test]
fn a_candidate_whose_last_term_is_older_is_refused_even_with_a_longer_log() {
    let (mut server, mut raft) = follower(1, RaftParams::default(), 2, &[1, 2]);
    let handled = server.call(|ctx| raft.on_message(ctx, CANDIDATE, request_vote(3, 5, 1)));
    // The term is taken (and stored), the vote is not, and a refused
    // candidate does not postpone this server's own election.
    assert_eq!(handled.effects, [vote(3, false)]);
    assert_eq!(durable_meta(&server), (3, None));
}

#[test]
fn a_candidate_with_the_same_last_term_but_a_shorter_log_is_refused() {
    let (mut server, mut raft) = follower(1, RaftParams::default(), 2, &[1, 2, 2]);
    let handled = server.call(|ctx| raft.on_message(ctx, CANDIDATE, request_vote(3, 2, 2)));
    assert_eq!(handled.effects, [vote(3, false)]);
    assert_eq!(raft.voted_for, None);
}

#[test]
fn a_request_of_an_older_term_is_refused_with_the_current_term_and_changes_nothing() {
    let (mut server, mut raft) = follower(1, RaftParams::default(), 4, &[1]);
    let handled = server.call(|ctx| raft.on_message(ctx, CANDIDATE, request_vote(3, 9, 3)));
    assert_eq!(handled.effects, [vote(4, false)]);
    assert!(handled.stored.is_empty() && !handled.synced);
    assert_eq!((raft.term, raft.voted_for), (4, None));
}

#[test]
fn one_vote_per_term_though_a_repeated_request_from_the_same_candidate_is_granted_again() {
    let (mut server, mut raft) = follower(1, RaftParams::default(), 1, &[1]);
    server.call(|ctx| raft.on_message(ctx, CANDIDATE, request_vote(2, 1, 1)));
    let other = server.call(|ctx| raft.on_message(ctx, NodeId(2), request_vote(2, 1, 1)));
    assert_eq!(
        other.effects,
        [Effect::Send {
            to: NodeId(2),
            message: RaftMessage::Vote {
                term: 2,
                granted: false,
                pre_vote: false
            }
        }]
    );
    let again = server.call(|ctx| raft.on_message(ctx, CANDIDATE, request_vote(2, 1, 1)));
    let (timeout, rest) = split_election_timer(again.effects);
    assert!(timeout.is_some());
    assert_eq!(rest, [vote(2, true)]);
}

#[test]
fn a_pre_vote_answers_whether_it_would_grant_and_changes_no_state() {
    let params = RaftParams {
        pre_vote: true,
        ..RaftParams::default()
    };
    let (mut server, mut raft) = follower(1, params, 1, &[1]);
    let handled = server.call(|ctx| {
        raft.on_message(
            ctx,
            CANDIDATE,
            RaftMessage::RequestVote {
                term: 2,
                last_log_index: 1,
                last_log_term: 1,
                pre_vote: true,
            },
        )
    });
    assert_eq!(
        handled.effects,
        [Effect::Send {
            to: CANDIDATE,
            message: RaftMessage::Vote {
                term: 2,
                granted: true,
                pre_vote: true
            }
        }]
    );
    assert!(handled.stored.is_empty());
    assert_eq!((raft.term, raft.voted_for), (1, None));
}

#[test]
fn bug_switch_vote_without_log_check_grants_a_candidate_that_is_behind() {
    let params = RaftParams {
        vote_without_log_check: true,
        ..RaftParams::default()
    };
    let (mut server, mut raft) = follower(1, params, 2, &[1, 2]);
    let handled = server.call(|ctx| raft.on_message(ctx, CANDIDATE, request_vote(3, 1, 1)));
    let (_, rest) = split_election_timer(handled.effects);
    assert_eq!(rest, [vote(3, true)]);
}

#[test]
fn bug_switch_vote_without_persist_sends_a_vote_the_storage_does_not_hold() {
    let params = RaftParams {
        vote_without_persist: true,
        ..RaftParams::default()
    };
    let (mut server, mut raft) = follower(1, params, 1, &[1]);
    let handled = server.call(|ctx| raft.on_message(ctx, CANDIDATE, request_vote(2, 1, 1)));
    let (_, rest) = split_election_timer(handled.effects);
    assert_eq!(rest, [vote(2, true)]);
    assert_eq!(
        durable_meta(&server),
        (2, None),
        "a restart forgets the vote"
    );
}

#[test]
fn with_check_quorum_a_server_that_heard_its_leader_recently_ignores_a_higher_term() {
    use super::messages::AppendEntries;
    use sim_core::SimDuration;
    let params = RaftParams {
        check_quorum: true,
        ..RaftParams::default()
    };
    let (mut server, mut raft) = follower(1, params, 1, &[1]);
    let heartbeat = RaftMessage::AppendEntries(AppendEntries {
        term: 1,
        prev_log_index: 1,
        prev_log_term: 1,
        entries: Vec::new(),
        leader_commit: 1,
        round: 1,
    });
    server.call(|ctx| raft.on_message(ctx, NodeId(2), heartbeat));
    // 50 ms later, within the minimum election timeout (150 ms): the
    // request is ignored, its term included (leader stickiness, §4.2.3).
    server.advance(SimDuration::from_millis(50));
    let early = server.call(|ctx| raft.on_message(ctx, CANDIDATE, request_vote(2, 1, 1)));
    assert_eq!(early.effects, [vote(1, false)]);
    assert!(early.stored.is_empty());
    // Past the minimum election timeout the leader may be gone: vote.
    server.advance(SimDuration::from_millis(150));
    let late = server.call(|ctx| raft.on_message(ctx, CANDIDATE, request_vote(2, 1, 1)));
    let (_, rest) = split_election_timer(late.effects);
    assert_eq!(rest, [vote(2, true)]);
}

/// Regression (found by the swarm: log-matching broken on one server).
/// Postmortem: a candidate could lead before its own term and vote were
/// on disk: with `overlap_own_vote_write` off its own vote counted at
/// once (a lone server led at once), and with it on a majority of the
/// others could elect it first. A power loss then took the term back; the
/// server stood for the same term again, its voters (who had voted for
/// it) elected it again, and it wrote different entries at indexes it had
/// already sent in that term. A candidate now leads only once its term
/// and vote are durable.
#[test]
fn a_candidate_leads_only_once_its_own_term_and_vote_are_durable() {
    use super::Role;
    for overlap in [true, false] {
        let params = RaftParams {
            overlap_own_vote_write: overlap,
            ..RaftParams::default()
        };
        let (mut server, mut raft) = follower(0, params, 1, &[1]);
        server.hold_syncs();
        server.call(|ctx| {
            raft.on_timer(
                ctx,
                sim_core::TimerId(0),
                super::messages::RaftTimer::Election,
            )
        });
        assert_eq!((raft.role, raft.term), (Role::Candidate, 2));
        if overlap {
            // Both others vote before the candidate's own disk has the term.
            for peer in [1, 2] {
                server.call(|ctx| {
                    raft.on_message(ctx, NodeId(peer), super::test_support::vote(2, true))
                });
            }
            assert_eq!(
                raft.role,
                Role::Candidate,
                "a majority, but the term is not durable"
            );
        }
        server.complete_sync(&mut raft);
        if !overlap {
            for peer in [1, 2] {
                server.call(|ctx| {
                    raft.on_message(ctx, NodeId(peer), super::test_support::vote(2, true))
                });
            }
        }
        assert_eq!(raft.role, Role::Leader, "overlap {overlap}");
        assert_eq!(durable_meta(&server), (2, Some(0)));
    }
}

#[test]
fn a_lone_server_leads_only_once_its_term_is_durable() {
    use super::Role;
    for overlap in [true, false] {
        let params = RaftParams {
            overlap_own_vote_write: overlap,
            ..RaftParams::default()
        };
        let mut server = crate::testkit::ServerHarness::new(NodeId(0), 1, 7);
        let mut raft = super::Raft::new(std::sync::Arc::new(params));
        server.call(|ctx| raft.on_start(ctx));
        server.hold_syncs();
        server.call(|ctx| {
            raft.on_timer(
                ctx,
                sim_core::TimerId(0),
                super::messages::RaftTimer::Election,
            )
        });
        assert_eq!(raft.role, Role::Candidate, "overlap {overlap}");
        server.complete_sync(&mut raft);
        assert_eq!(raft.role, Role::Leader, "overlap {overlap}");
    }
}

/// LogCabin's order (the Raft paper's Figure 16 ran on it): a voter that
/// learns a newer term writes it on stepping down and then writes its
/// vote, two syncs one after the other, and answers only once both are
/// on disk. The default writes both in one sync.
#[test]
fn a_voter_writes_its_step_down_and_its_vote_apart_when_asked_and_answers_after_both() {
    for apart in [false, true] {
        let params = RaftParams {
            step_down_write_apart: apart,
            ..RaftParams::default()
        };
        let (mut server, mut raft) = super::test_support::follower(1, params, 1, &[1]);
        server.hold_syncs();
        let asked = server.call(|ctx| {
            raft.on_message(ctx, NodeId(0), super::test_support::request_vote(2, 1, 1))
        });
        assert!(
            asked.sends().is_empty(),
            "nothing before the disk has the vote"
        );
        let first = server.complete_sync(&mut raft);
        if apart {
            assert!(
                first.sends().is_empty(),
                "the step down is durable, the vote not yet"
            );
            let second = server.complete_sync(&mut raft);
            assert_eq!(
                second.sends(),
                [(NodeId(0), &super::test_support::vote(2, true))]
            );
        } else {
            assert_eq!(
                first.sends(),
                [(NodeId(0), &super::test_support::vote(2, true))]
            );
        }
        assert_eq!(durable_meta(&server), (2, Some(0)), "apart {apart}");
    }
}
