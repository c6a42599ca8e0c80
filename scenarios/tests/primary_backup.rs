//! Primary-backup through the whole pipeline: safety under random fault
//! schedules, each bug switch caught, and exact counts where theory gives
//! them (messages per write per mode, writes lost from an Async backlog).

mod common;

use proptest::prelude::*;
use scenarios::duration::Dur;
use scenarios::schema::FaultSpec;
use scenarios::strategies::fault_schedule;
use sim_core::history::{Function, Outcome};

const BASE: &str = r#"Scenario(
    name: "pb-prop",
    duration: "3s",
    nodes: Count(3),
    network: (default: (latency: Uniform(min: "1ms", max: "6ms"), loss: 0.02, duplicate: 0.02)),
    clocks: (random: (offset_max: "50ms", drift_ppm_max: 500.0)),
    protocol: PrimaryBackup(mode: Sync, failover_timeout: "150ms", failover_jitter: "100ms", lease: "100ms"),
    workload: (clients: 4, arrival: Closed(think: Exponential(mean: "5ms")), mix: (read: 0.4, write: 0.3, cas: 0.2, append: 0.1), keys: 2, attempt_timeout: "40ms", op_timeout: "300ms", stop_after: "2.7s"),
)"#;

fn names() -> Vec<String> {
    (1..=3).map(|i| format!("n{i}")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// With Sync mode and fencing, every invariant holds and the history is
    /// linearizable (and every session guarantee, and convergence) under
    /// any schedule, and writes complete again after the heal (Sync needs
    /// every server, so only once a disk stall, which no heal undoes, is
    /// over: the run goes on 1.7 s past the heal). Clock jumps
    /// are left out: the lease, like any lease, assumes clocks that drift
    /// within its bound and never jump.
    #[test]
    fn sync_with_fencing_is_safe_under_any_schedule(schedule in fault_schedule(names(), Dur::secs(1)), seed in any::<u64>()) {
        let mut scenario = scenarios::load_str(BASE, "base.ron").unwrap();
        scenario.faults.schedule = schedule;
        scenario.faults.schedule.retain(|f| !matches!(f.fault, FaultSpec::ClockJump(..)));
        scenario.faults.schedule.extend(common::heal_everything(&names(), Dur::secs(1)));
        scenarios::validate::validate(&scenario).map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
        let outcome = scenarios::run(&scenarios::resolve(&scenario, seed)).unwrap();
        prop_assert!(outcome.passed(), "failed {:?}; checks {:?}", outcome.failed(), outcome.checks);
        let live = outcome.history.operations.iter().any(|op| {
            op.outcome == Outcome::Ok
                && op.f == Function::Write
                && op.invoke_ns >= 1_000_000_000
        });
        prop_assert!(live, "no write completed after the heal");
    }
}

#[test]
fn no_fencing_is_caught_within_5_seeds_and_fencing_passes_them() {
    let scenario = common::load("split-brain-no-fencing.ron");
    let fenced = common::with(&scenario, "protocol.PrimaryBackup.no_fencing=false");
    for seed in 0..5 {
        let outcome = common::run(&fenced, seed);
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.failed());
        // The CAP choice: the primary's side answered nothing while cut off.
        // It serves until its lease lapses, within 200 ms of the cut at
        // 1 s; after that its side's clients (client1 and client2, the
        // processes 0 and 1 of 4) get nothing done until the heal at 3 s.
        let minority = &outcome.metrics.partition_sides[0];
        assert!(minority.counts.side.starts_with("n1+"), "{minority:?}");
        assert!(
            minority.availability < Some(0.9),
            "seed {seed}: {minority:?}"
        );
        let served_after_lease = outcome.history.operations.iter().filter(|op| {
            op.process % 4 < 2
                && op.outcome == Outcome::Ok
                && op.invoke_ns >= 1_200_000_000
                && op.complete_ns.is_some_and(|c| c < 3_000_000_000)
        });
        assert_eq!(served_after_lease.count(), 0, "seed {seed}");
    }
    let unfenced = common::with(&scenario, "protocol.PrimaryBackup.no_fencing=true");
    let seed = common::first_seed_failing(&unfenced, 5, &["linearizability"]).expect("caught");
    let outcome = common::run(&unfenced, seed);
    assert!(common::count(&outcome, "lost_acked_writes_total") > 0);
    for side in &outcome.metrics.partition_sides {
        assert!(
            side.availability > Some(0.8),
            "both sides answered: {side:?}"
        );
    }
}

#[test]
fn promote_any_is_caught_within_20_seeds() {
    // SemiSync(acks: 1) answers once the near backup n2 has a write. The
    // links to n3 clog for the half second before the primary crashes, so
    // n3 lacks those writes until after the election. A correct election
    // promotes n2 (n2 refuses the shorter n3); promote_any lets n3 win.
    let scenario = common::load("replication-modes.ron");
    let semisync = common::with(
        &scenario,
        r#"protocol.PrimaryBackup.mode={"SemiSync":{"acks":1,"fallback_timeout":"500ms"}}"#,
    );
    let semisync = common::with(
        &semisync,
        r#"faults.schedule=[{"at":"1.5s","fault":{"Clog":["n1","n3"]}},{"at":"2s","fault":{"Crash":"n1"}},{"at":"3s","fault":{"Release":["n1","n3"]}},{"at":"3s","fault":{"Restart":"n1"}}]"#,
    );
    for seed in 0..5 {
        assert!(common::run(&semisync, seed).passed(), "seed {seed}");
    }
    let buggy = common::with(&semisync, "protocol.PrimaryBackup.promote_any=true");
    let seed = common::first_seed_failing(&buggy, 20, &["no-promised-write-lost"]).expect("caught");
    let outcome = common::run(&buggy, seed);
    assert!(common::count(&outcome, "lost_acked_writes_total") > 0);
}

/// Two servers, Async with a long ship interval, a slow disk and a power
/// loss of the primary that is back before anyone could replace it: a
/// correct primary answered only synced writes and, back with them, wins
/// the election (the backup alone is no majority); one that answered
/// before its sync lost them.
const POWER_LOSS: &str = r#"Scenario(
    name: "pb-power-loss",
    duration: "3s",
    nodes: Count(2),
    network: (default: (latency: Uniform(min: "0.5ms", max: "1.5ms"))),
    disks: (default: (sync_latency: Constant("10ms"))),
    protocol: PrimaryBackup(mode: Async(ship_interval: "5s")),
    workload: (clients: 4, arrival: Closed(think: Exponential(mean: "3ms")), mix: (read: 0.5, write: 0.5), keys: 2, attempt_timeout: "100ms", op_timeout: "1s", stop_after: "2.5s"),
    faults: (schedule: [(at: "1s", fault: PowerLoss("n1")), (at: "1.05s", fault: Restart("n1"))]),
    checks: ["linearizability", "invariants"],
)"#;

#[test]
fn ack_before_local_sync_is_caught_within_10_seeds() {
    let scenario = scenarios::load_str(POWER_LOSS, "power-loss.ron").unwrap();
    for seed in 0..5 {
        let outcome = common::run(&scenario, seed);
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.failed());
        assert_eq!(
            common::count(&outcome, "lost_acked_writes_total"),
            0,
            "seed {seed}"
        );
    }
    let buggy = common::with(
        &scenario,
        "protocol.PrimaryBackup.ack_before_local_sync=true",
    );
    assert!(common::first_seed_failing(&buggy, 10, &["linearizability"]).is_some());
}

#[test]
fn session_without_position_is_caught_within_5_seeds() {
    let scenario = common::load("replica-lag-reads.ron");
    let sessions = common::with(
        &scenario,
        "protocol.PrimaryBackup.read_from=BackupWithSession",
    );
    let plain = common::with(&scenario, "protocol.PrimaryBackup.read_from=Backup");
    let forgetful = common::with(
        &sessions,
        "protocol.PrimaryBackup.session_without_position=true",
    );
    for seed in 0..5 {
        let outcome = common::run(&sessions, seed);
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.failed());
    }
    let session_checks = ["read-your-writes", "monotonic-reads"];
    assert!(common::first_seed_failing(&plain, 5, &session_checks).is_some());
    assert!(common::first_seed_failing(&forgetful, 5, &session_checks).is_some());
}

/// One client writing only, constant latencies, heartbeats slower than the
/// run: the only messages are the first round and the writes' own.
fn counting(servers: usize, mode: &str, duration: &str) -> scenarios::Scenario {
    let text = format!(
        r#"Scenario(
    name: "pb-count",
    duration: "{duration}",
    nodes: Count({servers}),
    network: (default: (latency: Constant("1ms"))),
    disks: (default: (sync_latency: Constant("1ms"))),
    protocol: PrimaryBackup(mode: {mode}, heartbeat_interval: "9s", lease: "9.5s", failover_timeout: "10s"),
    workload: (clients: 1, arrival: Closed(think: Constant("2ms")), mix: (read: 0.0, write: 1.0), keys: 2, attempt_timeout: "100ms", op_timeout: "1s", ops_per_client_max: 10),
    checks: ["linearizability", "invariants"],
)"#
    );
    scenarios::load_str(&text, "count.ron").unwrap()
}

#[test]
fn messages_per_write_match_theory_in_each_mode() {
    for servers in [3u64, 5] {
        let backups = servers - 1;
        // The first round: an append (the no-op) to each backup, and its ack.
        let first_round = 2 * backups;
        for mode in ["Sync", "SemiSync(acks: 1, fallback_timeout: \"1s\")"] {
            let outcome = common::run(&counting(servers as usize, mode, "1s"), 7);
            assert!(outcome.passed(), "{mode}: {:?}", outcome.failed());
            let writes = outcome.metrics.ok;
            assert_eq!(writes, 10, "{mode}");
            // Per write: the request, an append to each backup, each ack, the reply.
            assert_eq!(
                outcome.stats.sent,
                first_round + writes * (2 + 2 * backups),
                "{mode} with {servers} servers"
            );
        }
        // Async: per write only the request and the reply; the one ship
        // (at 1 s, after every write) is one append and one ack per backup.
        let outcome = common::run(
            &counting(servers as usize, "Async(ship_interval: \"1s\")", "1.5s"),
            7,
        );
        assert!(outcome.passed(), "Async: {:?}", outcome.failed());
        let writes = outcome.metrics.ok;
        assert_eq!(writes, 10);
        assert_eq!(outcome.stats.sent, first_round + 2 * writes + 2 * backups);
    }
}

#[test]
fn a_crash_loses_exactly_the_async_backlog_committed_since_the_last_ship() {
    // Ships at 100 ms and 200 ms (on the primary's clock, which is true
    // time here); the primary crashes at 250 ms.
    let text = r#"Scenario(
    name: "pb-backlog",
    duration: "1.5s",
    nodes: Count(3),
    network: (default: (latency: Constant("1ms"))),
    disks: (default: (sync_latency: Constant("1ms"))),
    protocol: PrimaryBackup(mode: Async(ship_interval: "100ms")),
    workload: (clients: 1, arrival: Closed(think: Exponential(mean: "5ms")), mix: (read: 0.0, write: 1.0), keys: 2, attempt_timeout: "100ms", op_timeout: "1s", stop_after: "240ms"),
    faults: (schedule: [(at: "250ms", fault: Crash("n1"))]),
    checks: ["invariants"],
)"#;
    let scenario = scenarios::load_str(text, "backlog.ron").unwrap();
    let ms = 1_000_000u64;
    for seed in 0..5 {
        let outcome = common::run(&scenario, seed);
        // After its first answer the client sends straight to n1: a write
        // is appended 1 ms after it is invoked and committed 1 ms later
        // (the sync). Lost: appended after the 200 ms ship and committed
        // before the 250 ms crash.
        let ops = &outcome.history.operations;
        let expected = ops
            .iter()
            .skip(1)
            .filter(|op| op.invoke_ns + ms > 200 * ms && op.invoke_ns + 2 * ms <= 250 * ms)
            .count() as u64;
        assert!(expected > 0, "seed {seed}: the backlog is empty");
        assert_eq!(
            common::count(&outcome, "lost_acked_writes_total"),
            expected,
            "seed {seed}"
        );
    }
}

#[test]
fn a_link_gives_a_kind_of_message_its_own_latency() {
    // Every message takes 1 ms but the backups' acks, which take 20 ms; a
    // sync takes 1 ms. A Sync write commits when the later ack arrives:
    // 1 ms to ship, 1 ms to sync, 20 ms back.
    let with_kinds = counting(3, "Sync", "1s");
    let with_kinds = common::with(
        &with_kinds,
        r#"network.default.kinds=[{"kind": "AppendAck", "latency": {"Constant": "20ms"}}]"#,
    );
    let outcome = common::run(&with_kinds, 7);
    assert!(outcome.passed(), "{:?}", outcome.failed());
    let commits = outcome
        .protocol_samples
        .iter()
        .find(|(name, _)| *name == "commit_latency_ms")
        .map(|(_, samples)| samples.clone())
        .unwrap();
    assert_eq!(commits.len(), 10);
    assert!(
        commits.iter().all(|ms| (*ms - 22.0).abs() < 1e-9),
        "{commits:?}"
    );
    // A kind the protocol does not send is refused, with the kinds it does.
    let typo = common::with(
        &with_kinds,
        r#"network.default.kinds=[{"kind": "AppendAk", "latency": {"Constant": "20ms"}}]"#,
    );
    let problems = scenarios::validate::validate(&typo).unwrap_err();
    let text = format!("{problems:?}");
    assert!(text.contains("network.default.kinds[0].kind"), "{text}");
    assert!(text.contains("did you mean `AppendAck`?"), "{text}");
}

/// A session guarantee's failure is said with the run's names, as a
/// linearizability failure is: "the read of k1 by client1, begun at ...,
/// returned ..., older than the write of ... by client1, completed at
/// ..., which client1 was obliged to see", never "process 4".
#[test]
fn a_session_failure_names_its_clients() {
    let mut scenario = common::load("replica-lag-reads.ron");
    scenario.sweep.clear();
    scenario.protocol = scenarios::set::apply(
        &scenario,
        "protocol.PrimaryBackup.read_from",
        ron::Value::String("Backup".into()),
    )
    .unwrap()
    .protocol;
    let outcome = common::run(&scenario, 0);
    let check = outcome
        .checks
        .iter()
        .find(|c| c.name == "read-your-writes")
        .expect("checked");
    assert!(
        check.detail.contains("first: the read of ") && check.detail.contains(" by client"),
        "{}",
        check.detail
    );
    assert!(!check.detail.contains("process"), "{}", check.detail);
}
