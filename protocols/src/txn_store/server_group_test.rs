//! A TxnStore server whose shard is a Raft group (`replicas: 3`), handler
//! by handler: the leader serves only once its term's entry is applied,
//! votes yes only once the prepared record is applied and acknowledges a
//! commit only once its record is; a replica that does not lead passes a
//! coordinator's message to the leader it knows, a bounded number of
//! times; a new leader rebuilds its prepared transactions from the log
//! and asks about them; and a group's leader keeps its coordinators'
//! decisions, the first logged standing.
//!
//! Six servers in two groups: shard 0 on ids 0, 1, 2 and shard 1 on 3, 4,
//! 5; server 3 coordinates the transaction the tests run on shard 0.

use super::locks::TxnId;
use super::messages::{TxnEvent, TxnMessage, TxnTimer};
use super::params::{ShardBy, TxnStoreParams};
use super::replicated::ShardCommand;
use super::server::TxnServer;
use super::shard::Mop;
use crate::cluster::Service;
use crate::raft::messages::{
    AppendEntries, AppendReply, Command, LogEntry, RaftMessage, RaftTimer,
};
use crate::raft::params::RaftParams;
use crate::testkit::{Effect, EffectOf, ServerHarness};
use sim_core::{NodeId, TimerId};
use std::sync::Arc;

const COORDINATOR: NodeId = NodeId(3);
const SERVERS: u32 = 6;
const KEYS: u32 = 4;

const TXN: TxnId = TxnId {
    stamp: 77,
    client: 9,
    seq: 1,
};

fn params() -> Arc<TxnStoreParams> {
    Arc::new(TxnStoreParams {
        replicas: 3,
        sharding: ShardBy::Range,
        raft: RaftParams {
            pre_vote: false,
            check_quorum: false,
            initial_leader: Some(0),
            ..RaftParams::default()
        },
        ..TxnStoreParams::default()
    })
}

fn server(id: u32) -> (ServerHarness, TxnServer) {
    let mut harness = ServerHarness::new(NodeId(id), SERVERS, 1);
    let mut server = TxnServer::new(params(), KEYS, SERVERS);
    harness.call(|ctx| server.on_start(ctx));
    (harness, server)
}

/// The TxnStore messages sent (Raft's apart), by destination.
fn txn_sends(effects: &[EffectOf<TxnServer>]) -> Vec<(NodeId, TxnMessage)> {
    (effects.iter())
        .filter_map(|e| match e {
            Effect::Send { to, message } if !matches!(message, TxnMessage::Raft(_)) => {
                Some((*to, message.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The records in the AppendEntries sent, by destination.
fn appended(effects: &[EffectOf<TxnServer>]) -> Vec<(NodeId, Vec<Command<ShardCommand>>)> {
    (effects.iter())
        .filter_map(|e| match e {
            Effect::Send {
                to,
                message: TxnMessage::Raft(RaftMessage::AppendEntries(a)),
            } => Some((*to, a.entries.iter().map(|e| e.command.clone()).collect())),
            _ => None,
        })
        .collect()
}

fn reply(term: u64, match_index: u64) -> TxnMessage {
    TxnMessage::Raft(RaftMessage::AppendReply(AppendReply {
        term,
        success: true,
        match_index,
        conflict: None,
        round: 0,
    }))
}

fn took_over(effects: &[EffectOf<TxnServer>]) -> Option<u32> {
    effects.iter().find_map(|e| match e {
        Effect::Emit(TxnEvent::TookOver { prepared, .. }) => Some(*prepared),
        _ => None,
    })
}

/// Both followers hold the leader's log up to `index` (the harness's
/// disk never tells the leader its own copy is durable): the effects of
/// the second acknowledgement, which commits it.
fn acknowledge(
    harness: &mut ServerHarness,
    leader: &mut TxnServer,
    index: u64,
) -> Vec<EffectOf<TxnServer>> {
    let first = harness.call(|ctx| leader.on_message(ctx, NodeId(1), reply(1, index)));
    assert_eq!(
        txn_sends(&first.effects),
        [],
        "one follower and an undurable leader copy are no majority"
    );
    harness
        .call(|ctx| leader.on_message(ctx, NodeId(2), reply(1, index)))
        .effects
}

/// Server 0 leads term 1 from the start; once its followers hold its
/// no-op, it serves.
fn serving_leader() -> (ServerHarness, TxnServer) {
    let (mut harness, mut leader) = server(0);
    let acked = acknowledge(&mut harness, &mut leader, 1);
    assert_eq!(took_over(&acked), Some(0));
    // Every other server hears who leads shard 0 now.
    let told: Vec<NodeId> = txn_sends(&acked)
        .into_iter()
        .filter(|(_, m)| *m == TxnMessage::Leads { term: 1 })
        .map(|(to, _)| to)
        .collect();
    assert_eq!(told, (1..SERVERS).map(NodeId).collect::<Vec<_>>());
    (harness, leader)
}

fn execute() -> TxnMessage {
    TxnMessage::Execute {
        txn: TXN,
        start_ts: 0,
        mops: vec![Mop::Write("k0".into(), "v".into())],
    }
}

#[test]
fn a_leader_serves_only_once_an_entry_of_its_term_is_applied() {
    let (mut harness, mut leader) = server(0);
    // Elected, its no-op not yet held by a majority: a coordinator's
    // message is dropped (its deadline covers it), not run.
    let early = harness.call(|ctx| leader.on_message(ctx, COORDINATOR, execute()));
    assert_eq!(txn_sends(&early.effects), []);
    let acked = acknowledge(&mut harness, &mut leader, 1);
    assert_eq!(took_over(&acked), Some(0));
    let ran = harness.call(|ctx| leader.on_message(ctx, COORDINATOR, execute()));
    assert_eq!(
        txn_sends(&ran.effects),
        [(
            COORDINATOR,
            TxnMessage::Executed {
                txn: TXN,
                results: Vec::new()
            }
        )]
    );
}

#[test]
fn the_yes_vote_waits_for_its_prepared_record_and_the_ack_for_its_commit_record() {
    let (mut harness, mut leader) = serving_leader();
    harness.call(|ctx| leader.on_message(ctx, COORDINATOR, execute()));
    // Prepare: the record goes to both followers; no vote yet.
    let prepare =
        harness.call(|ctx| leader.on_message(ctx, COORDINATOR, TxnMessage::Prepare { txn: TXN }));
    assert_eq!(txn_sends(&prepare.effects), []);
    let records = appended(&prepare.effects);
    assert_eq!(records.len(), 2);
    assert!(matches!(
        records[0].1.as_slice(),
        [Command::Client(ShardCommand::Prepare(p))] if p.record.txn == TXN && p.coordinator == COORDINATOR
    ));
    // The followers hold it: a majority. The vote goes.
    let held = acknowledge(&mut harness, &mut leader, 2);
    assert_eq!(
        txn_sends(&held),
        [(
            COORDINATOR,
            TxnMessage::Vote {
                txn: TXN,
                yes: true,
                // Above every commit this shard installed (none yet).
                min_commit_ts: 1
            }
        )]
    );
    // The decision: the commit record goes to the log, no ack yet, and a
    // repeat of the decision sends nothing while it is on its way.
    let commit = TxnMessage::Commit {
        txn: TXN,
        commit_ts: 5,
    };
    let decided = harness.call(|ctx| leader.on_message(ctx, COORDINATOR, commit.clone()));
    assert_eq!(txn_sends(&decided.effects), []);
    assert!(matches!(
        appended(&decided.effects)[0].1.as_slice(),
        [Command::Client(ShardCommand::Commit { txn, writes, .. })] if *txn == TXN && writes[0].value == "v"
    ));
    let repeat = harness.call(|ctx| leader.on_message(ctx, COORDINATOR, commit.clone()));
    assert_eq!(txn_sends(&repeat.effects), []);
    let applied = acknowledge(&mut harness, &mut leader, 3);
    assert_eq!(
        txn_sends(&applied),
        [(COORDINATOR, TxnMessage::CommitAck { txn: TXN })]
    );
    assert!(applied
        .iter()
        .any(|e| matches!(e, Effect::Emit(TxnEvent::ShardCommitted { txn, .. }) if *txn == TXN)));
    // Applied: a later repeat is acknowledged at once, and the version
    // is the shard's.
    let late = harness.call(|ctx| leader.on_message(ctx, COORDINATOR, commit));
    assert_eq!(
        txn_sends(&late.effects),
        [(COORDINATOR, TxnMessage::CommitAck { txn: TXN })]
    );
    assert_eq!(leader.shard().committed("k0"), Some("v"));
}

/// Server 1 as a follower of term 1 that has heard leader 0 and holds
/// `entries` after the no-op, committed up to `commit`; with the id of
/// the election timer hearing the leader armed.
fn follower_holding(
    entries: Vec<ShardCommand>,
    commit: u64,
) -> (ServerHarness, TxnServer, TimerId) {
    let (mut harness, mut follower) = server(1);
    let mut log = vec![LogEntry {
        term: 1,
        command: Command::Noop,
    }];
    log.extend(entries.into_iter().map(|c| LogEntry {
        term: 1,
        command: Command::Client(c),
    }));
    let append = TxnMessage::Raft(RaftMessage::AppendEntries(AppendEntries {
        term: 1,
        prev_log_index: 0,
        prev_log_term: 0,
        entries: log,
        leader_commit: commit,
        round: 1,
    }));
    let heard = harness.call(|ctx| follower.on_message(ctx, NodeId(0), append));
    let election = (heard.effects.iter())
        .rev()
        .find_map(|e| match e {
            Effect::SetTimer {
                id,
                timer: TxnTimer::Raft(RaftTimer::Election),
                ..
            } => Some(*id),
            _ => None,
        })
        .expect("hearing the leader rearms the election timer");
    (harness, follower, election)
}

#[test]
fn a_replica_that_does_not_lead_passes_a_message_on_a_bounded_number_of_times() {
    let (mut harness, mut follower, _) = follower_holding(Vec::new(), 1);
    let passed = harness.call(|ctx| follower.on_message(ctx, COORDINATOR, execute()));
    assert_eq!(
        txn_sends(&passed.effects),
        [(
            NodeId(0),
            TxnMessage::Forwarded {
                coordinator: COORDINATOR,
                hops: 1,
                message: Box::new(execute())
            }
        )]
    );
    // Passed on once already: once more, to the leader it knows.
    let again = TxnMessage::Forwarded {
        coordinator: COORDINATOR,
        hops: 1,
        message: Box::new(execute()),
    };
    let passed = harness.call(|ctx| follower.on_message(ctx, NodeId(2), again));
    assert_eq!(txn_sends(&passed.effects).len(), 1);
    // As many hops as the group has replicas less one: dropped.
    let last = TxnMessage::Forwarded {
        coordinator: COORDINATOR,
        hops: 2,
        message: Box::new(execute()),
    };
    let dropped = harness.call(|ctx| follower.on_message(ctx, NodeId(2), last));
    assert_eq!(txn_sends(&dropped.effects), []);
}

#[test]
fn a_new_leader_rebuilds_its_prepared_transactions_and_asks_their_coordinators_group() {
    // The old leader's prepared record of TXN is in the log, committed.
    let (mut leader_harness, mut old) = serving_leader();
    leader_harness.call(|ctx| old.on_message(ctx, COORDINATOR, execute()));
    let prepare = leader_harness
        .call(|ctx| old.on_message(ctx, COORDINATOR, TxnMessage::Prepare { txn: TXN }));
    let record = match &appended(&prepare.effects)[0].1[0] {
        Command::Client(record) => record.clone(),
        other => panic!("{other:?}"),
    };
    let (mut harness, mut follower, timer) = follower_holding(vec![record], 2);
    // Its election timer fires: it stands for term 2, wins server 2's
    // vote, and leads once its own vote is on its disk.
    harness.hold_syncs();
    harness.call(|ctx| follower.on_timer(ctx, timer, TxnTimer::Raft(RaftTimer::Election)));
    let vote = TxnMessage::Raft(RaftMessage::Vote {
        term: 2,
        granted: true,
        pre_vote: false,
    });
    harness.call(|ctx| follower.on_message(ctx, NodeId(2), vote));
    let mut took = Vec::new();
    while let Some(sync) = Some(harness.complete_sync(&mut follower)).filter(|h| h.result.is_some())
    {
        took.extend(sync.effects);
    }
    assert_eq!(took_over(&took), None, "its term's no-op is not held yet");
    // Server 2 holds its term's no-op (index 3) and its own copy is
    // durable: it takes over with TXN prepared, holding k0, and asks
    // server 3 after `request_timeout`.
    let acked = harness.call(|ctx| follower.on_message(ctx, NodeId(2), reply(2, 3)));
    took.extend(acked.effects);
    while let Some(sync) = Some(harness.complete_sync(&mut follower)).filter(|h| h.result.is_some())
    {
        took.extend(sync.effects);
    }
    assert_eq!(took_over(&took), Some(1));
    let in_doubt: Vec<TimerId> = (took.iter())
        .filter_map(|e| match e {
            Effect::SetTimer {
                id,
                timer: TxnTimer::InDoubt(txn),
                after,
            } if *txn == TXN && *after == params().request_timeout.0 => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(in_doubt.len(), 1);
    let asked = harness.call(|ctx| follower.on_timer(ctx, in_doubt[0], TxnTimer::InDoubt(TXN)));
    assert_eq!(
        txn_sends(&asked.effects),
        [(COORDINATOR, TxnMessage::Query { txn: TXN })]
    );
    // The abort it hears drops the prepared record through the log.
    let abort =
        harness.call(|ctx| follower.on_message(ctx, COORDINATOR, TxnMessage::Abort { txn: TXN }));
    assert!(matches!(
        appended(&abort.effects)[0].1.as_slice(),
        [Command::Client(ShardCommand::Abort { txn })] if *txn == TXN
    ));
}

#[test]
fn a_groups_leader_keeps_its_coordinators_decisions_and_the_first_logged_stands() {
    let (mut harness, mut leader) = serving_leader();
    // Server 1, a member of this group, coordinates; server 4 leads a
    // shard in doubt about two of its transactions.
    let (coordinator, in_doubt) = (NodeId(1), NodeId(4));
    let other = TxnId { stamp: 78, ..TXN };
    // The shard asks first about TXN: nothing is logged, so an abort is.
    let asked =
        harness.call(|ctx| leader.on_message(ctx, in_doubt, TxnMessage::Query { txn: TXN }));
    assert!(matches!(
        appended(&asked.effects)[0].1.as_slice(),
        [Command::Client(ShardCommand::Decide { txn, commit_ts: None })] if *txn == TXN
    ));
    let logged = acknowledge(&mut harness, &mut leader, 2);
    assert_eq!(
        txn_sends(&logged),
        [(in_doubt, TxnMessage::Abort { txn: TXN })]
    );
    // The coordinator comes late with its commit: the abort stands.
    let late = TxnMessage::Decide {
        txn: TXN,
        commit_ts: 7,
    };
    let heard = harness.call(|ctx| leader.on_message(ctx, coordinator, late));
    assert_eq!(
        txn_sends(&heard.effects),
        [(
            coordinator,
            TxnMessage::DecisionIs {
                txn: TXN,
                commit_ts: None
            }
        )]
    );
    // The coordinator's commit of the other comes first: it stands, and
    // the shard that asks later hears the commit at once.
    let decide = TxnMessage::Decide {
        txn: other,
        commit_ts: 9,
    };
    harness.call(|ctx| leader.on_message(ctx, coordinator, decide));
    let logged = acknowledge(&mut harness, &mut leader, 3);
    assert_eq!(
        txn_sends(&logged),
        [(
            coordinator,
            TxnMessage::DecisionIs {
                txn: other,
                commit_ts: Some(9)
            }
        )]
    );
    let asked =
        harness.call(|ctx| leader.on_message(ctx, in_doubt, TxnMessage::Query { txn: other }));
    assert_eq!(
        txn_sends(&asked.effects),
        [(
            in_doubt,
            TxnMessage::Commit {
                txn: other,
                commit_ts: 9
            }
        )]
    );
    // Every shard has it: the coordinator lets it go, through the log.
    let forget =
        harness.call(|ctx| leader.on_message(ctx, coordinator, TxnMessage::Forget { txn: other }));
    assert!(matches!(
        appended(&forget.effects)[0].1.as_slice(),
        [Command::Client(ShardCommand::Forget { txn })] if *txn == other
    ));
}
