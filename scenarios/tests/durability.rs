//! Crashes between a write and its sync's completion, one test per durable
//! protocol.
//!
//! Each test stalls a server's disk (a hung fsync: its syncs are asked for
//! and do not complete) while the workload runs, then cuts its power before
//! the stall ends, so the syncs in flight are lost (each survives with
//! probability one half, in order; `stats.syncs_lost` counts the rest).
//! What the server wrote in that window is gone, and so must be everything
//! it would have told anyone about it: the correct protocol passes every
//! check, and its bug switch that answers before the sync completes is
//! caught by the same faults.

mod common;

use common::run;
use scenarios::{RunOutcome, Scenario};

const SEEDS: u64 = 12;

fn scenario(text: &str) -> Scenario {
    scenarios::load_str(text, "durability.ron").unwrap()
}

/// Runs seeds `0..SEEDS` and asserts the window was real: some seed lost
/// syncs in flight at the power loss.
fn runs(scenario: &Scenario) -> Vec<RunOutcome> {
    let outcomes: Vec<RunOutcome> = (0..SEEDS).map(|seed| run(scenario, seed)).collect();
    let lost: u64 = outcomes.iter().map(|o| o.stats.syncs_lost).sum();
    assert!(
        lost > 0,
        "no seed lost a sync in flight: the crash missed the window"
    );
    for outcome in &outcomes {
        assert!(
            outcome.unknown().is_empty(),
            "inconclusive: {:?}",
            outcome.inconclusive
        );
    }
    outcomes
}

fn all_pass(outcomes: &[RunOutcome]) {
    for (seed, outcome) in outcomes.iter().enumerate() {
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.failed());
    }
}

fn some_fail(outcomes: &[RunOutcome], check: &str) {
    assert!(
        outcomes
            .iter()
            .any(|o| o.failed().iter().any(|f| f == check)),
        "no seed failed {check}"
    );
}

const KV: &str = r#"Scenario(
    name: "kv-durability",
    duration: "1s",
    nodes: Count(3),
    network: (default: (latency: Uniform(min: "0.5ms", max: "1ms"))),
    disks: (default: (sync_latency: Constant("5ms"))),
    protocol: KvSingle(flush_interval: "0s", ack_before_sync: BUG),
    workload: (clients: 4, arrival: Closed(think: Constant("2ms")), mix: (read: 0.5, write: 0.5), keys: 2, attempt_timeout: "50ms", op_timeout: "400ms"),
    faults: (schedule: [
        (at: "300ms", fault: DiskStall("n1", "100ms")),
        (at: "350ms", fault: PowerLoss("n1")),
        (at: "450ms", fault: Restart("n1")),
    ]),
    checks: ["linearizability"],
)"#;

#[test]
fn kv_single_loses_only_unacknowledged_writes_at_a_power_loss_mid_sync() {
    all_pass(&runs(&scenario(&KV.replace("BUG", "false"))));
    some_fail(
        &runs(&scenario(&KV.replace("BUG", "true"))),
        "linearizability",
    );
}

const RAFT: &str = r#"Scenario(
    name: "raft-durability",
    duration: "2s",
    nodes: Count(3),
    network: (default: (latency: Uniform(min: "0.5ms", max: "1ms"))),
    disks: (default: (sync_latency: Constant("5ms"))),
    protocol: Raft(election_timeout: ("50ms", "100ms")),
    workload: (clients: 4, arrival: Closed(think: Constant("2ms")), mix: (read: 0.5, write: 0.5), keys: 2, attempt_timeout: "50ms", op_timeout: "600ms"),
    faults: (schedule: [
        (at: "500ms", fault: DiskStall("n1", "200ms")),
        (at: "500ms", fault: DiskStall("n2", "200ms")),
        (at: "500ms", fault: DiskStall("n3", "200ms")),
        (at: "600ms", fault: PowerLoss("n1")),
        (at: "600ms", fault: PowerLoss("n2")),
        (at: "600ms", fault: PowerLoss("n3")),
        (at: "800ms", fault: Restart("n1")),
        (at: "800ms", fault: Restart("n2")),
        (at: "800ms", fault: Restart("n3")),
    ]),
    checks: ["linearizability", "invariants"],
)"#;

/// Every server loses power while every disk is stalled (a datacenter's
/// power cut): the entries written since the stall began are lost
/// everywhere, and with them every vote and acknowledgement that depended
/// on them, so no client was told of a commit that a majority had not made
/// durable. (A follower that acknowledged before its sync completed would
/// let the leader commit, and tell the client, an entry that this takes
/// back: linearizability fails.)
#[test]
fn raft_loses_only_uncommitted_entries_when_every_server_loses_power_mid_sync() {
    all_pass(&runs(&scenario(RAFT)));
}

const TWO_PC: &str = r#"Scenario(
    name: "2pc-durability",
    duration: "2s",
    nodes: Names(["coord", "shard1", "shard2", "shard3"]),
    network: (default: (latency: Uniform(min: "0.5ms", max: "1ms"))),
    disks: (default: (sync_latency: Constant("5ms"))),
    protocol: TwoPhaseCommit(decide_before_sync: BUG),
    workload: (clients: 6, arrival: Closed(think: Constant("2ms")), mix: (transfer: 1.0), keys: 24, attempt_timeout: "200ms", op_timeout: "1.5s"),
    faults: (schedule: [
        (at: "500ms", fault: DiskStall("coord", "100ms")),
        (at: "550ms", fault: PowerLoss("coord")),
        (at: "800ms", fault: Restart("coord")),
        (at: "900ms", fault: DiskStall("shard1", "100ms")),
        (at: "950ms", fault: PowerLoss("shard1")),
        (at: "1.1s", fault: Restart("shard1")),
    ]),
)"#;

/// The coordinator and then a shard lose power with records in flight: a
/// decision, a vote or an acknowledgement that waited for its record is
/// lost with it, and atomicity holds. With `decide_before_sync` the
/// decision went out first, and the restarted coordinator aborts a
/// transaction some shard already committed.
#[test]
fn two_phase_commit_tells_nobody_what_a_power_loss_mid_sync_takes_back() {
    all_pass(&runs(&scenario(&TWO_PC.replace("BUG", "false"))));
    some_fail(
        &runs(&scenario(&TWO_PC.replace("BUG", "true"))),
        "atomicity",
    );
}

/// The same faults under three-phase commit, whose pre-commit round adds a
/// record (and an acknowledgement that waits for it) on every shard.
#[test]
fn three_phase_commit_tells_nobody_what_a_power_loss_mid_sync_takes_back() {
    let text = TWO_PC
        .replace("TwoPhaseCommit", "ThreePhaseCommit")
        .replace("BUG", "false");
    all_pass(&runs(&scenario(&text)));
}

const SAGA: &str = r#"Scenario(
    name: "saga-durability",
    duration: "2s",
    nodes: Names(["orders", "inventory", "payment", "shipping"]),
    network: (default: (latency: Uniform(min: "0.5ms", max: "1ms"))),
    disks: (default: (sync_latency: Constant("5ms"))),
    protocol: Saga(style: STYLE, initial_stock: 300, initial_credit: 2000),
    workload: (clients: 6, arrival: Closed(think: Constant("2ms")), mix: (order: 1.0), keys: 4, attempt_timeout: "200ms", op_timeout: "1.5s"),
    faults: (schedule: [
        (at: "300ms", fault: DiskStall("inventory", "600ms")),
        (at: "330ms", fault: PowerLoss("inventory")),
        (at: "331ms", fault: Restart("inventory")),
        (at: "400ms", fault: DiskStall("payment", "100ms")),
        (at: "450ms", fault: PowerLoss("payment")),
        (at: "600ms", fault: Restart("payment")),
        (at: "800ms", fault: DiskStall("orders", "100ms")),
        (at: "850ms", fault: PowerLoss("orders")),
        (at: "1s", fault: Restart("orders")),
    ]),
)"#;

/// Step services and then the order service lose power with outcomes in
/// flight (the inventory restarts at once, its disk still stalled, as in
/// the choreographed saga that once compensated a step twice): a step
/// applied in memory but not on disk is applied again on retry (once, as
/// far as anyone was told), and every saga still ends whole. A service
/// that answered before its record's sync completed fails this
/// (semantic-atomicity: a saga ends with a step its service has lost).
#[test]
fn sagas_stay_whole_when_a_service_loses_power_mid_sync() {
    for style in ["Orchestration", "Choreography"] {
        all_pass(&runs(&scenario(&SAGA.replace("STYLE", style))));
    }
}
