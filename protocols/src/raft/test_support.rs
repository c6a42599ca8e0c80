//! What the Raft handler tests share: a server in a chosen state, and the
//! effects of a handler with its randomized election timer taken apart.

use super::messages::{Command, LogEntry, RaftMessage, RaftTimer};
use super::params::RaftParams;
use super::{Meta, Raft, META_KEY};
use crate::testkit::{EffectOf, ServerHarness};
use sim_core::{NodeId, SimDuration};
use std::sync::Arc;

/// Server `id` of three, started (its election timer set), in `term`, with
/// one no-op entry per term in `log_terms`.
pub(super) fn follower(
    id: u32,
    params: RaftParams,
    term: u64,
    log_terms: &[u64],
) -> (ServerHarness, Raft) {
    let mut server = ServerHarness::new(NodeId(id), 3, 7);
    let mut raft = Raft::new(Arc::new(params));
    server.call(|ctx| {
        raft.on_start(ctx);
        for &entry_term in log_terms {
            raft.store_entry(ctx, noop(entry_term));
        }
        ctx.storage().sync();
        raft.term = term;
        raft.persist_meta(ctx, true);
    });
    (server, raft)
}

pub(super) fn noop(term: u64) -> LogEntry {
    LogEntry {
        term,
        command: Command::Noop,
    }
}

/// The effects without the election timer's (re)setting, and the timeout
/// it drew if it was set. The timeout is random; the tests check its range.
pub(super) fn split_election_timer(
    effects: Vec<EffectOf<Raft>>,
) -> (Option<SimDuration>, Vec<EffectOf<Raft>>) {
    use crate::testkit::Effect;
    let mut timeout = None;
    let rest = effects
        .into_iter()
        .filter(|effect| match effect {
            Effect::SetTimer {
                after,
                timer: RaftTimer::Election,
                ..
            } => {
                assert!(timeout.is_none(), "the election timer was set twice");
                timeout = Some(*after);
                false
            }
            _ => true,
        })
        .collect();
    (timeout, rest)
}

/// Whether `timeout` is one the params allow.
pub(super) fn in_election_range(timeout: SimDuration, params: &RaftParams) -> bool {
    (params.election_timeout_min()..=params.election_timeout_max()).contains(&timeout)
}

/// The durable (synced) term and vote of `server`.
pub(super) fn durable_meta(server: &ServerHarness) -> (u64, Option<u32>) {
    assert!(
        server.storage().is_synced(META_KEY),
        "the meta record has unsynced writes"
    );
    let meta: Meta =
        serde_json::from_slice(server.storage().get(META_KEY).expect("meta")).expect("meta parses");
    (meta.term, meta.voted_for)
}

/// A RequestVote (not a pre-vote) for `term` from a log ending at
/// (`last_log_index`, `last_log_term`).
pub(super) fn request_vote(term: u64, last_log_index: u64, last_log_term: u64) -> RaftMessage {
    RaftMessage::RequestVote {
        term,
        last_log_index,
        last_log_term,
        pre_vote: false,
    }
}

/// A vote (not a pre-vote) in `term`.
pub(super) fn vote(term: u64, granted: bool) -> RaftMessage {
    RaftMessage::Vote {
        term,
        granted,
        pre_vote: false,
    }
}
