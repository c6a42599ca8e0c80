//! Transactions in the simulator: Raft and KvSingle apply each one all at
//! once through their log, so their histories are strict serializable
//! under any faults, drawn with the configuration (cluster size, keys,
//! transaction length, read share, list or register); follower reads are
//! caught; the protocols that do not serve transactions refuse them with
//! a clear error.

mod common;

use common::run;
use proptest::prelude::*;
use scenarios::duration::Dur;
use scenarios::strategies::fault_schedule;
use scenarios::Scenario;

#[allow(clippy::too_many_arguments)]
fn base(
    protocol: &str,
    servers: u32,
    keys: u32,
    mops_max: u32,
    read_share: f64,
    lists: bool,
) -> Scenario {
    let check = if lists { "list-append" } else { "rw-register" };
    let mut scenario = unchecked(protocol, servers, keys, mops_max, read_share, lists);
    scenario.checks = vec![check.to_string(), "invariants".to_string()];
    scenarios::validate::validate(&scenario).unwrap();
    scenario
}

/// The scenario without named checks, parsed but not validated.
fn unchecked(
    protocol: &str,
    servers: u32,
    keys: u32,
    mops_max: u32,
    read_share: f64,
    lists: bool,
) -> Scenario {
    let kind = if lists { "ListAppend" } else { "RwRegister" };
    let text = format!(
        r#"Scenario(
            name: "txn-property",
            duration: "3s",
            nodes: Count({servers}),
            network: (default: (latency: Uniform(min: "1ms", max: "5ms"))),
            protocol: {protocol},
            workload: (
                clients: 4,
                arrival: Closed(think: Exponential(mean: "5ms")),
                mix: (txn: 1.0),
                transactions: (kind: {kind}, mops_max: {mops_max}, read_share: {read_share}),
                keys: {keys},
                attempt_timeout: "100ms",
                op_timeout: "1s",
                stop_after: "2.5s",
            ),
        )"#
    );
    scenarios::parse_str(&text, "txn-property.ron").unwrap()
}

fn names(servers: u32) -> Vec<String> {
    (1..=servers).map(|i| format!("n{i}")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Raft's transactions are strict serializable whatever the faults,
    /// the cluster and the transactions' shape.
    #[test]
    fn raft_transactions_are_strict_serializable(
        servers in prop::sample::select(vec![3u32, 5]),
        keys in 1u32..12,
        mops_max in 1u32..6,
        read_share in 0.0f64..1.0,
        lists in any::<bool>(),
        read_mode in prop::sample::select(vec!["Log", "ReadIndex"]),
        schedule in fault_schedule(names(5), Dur::secs(2)),
        seed in any::<u64>(),
    ) {
        let protocol = format!("Raft(read_mode: {read_mode}, leader_noop: true)");
        let mut scenario = base(&protocol, servers, keys, mops_max, read_share, lists);
        scenario.faults.schedule = schedule.into_iter().filter(|f| {
            // Faults may name only the servers this cluster has.
            let text = format!("{:?}", f.fault);
            (servers + 1..=5).all(|n| !text.contains(&format!("\"n{n}\"")))
        }).collect();
        if scenarios::validate::validate(&scenario).is_err() {
            return Ok(());
        }
        let outcome = run(&scenario, seed);
        prop_assert!(outcome.passed(), "failed {:?}; checks {:?}", outcome.failed(), outcome.checks);
    }

    /// KvSingle's too, with crashes and power losses of its one store.
    #[test]
    fn kv_single_transactions_are_strict_serializable(
        keys in 1u32..12,
        mops_max in 1u32..6,
        read_share in 0.0f64..1.0,
        lists in any::<bool>(),
        schedule in fault_schedule(names(1), Dur::secs(2)),
        seed in any::<u64>(),
    ) {
        let mut scenario = base("KvSingle()", 1, keys, mops_max, read_share, lists);
        scenario.faults.schedule = schedule;
        if scenarios::validate::validate(&scenario).is_err() {
            return Ok(());
        }
        let outcome = run(&scenario, seed);
        prop_assert!(outcome.passed(), "failed {:?}; checks {:?}", outcome.failed(), outcome.checks);
    }
}

#[test]
fn follower_reads_are_caught_by_the_list_append_check() {
    let scenario = common::with(
        &common::load("txn-list-append.ron"),
        "protocol.Raft.read_mode=Follower",
    );
    let failed = (0..10).find(|&seed| {
        run(&scenario, seed)
            .failed()
            .iter()
            .any(|f| f == "list-append")
    });
    assert!(
        failed.is_some(),
        "follower reads went unnoticed in ten seeds"
    );
    let outcome = run(&scenario, failed.unwrap());
    let check = outcome
        .checks
        .iter()
        .find(|c| c.name == "list-append")
        .unwrap();
    assert!(
        check.detail.contains("strict-serializable"),
        "{}",
        check.detail
    );
    assert!(
        check.detail.contains("-realtime") || check.detail.contains("-process"),
        "{}",
        check.detail
    );
}

#[test]
fn protocols_without_transactions_refuse_them() {
    for protocol in ["PrimaryBackup()", "Quorum()", "TwoPhaseCommit()", "Saga()"] {
        let scenario = unchecked(protocol, 3, 4, 2, 0.5, true);
        let problems = scenarios::validate::validate(&scenario).expect_err(protocol);
        let text = format!("{problems:?}");
        assert!(
            text.contains("serves no transactions"),
            "{protocol}: {text}"
        );
        assert!(
            text.contains("Raft") && text.contains("KvSingle"),
            "{protocol}: {text}"
        );
    }
    // A transactional mix is transactions only.
    let mut mixed = unchecked("Raft()", 3, 4, 2, 0.5, true);
    mixed.workload.mix.read = 0.5;
    let text = format!("{:?}", scenarios::validate::validate(&mixed).unwrap_err());
    assert!(text.contains("transactions only"), "{text}");
    // Unknown consistency models are named.
    let mut unknown = unchecked("Raft()", 3, 4, 2, 0.5, true);
    unknown.workload.transactions.as_mut().unwrap().models = Some(vec!["serialisable".into()]);
    let text = format!("{:?}", scenarios::validate::validate(&unknown).unwrap_err());
    assert!(text.contains("workload.transactions.models[0]"), "{text}");
}
