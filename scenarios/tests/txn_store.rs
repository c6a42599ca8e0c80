//! TxnStore through whole runs: each bug switch caught by the history
//! checkers with the anomaly it lets through, each isolation level held to
//! the model it promises under drawn configurations and fault schedules,
//! and the exact messages a cross-shard commit costs, with and without a
//! fault. (Handler-level tests live beside each module in
//! `protocols/src/txn_store/`.)

mod common;

use scenarios::swarm::{self, SwarmProtocol};
use scenarios::{load_str, RunOutcome, Scenario};

/// The anomalies a failed transactional check named, from its detail.
fn anomalies(outcome: &RunOutcome) -> String {
    outcome
        .checks
        .iter()
        .filter(|c| c.name == "list-append" || c.name == "rw-register")
        .map(|c| c.detail.clone())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The first seed below `limit` whose run names `anomaly`, and the
/// details of every run tried.
fn caught(scenario: &Scenario, limit: u64, anomalies_named: &[&str]) -> Result<u64, Vec<String>> {
    let mut seen = Vec::new();
    for seed in 0..limit {
        let outcome = common::run(scenario, seed);
        let named = anomalies(&outcome);
        if anomalies_named
            .iter()
            .any(|a| named.contains(&format!("{a} ×")))
        {
            return Ok(seed);
        }
        seen.push(format!("seed {seed}: {named}"));
    }
    Err(seen)
}

/// Seeds within which each bug switch must be caught.
const SEEDS_TO_CATCH: u64 = 3;

/// Each bug switch, the settings it needs and the anomalies that name it.
type SwitchCase = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

#[test]
fn each_bug_switch_is_caught_with_the_anomaly_it_lets_through() {
    catch_each_bug_switch(&[]);
}

/// The switches break a shard's concurrency control or a coordinator's
/// timestamps, not replication: each is caught as well when the shards
/// are Raft groups of three (one group on three servers), and the correct
/// levels pass there too.
#[test]
fn each_bug_switch_is_caught_when_shards_are_raft_groups() {
    catch_each_bug_switch(&["nodes={\"Count\": 3}", "protocol.TxnStore.replicas=3"]);
}

/// The clients coordinate their own transactions: the switches break the
/// same rules wherever the coordinator runs. The clocks that stamp
/// transactions are then the clients', so it is theirs that are skewed
/// (30 ms apart, as the servers' are in clock-skew-si).
#[test]
fn each_bug_switch_is_caught_when_clients_coordinate() {
    catch_each_bug_switch(&[
        "protocol.TxnStore.coordinator=Client",
        r#"clocks.nodes=[{"node":"client1","offset":"15ms"},{"node":"client2","offset":"-15ms"},{"node":"client3","offset":"15ms"},{"node":"client4","offset":"-15ms"}]"#,
    ]);
}

/// Runs every bug switch's case with `extra` set too.
fn catch_each_bug_switch(extra: &[&str]) {
    let cases: [SwitchCase; 5] = [
        (
            "lost-update.ron",
            &[
                "protocol.TxnStore.si_without_write_conflict_check=true",
                "protocol.TxnStore.isolation=SnapshotIsolation",
            ],
            &["lost-update"],
        ),
        (
            "write-skew.ron",
            &[
                "protocol.TxnStore.isolation=Occ",
                "protocol.TxnStore.occ_skip_validation=true",
            ],
            &["G2-item"],
        ),
        (
            "isolation-levels.ron",
            &[
                "protocol.TxnStore.isolation=ReadCommitted",
                "protocol.TxnStore.read_uncommitted=true",
                "workload.transactions.models=[\"read-committed\"]",
            ],
            &["G1a", "G1b"],
        ),
        (
            "isolation-levels.ron",
            &["protocol.TxnStore.release_locks_before_commit=true"],
            &["G1c", "G2-item", "G-single"],
        ),
        (
            "clock-skew-si.ron",
            &["protocol.TxnStore.local_clock_timestamps_without_wait=true"],
            &["G-single-realtime"],
        ),
    ];
    for (file, sets, named) in cases {
        let mut scenario = common::load(file);
        for set in sets.iter().chain(extra) {
            scenario = common::with(&scenario, set);
        }
        if let Err(seen) = caught(&scenario, SEEDS_TO_CATCH, named) {
            panic!("{file} with {sets:?} {extra:?}: none of {named:?} in {SEEDS_TO_CATCH} seeds: {seen:#?}");
        }
        // And without the switch, the same level passes.
        let correct = common::load(file);
        let correct = (sets.iter().chain(extra))
            .filter(|s| !s.contains("=true"))
            .fold(correct, |s, set| common::with(&s, set));
        let outcome = common::run(&correct, 0);
        let expected_to_fail = file == "isolation-levels.ron" && sets[0].contains("ReadCommitted");
        if !expected_to_fail {
            assert!(
                outcome.passed(),
                "{file} without the switch {extra:?}: {:?}",
                anomalies(&outcome)
            );
        }
    }
}

/// Two-phase commit's own switch: a prepared shard that decides alone
/// when its coordinator is silent commits what the coordinator, back
/// from its crash with no decision on disk, aborts (presumed abort). The
/// monitor's atomic commit sees the transaction installed on one shard
/// and dropped on another, within 3 seeds of txn-coordinator-crash, and
/// within 20 when the shards are Raft groups of three.
#[test]
fn commit_on_timeout_is_caught_by_atomic_commit() {
    // On groups a new leader also commits what it finds in doubt, so the
    // shards of one transaction agree more often: it takes more seeds.
    let cases = [
        (&[][..], SEEDS_TO_CATCH),
        (
            &["nodes={\"Count\": 6}", "protocol.TxnStore.replicas=3"][..],
            20,
        ),
    ];
    for (extra, seeds) in cases {
        let mut scenario = common::load("txn-coordinator-crash.ron");
        for set in extra
            .iter()
            .chain(&["protocol.TxnStore.commit_on_timeout=true"])
        {
            scenario = common::with(&scenario, set);
        }
        let caught = (0..seeds).find(|seed| {
            let failed = common::run(&scenario, *seed).failed();
            failed.iter().any(|f| f == "atomic-commit")
        });
        assert!(
            caught.is_some(),
            "{extra:?}: a shard committed alone, unseen"
        );
        // The same seeds without the switch keep every commit atomic.
        let mut correct = common::load("txn-coordinator-crash.ron");
        for set in extra {
            correct = common::with(&correct, set);
        }
        let outcome = common::run(&correct, caught.unwrap());
        assert!(outcome.passed(), "{extra:?}: {:?}", outcome.checks);
    }
}

/// With clients as coordinators, a client cut off after its shards voted
/// leaves them in doubt; with the switch one commits alone what the
/// client, hearing no vote by its deadline, aborted. Caught within 20
/// seeds (3 of the first 20 show it); the same seeds pass without it.
#[test]
fn commit_on_timeout_is_caught_when_clients_coordinate() {
    let isolated = common::with(
        &common::with(
            &common::load("txn-coordinator-crash.ron"),
            "protocol.TxnStore.coordinator=Client",
        ),
        r#"faults.schedule=[{"at":"1s","fault":{"Isolate":"client2"}},{"at":"1.6s","fault":"Heal"}]"#,
    );
    let broken = common::with(&isolated, "protocol.TxnStore.commit_on_timeout=true");
    let caught = (0..20).find(|seed| {
        let failed = common::run(&broken, *seed).failed();
        failed.iter().any(|f| f == "atomic-commit")
    });
    let Some(seed) = caught else {
        panic!("a shard committed alone, unseen")
    };
    let outcome = common::run(&isolated, seed);
    assert!(outcome.passed(), "{:?}", outcome.checks);
}

/// The property: under drawn clusters, networks, disks, clocks, params
/// and fault schedules, 2PL and OCC are strict serializable, snapshot
/// isolation strong snapshot isolation and read committed read committed
/// (the model each generated scenario names), and no commit is torn.
#[test]
fn every_level_keeps_its_promise_under_drawn_faults() {
    let outcome = swarm::run(SwarmProtocol::TxnStore, 0..80, 0..2);
    assert_eq!(outcome.runs, 160);
    assert!(
        outcome.failures.is_empty(),
        "{}",
        outcome
            .failures
            .iter()
            .map(|f| f.reproducer())
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Every level and both timestamp sources were drawn.
    let texts: Vec<String> = (0..80)
        .map(|i| swarm::generate(SwarmProtocol::TxnStore, i).text)
        .collect();
    for needle in [
        "isolation: TwoPhaseLocking",
        "isolation: Occ",
        "isolation: SnapshotIsolation",
        "isolation: ReadCommitted",
        "LocalClocks",
        "Oracle",
        "PowerLoss",
        "replicas: 3",
        "replicas: 5",
        "coordinator: Client",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(needle)),
            "{needle} never drawn"
        );
    }
    assert!(
        outcome.passed * 2 > outcome.runs,
        "most runs are decided: {outcome:?}"
    );
}

/// Transactions begun in `from_ms..to_ms` that committed.
fn committed_between(outcome: &RunOutcome, from_ms: f64, to_ms: f64) -> u64 {
    (outcome.metrics.availability.iter())
        .filter(|w| w.start_ms >= from_ms && w.start_ms < to_ms)
        .map(|w| w.ok)
        .sum()
}

/// txn-shard-failover: n1 and n4 are down from 1 s to 2.5 s. One server
/// per shard loses two of six shards for that time, and the keys the two
/// crashed coordinators left prepared; Raft groups of three lose one
/// replica each, elect where a leader went, resolve the crashed
/// coordinators' transactions from their groups' logs, and serve.
#[test]
fn shards_as_raft_groups_keep_serving_through_a_servers_crash() {
    let scenario = common::load("txn-shard-failover.ron");
    let mut committed = [0u64; 2];
    let mut takeovers = [0u64; 2];
    for (i, replicas) in [1, 3].into_iter().enumerate() {
        let set = format!("protocol.TxnStore.replicas={replicas}");
        let scenario = common::with(&scenario, &set);
        for seed in 0..4 {
            let outcome = common::run(&scenario, seed);
            assert!(outcome.passed(), "{set} seed {seed}: {:?}", outcome.checks);
            // From an election after the crash until the restart.
            committed[i] += committed_between(&outcome, 1_400.0, 2_500.0);
            takeovers[i] += common::count(&outcome, "shard_takeovers");
        }
    }
    assert_eq!(takeovers[0], 0, "one server per shard has no group");
    // Each group elects at the start (4 seeds, 2 groups), and again where
    // a crashed server led.
    assert!(takeovers[1] > 8, "{takeovers:?}");
    assert!(
        committed[1] > 5 * committed[0],
        "groups serve through the outage: {committed:?}"
    );
}

/// One transaction over two shards, the coordinator being one of them,
/// on a network and disks of constant latency, with a cut between the
/// servers at `cut` (from, to in ms), if any.
fn one_cross_shard_commit(cut: Option<(&str, &str)>) -> RunOutcome {
    one_cross_shard_commit_timing(cut, "500ms", "Server")
}

/// As `one_cross_shard_commit`, the client giving each attempt `attempt`,
/// the coordinator at `coordinator` (Server or Client).
fn one_cross_shard_commit_timing(
    cut: Option<(&str, &str)>,
    attempt: &str,
    coordinator: &str,
) -> RunOutcome {
    let faults = match cut {
        Some((from, to)) => format!(
            "faults: (schedule: [(at: \"{from}\", fault: OneWay(from: [\"n1\"], to: [\"n2\"])), (at: \"{from}\", fault: OneWay(from: [\"n2\"], to: [\"n1\"])), (at: \"{to}\", fault: Heal)]),"
        ),
        None => String::new(),
    };
    let text = format!(
        r#"Scenario(
    name: "txn-message-count",
    seed: 1,
    duration: "1s",
    nodes: Count(2),
    network: (default: (latency: Constant("1ms"))),
    disks: (default: (sync_latency: Constant("1ms"))),
    protocol: TxnStore(isolation: TwoPhaseLocking, sharding: Range, request_timeout: "100ms", coordinator: {coordinator}),
    workload: (
        clients: 1,
        arrival: Closed(think: Constant("10ms")),
        mix: (txn: 1.0),
        transactions: (kind: RwRegister, pattern: WriteSkew),
        keys: 2,
        attempt_timeout: "{attempt}",
        op_timeout: "500ms",
        ops_per_client_max: 1,
    ),
    {faults}
    checks: ["rw-register", "invariants"],
)"#
    );
    let scenario = load_str(&text, "count.ron").unwrap();
    scenarios::run(&scenarios::resolve(&scenario, 1)).unwrap()
}

#[test]
fn a_cross_shard_commit_costs_an_exact_count_of_messages() {
    // The request; execute, executed, prepare, vote, commit and its
    // acknowledgement with the other shard; the answer. The coordinator's
    // own shard costs no message.
    let quiet = one_cross_shard_commit(None);
    assert_eq!((quiet.metrics.ok, quiet.metrics.messages_sent), (1, 8));
    assert_eq!(common::count(&quiet, "commits_cross_shard"), 1);
    // The commit is cut off (17 ms): the shard, prepared, asks after
    // `request_timeout` and is told again: a query and a second commit.
    let commit_lost = one_cross_shard_commit(Some(("16.5ms", "18.5ms")));
    assert_eq!(
        (commit_lost.metrics.ok, commit_lost.metrics.messages_sent),
        (1, 10)
    );
    assert_eq!(commit_lost.metrics.messages_dropped.partition, 1);
    // The vote is cut off (16 ms): the coordinator aborts at its
    // deadline and says so to the shard (7: no commit, no ack).
    let vote_lost = one_cross_shard_commit(Some(("15.5ms", "17.5ms")));
    assert_eq!(
        (vote_lost.metrics.ok, vote_lost.metrics.messages_sent),
        (0, 7)
    );
    assert_eq!(common::count(&vote_lost, "aborts/timeout"), 1);
    // The acknowledgement is cut off (19 ms): nothing is sent again; the
    // coordinator keeps its decision on disk.
    let ack_lost = one_cross_shard_commit(Some(("18.5ms", "20.5ms")));
    assert_eq!(
        (ack_lost.metrics.ok, ack_lost.metrics.messages_sent),
        (1, 8)
    );
    for outcome in [quiet, commit_lost, vote_lost, ack_lost] {
        assert!(outcome.passed(), "{:?}", outcome.checks);
    }
}

/// With the client as coordinator, no request or answer crosses the
/// network, and both shards are a hop away: execute, executed, prepare,
/// vote, commit and its acknowledgement with each of the two shards.
#[test]
fn a_client_coordinated_commit_costs_an_exact_count_of_messages() {
    let quiet = one_cross_shard_commit_timing(None, "500ms", "Client");
    assert!(quiet.passed(), "{:?}", quiet.checks);
    assert_eq!((quiet.metrics.ok, quiet.metrics.messages_sent), (1, 12));
    assert_eq!(common::count(&quiet, "commits_cross_shard"), 1);
    // A coordinator at the client saves the request's and the answer's
    // hops (2 ms) but pays a hop to its own shard for each of execute,
    // prepare and commit; the answer goes at the decision's sync.
    let server = one_cross_shard_commit(None);
    let latency = |o: &RunOutcome| o.metrics.latency_ms.as_ref().expect("one commit").p50;
    assert!(
        latency(&quiet) < latency(&server),
        "client {} ms, server {} ms",
        latency(&quiet),
        latency(&server)
    );
}

/// Each of the six TxnStore scenarios meets its expectation (per group)
/// over 500 seeds.
#[test]
#[ignore = "heavy tier: cargo test --workspace --profile ci --tests -- --ignored"]
fn the_txn_store_scenarios_meet_their_expectations_over_500_seeds() {
    for file in [
        "isolation-levels.ron",
        "write-skew.ron",
        "lost-update.ron",
        "clock-skew-si.ron",
        "txn-coordinator-crash.ron",
        "txn-shard-failover.ron",
    ] {
        common::meets_expectations_over(file, 500);
    }
}

/// The same with each client coordinating its own transactions; in
/// clock-skew-si the skew is then the clients' (six clients alternating
/// 15 ms ahead and behind, 30 ms apart as the servers are in the file).
#[test]
#[ignore = "heavy tier: cargo test --workspace --profile ci --tests -- --ignored"]
fn the_txn_store_scenarios_meet_their_expectations_with_client_coordinators_over_500_seeds() {
    let client = ("protocol.TxnStore.coordinator", "\"Client\"");
    for file in [
        "isolation-levels.ron",
        "write-skew.ron",
        "lost-update.ron",
        "txn-coordinator-crash.ron",
        "txn-shard-failover.ron",
    ] {
        common::meets_expectations_over_with(file, 500, &[client]);
    }
    let skewed_clients = r#"[(node: "client1", offset: "15ms"), (node: "client2", offset: "-15ms"), (node: "client3", offset: "15ms"), (node: "client4", offset: "-15ms"), (node: "client5", offset: "15ms"), (node: "client6", offset: "-15ms")]"#;
    common::meets_expectations_over_with(
        "clock-skew-si.ron",
        500,
        &[client, ("clocks.nodes", skewed_clients)],
    );
}

/// An abort that answers an attempt after an earlier one timed out is not
/// a definite failure: the earlier attempt may still commit through
/// another coordinator. The client records it as unknown (`info`).
#[test]
fn an_abort_after_a_timed_out_attempt_is_recorded_as_unknown() {
    // The vote is cut off, so the coordinator aborts at its deadline
    // (100 ms); the client's first attempt timed out at 50 ms and it
    // retried elsewhere, refused there, before the abort came.
    let outcome = one_cross_shard_commit_timing(Some(("15.5ms", "17.5ms")), "50ms", "Server");
    assert_eq!(common::count(&outcome, "aborts/timeout"), 1);
    assert_eq!(
        (
            outcome.metrics.ok,
            outcome.metrics.fail,
            outcome.metrics.info
        ),
        (0, 0, 1)
    );
    // With one attempt only, the same abort is a definite failure.
    let single = one_cross_shard_commit(Some(("15.5ms", "17.5ms")));
    assert_eq!((single.metrics.fail, single.metrics.info), (1, 0));
}
