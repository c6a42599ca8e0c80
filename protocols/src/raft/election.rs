//! Leader election: randomized timeouts, PreVote, RequestVote with the log
//! up-to-date check, becoming leader, and CheckQuorum.

use super::app::{RaftApp, RaftEnv};
use super::messages::{Command, LogEntry, RaftEvent, RaftMessage, RaftTimer};
use super::{LeaderState, Raft, Role};
use sim_core::{NodeId, SimDuration};
use std::collections::{BTreeMap, VecDeque};

impl<A: RaftApp> Raft<A> {
    /// Restarts the election timer with a fresh random timeout.
    pub(super) fn reset_election_timer<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        if let Some(timer) = self.election_timer.take() {
            ctx.cancel_timer(timer);
        }
        let (min, max) = (
            self.params.election_timeout_min().as_nanos(),
            self.params.election_timeout_max().as_nanos(),
        );
        let timeout = SimDuration::from_nanos(ctx.random_in(min, max));
        self.election_timer = Some(ctx.set_timer(timeout, RaftTimer::Election));
    }

    /// Whether this server heard a current leader less than the minimum
    /// election timeout ago: then it ignores vote requests (dissertation
    /// §4.2.3), which CheckQuorum and leases rely on.
    fn leader_is_fresh<E: RaftEnv<A>>(&self, ctx: &E) -> bool {
        let sticky = self.params.check_quorum
            || self.params.pre_vote
            || self.params.read_mode == super::params::ReadMode::Lease;
        if !sticky {
            return false;
        }
        if self.role == Role::Leader {
            return true;
        }
        self.heard_leader_at
            .is_some_and(|at| ctx.now().saturating_since(at) < self.params.election_timeout_min())
    }

    pub(super) fn on_election_timeout<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        debug_assert_ne!(self.role, Role::Leader, "leaders have no election timer");
        self.leader = None;
        if self.params.pre_vote {
            self.role = Role::PreCandidate;
            self.solicit_votes(ctx, self.term + 1, true);
        } else {
            self.start_election(ctx);
        }
    }

    fn start_election<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        self.role = Role::Candidate;
        self.term += 1;
        self.voted_for = Some(ctx.id());
        self.persist_meta(ctx, true);
        // The vote for itself, and the term with it, count only once
        // durable. With `overlap_own_vote_write` the vote requests go at
        // once, while the disk records them (dissertation §9.4: the write
        // overlaps the RequestVote round trip); without, they wait for it.
        self.own_vote_sync = ctx.storage().durable_point();
        ctx.emit(RaftEvent::ElectionStarted {
            term: self.term,
            last_log_index: self.log.last_index(),
            last_log_term: self.last_log_term(),
        });
        self.solicit_votes(ctx, self.term, false);
    }

    fn solicit_votes<E: RaftEnv<A>>(&mut self, ctx: &mut E, term: u64, pre_vote: bool) {
        self.votes = vec![false; ctx.server_count() as usize];
        // A pre-vote changes nothing on disk, so it counts at once.
        self.votes[ctx.id().index()] = pre_vote || self.own_vote_sync.is_none();
        self.reset_election_timer(ctx);
        let request = RaftMessage::RequestVote {
            term,
            last_log_index: self.log.last_index(),
            last_log_term: self.last_log_term(),
            pre_vote,
        };
        for peer in ctx.peers() {
            if pre_vote || self.params.overlap_own_vote_write {
                ctx.send(peer, request.clone());
            } else {
                // Persist before send: the requests wait for the vote.
                ctx.send_when_durable(peer, request.clone());
            }
        }
        self.tally(ctx, pre_vote);
    }

    /// The candidate's vote for itself is on disk: it counts now.
    pub(super) fn own_vote_durable<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        debug_assert_eq!(self.role, Role::Candidate);
        self.own_vote_sync = None;
        self.votes[ctx.id().index()] = true;
        self.tally(ctx, false);
    }

    pub(super) fn on_request_vote<E: RaftEnv<A>>(
        &mut self,
        ctx: &mut E,
        from: NodeId,
        term: u64,
        (last_log_index, last_log_term): (u64, u64),
        pre_vote: bool,
    ) {
        let up_to_date = self.params.vote_without_log_check
            || (last_log_term, last_log_index) >= (self.last_log_term(), self.log.last_index());
        if self.leader_is_fresh(ctx) && term > self.term {
            // Ignored entirely, term included, so a partitioned server that
            // comes back cannot depose a healthy leader.
            ctx.send(
                from,
                RaftMessage::Vote {
                    term: self.term,
                    granted: false,
                    pre_vote,
                },
            );
            return;
        }
        if pre_vote {
            let granted = term > self.term && up_to_date;
            ctx.send(
                from,
                RaftMessage::Vote {
                    term,
                    granted,
                    pre_vote: true,
                },
            );
            return;
        }
        let raised = self.observe_term_unsynced(ctx, term);
        let free = self.voted_for.is_none() || self.voted_for == Some(from);
        let granted = term == self.term && free && up_to_date;
        if granted {
            self.voted_for = Some(from);
            if self.params.vote_without_persist {
                // The bug: the vote lives only in memory (and the storage
                // still holds the old votedFor, so a restart forgets it).
                if raised {
                    self.sync(ctx);
                }
            } else if raised && self.params.step_down_write_apart {
                // LogCabin: the step down's write (new term, no vote) is
                // synced first, then the vote's: syncs run one at a time,
                // so the answer waits for both.
                self.sync(ctx);
                self.persist_meta(ctx, true);
            } else {
                // The new term and the vote in one write.
                self.persist_meta(ctx, true);
            }
            self.reset_election_timer(ctx);
        } else if raised {
            self.sync(ctx);
        }
        // The vote (and the term it carries) is durable before it goes.
        ctx.send_when_durable(
            from,
            RaftMessage::Vote {
                term: self.term,
                granted,
                pre_vote: false,
            },
        );
    }

    pub(super) fn on_vote<E: RaftEnv<A>>(
        &mut self,
        ctx: &mut E,
        from: NodeId,
        term: u64,
        granted: bool,
        pre_vote: bool,
    ) {
        if pre_vote {
            if self.role == Role::PreCandidate && term == self.term + 1 && granted {
                self.votes[from.index()] = true;
                self.tally(ctx, true);
            }
            return;
        }
        if term > self.term {
            self.observe_term(ctx, term);
            return;
        }
        if self.role == Role::Candidate && term == self.term && granted {
            self.votes[from.index()] = true;
            self.tally(ctx, false);
        }
    }

    fn tally<E: RaftEnv<A>>(&mut self, ctx: &mut E, pre_vote: bool) {
        let count = self.votes.iter().filter(|v| **v).count();
        if count < Self::majority(ctx) {
            return;
        }
        // A leader acts in its term only once the term is on its disk, even
        // when the others' votes already make a majority: a power loss
        // would otherwise take the term back, and the same voters (who
        // voted for it) would elect it again in that term, whose entries
        // it had already sent and would now write differently.
        if !pre_vote && self.own_vote_sync.is_some() {
            return;
        }
        if pre_vote {
            self.start_election(ctx);
        } else {
            self.become_leader(ctx);
        }
    }

    pub(super) fn become_leader<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        assert_eq!(self.role, Role::Candidate, "only a candidate wins");
        debug_assert!(
            self.own_vote_sync.is_none(),
            "a leader's term is durable before it leads"
        );
        if let Some(timer) = self.election_timer.take() {
            ctx.cancel_timer(timer);
        }
        self.role = Role::Leader;
        self.leader = Some(ctx.id());
        let servers = ctx.server_count() as usize;
        let next = self.log.last_index() + 1;
        let mut state = LeaderState {
            next_index: vec![next; servers],
            match_index: vec![0; servers],
            sent_until: vec![next - 1; servers],
            acked_round: vec![0; servers],
            round: 0,
            round_sent_at: BTreeMap::new(),
            heard_since_check: vec![false; servers],
            pending_writes: BTreeMap::new(),
            pending_reads: VecDeque::new(),
            heartbeat_timer: None,
            quorum_timer: None,
        };
        // Its own copy counts as far as it is durable; entries still being
        // written count when their sync completes.
        state.match_index[ctx.id().index()] = self.durable_index;
        if self.params.check_quorum {
            state.quorum_timer =
                Some(ctx.set_timer(self.params.election_timeout_min(), RaftTimer::QuorumCheck));
        }
        self.leader_state = Some(state);
        ctx.emit(RaftEvent::BecameLeader { term: self.term });
        if self.params.leader_noop {
            let term = self.term;
            self.append_own(
                ctx,
                LogEntry {
                    term,
                    command: Command::Noop,
                },
            );
        }
        self.broadcast_heartbeat(ctx);
    }

    /// CheckQuorum: a leader that a majority has not answered for a whole
    /// minimum election timeout steps down, since a new leader may exist.
    pub(super) fn check_quorum<E: RaftEnv<A>>(&mut self, ctx: &mut E) {
        let me = ctx.id().index();
        let majority = Self::majority(ctx);
        let state = self
            .leader_state
            .as_mut()
            .expect("only leaders check quorum");
        state.heard_since_check[me] = true;
        let heard = state.heard_since_check.iter().filter(|h| **h).count();
        state.heard_since_check.iter_mut().for_each(|h| *h = false);
        if heard < majority {
            self.leader = None;
            self.become_follower(ctx);
            return;
        }
        state.quorum_timer =
            Some(ctx.set_timer(self.params.election_timeout_min(), RaftTimer::QuorumCheck));
    }
}
