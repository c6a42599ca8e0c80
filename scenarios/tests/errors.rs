//! Snapshot tests of the loader's error messages: each broken scenario and
//! the exact text a user sees. One `check` helper; one line per case.

/// A valid scenario; cases break one thing in it.
const BASE: &str = r#"Scenario(
    name: "t",
    duration: "2s",
    nodes: Count(3),
    protocol: KvSingle(),
    workload: (clients: 2),
)"#;

fn check(input: &str, expected: &str) {
    let error = scenarios::load_str(input, "case.ron").expect_err("the input is broken");
    assert_eq!(error.to_string(), expected, "\ninput:\n{input}");
}

/// BASE with `from` replaced by `to` (exactly once).
fn edit(from: &str, to: &str) -> String {
    assert_eq!(BASE.matches(from).count(), 1, "{from} must occur once");
    BASE.replace(from, to)
}

#[test]
fn the_base_is_valid() {
    scenarios::load_str(BASE, "case.ron").unwrap();
}

#[test]
fn misspelled_field_has_position_and_hint() {
    check(
        &edit("duration:", "durration:"),
        "case.ron:3:14: Unexpected field named `durration` in `Scenario`, expected one of `name`, `description`, `lesson`, `seed`, `seeds`, `duration`, `nodes`, `regions`, `network`, `clocks`, `disks`, `protocol`, `workload`, `faults`, `checks`, `outputs`, `limits`, `expect`, or `sweep` instead\n  hint: did you mean `duration`?",
    );
}

#[test]
fn misspelled_protocol_has_hint() {
    check(
        &edit("KvSingle()", "KvSingel()"),
        "case.ron:5:23: Unexpected variant named `KvSingel` in enum `ProtocolSpec`, expected one of `PingPong`, `KvSingle`, `Raft`, `RingElection`, `BullyElection`, `TwoPhaseCommit`, `ThreePhaseCommit`, `Saga`, `PrimaryBackup`, `Quorum`, `TxnStore`, `Lock`, or `MultiLeader` instead\n  hint: did you mean `KvSingle`?",
    );
}

#[test]
fn misspelled_protocol_param_has_hint() {
    check(
        &edit("KvSingle()", "KvSingle(ack_before_snc: true)"),
        "case.ron:5:38: Unexpected field named `ack_before_snc`, expected either `flush_interval` or `ack_before_sync` instead\n  hint: did you mean `ack_before_sync`?",
    );
}

/// Regression: a misspelt field inside an enum's struct variant (a
/// latency, an arrival, a fault, a protocol mode) was silently dropped, so
/// `Uniform(min, max, lossy: 0.5)` ran without the loss its author meant.
/// Those variants now refuse unknown fields like every struct does.
#[test]
fn misspelled_field_inside_a_latency_has_position_and_hint() {
    check(
        &edit(
            "    nodes: Count(3),\n",
            "    nodes: Count(3),\n    network: (default: (latency: Uniform(min: \"1ms\", max: \"3ms\", lossy: 0.5))),\n",
        ),
        "case.ron:5:71: Unexpected field named `lossy` in `Uniform`, expected either `min` or `max` instead\n  hint: expected one of: `min`, `max`",
    );
    check(
        &edit("KvSingle()", "PrimaryBackup(mode: Async(ship_intrval: \"5ms\"))"),
        "case.ron:5:53: Unexpected field named `ship_intrval`, expected `ship_interval` instead\n  hint: did you mean `ship_interval`?",
    );
}

#[test]
fn missing_field_says_what_to_add() {
    check(
        &edit("    duration: \"2s\",\n", ""),
        "case.ron:6:1: Unexpected missing field named `duration` in `Scenario`\n  hint: add `duration: ...`; see scenarios/README.md",
    );
}

#[test]
fn duration_without_unit() {
    check(
        &edit("\"2s\"", "\"2\""),
        "case.ron:3:18: bad duration: invalid duration \"2\": add a unit: ns, us, ms, s, m or h (e.g. \"150ms\")",
    );
}

#[test]
fn negative_duration() {
    check(
        &edit("\"2s\"", "\"-2s\""),
        "case.ron:3:20: duration \"-2s\" is negative; durations here must be zero or more",
    );
}

#[test]
fn unknown_node_in_fault_names_the_path() {
    check(
        &edit(
            "workload: (clients: 2),",
            "workload: (clients: 2), faults: (schedule: [(at: \"1s\", fault: Crash(\"n4\"))]),",
        ),
        "case.ron: faults.schedule[0].fault: unknown server \"n4\"; did you mean \"n3\"?",
    );
}

#[test]
fn probability_out_of_range() {
    check(
        &edit(
            "nodes: Count(3),",
            "nodes: Count(3), network: (default: (loss: 1.5)),",
        ),
        "case.ron: network.default: loss must be a probability in [0, 1], got 1.5",
    );
}

#[test]
fn overlapping_partition_groups() {
    check(
        &edit("workload: (clients: 2),", "workload: (clients: 2), faults: (schedule: [(at: \"1s\", fault: Partition([[\"n1\", \"n2\"], [\"n2\", \"n3\"]]))]),"),
        "case.ron: faults.schedule[0].fault: node \"n2\" is in more than one group; partition groups must not overlap",
    );
}

#[test]
fn fault_after_the_end() {
    check(
        &edit("workload: (clients: 2),", "workload: (clients: 2), faults: (schedule: [(at: \"3s\", fault: Heal)]),"),
        "case.ron: faults.schedule[0].at: 3s is after the end of the run (2s); move it earlier or lengthen `duration`",
    );
}

#[test]
fn protocol_param_out_of_range() {
    check(
        &edit("KvSingle()", "KvSingle(flush_interval: \"2m\")"),
        "case.ron: protocol.KvSingle.flush_interval: at most 60s, got 120s",
    );
}

#[test]
fn unknown_check_has_hint() {
    check(
        &edit(
            "workload: (clients: 2),",
            "workload: (clients: 2), checks: [\"linearizabilty\"],",
        ),
        "case.ron: checks[0]: unknown check \"linearizabilty\"; did you mean `linearizability`?",
    );
}

#[test]
fn clients_for_a_protocol_without_clients() {
    check(
        &edit("KvSingle()", "PingPong()"),
        "case.ron: workload.clients: PingPong serves no clients; set `clients: 0`",
    );
}

#[test]
fn several_problems_are_reported_together() {
    check(
        &edit("nodes: Count(3),", "nodes: Count(0), expect: Violation([\"linearisability\"]),"),
        "case.ron: nodes: Count must be between 1 and 100000, got 0\ncase.ron: expect.Violation[0]: unknown check \"linearisability\"; did you mean `linearizability`?",
    );
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let huge = format!("{BASE}{}", " ".repeat(scenarios::load::SCENARIO_BYTES_MAX));
    check(&huge, &format!("case.ron: cannot read the scenario: the text is {} bytes; scenarios are limited to 4194304", huge.len()));
}

#[test]
fn deep_nesting_is_refused_not_recursed() {
    let deep = format!(
        "{}Constant(\"1ms\"){}",
        "Mixture([(1.0, ".repeat(500),
        ")])".repeat(500)
    );
    let input = edit(
        "nodes: Count(3),",
        &format!("nodes: Count(3), network: (default: (latency: {deep})),"),
    );
    let error = scenarios::load_str(&input, "case.ron")
        .unwrap_err()
        .to_string();
    assert!(error.contains("nesting is limited to 64 levels"), "{error}");
}

#[test]
fn a_client_mix_must_name_a_client_once() {
    check(
        &edit(
            "workload: (clients: 2)",
            r#"workload: (clients: 2, client_mixes: [(client: "client3", mix: (read: 1.0))])"#,
        ),
        "case.ron: workload: client_mixes[0].client: \"client3\" is not a client; clients are client1..client2",
    );
    check(
        &edit(
            "workload: (clients: 2)",
            r#"workload: (clients: 2, client_mixes: [(client: "client1", mix: (read: 1.0)), (client: "client1", mix: (write: 1.0))])"#,
        ),
        "case.ron: workload: client_mixes[1].client: \"client1\" has a mix already; give each client one",
    );
    check(
        &edit(
            "workload: (clients: 2)",
            r#"workload: (clients: 2, client_mixes: [(client: "client2", mix: (read: 0.0))])"#,
        ),
        "case.ron: workload: client_mixes[0].mix: weights must be finite, non-negative and not all zero",
    );
}

#[test]
fn transfers_go_to_the_commit_protocols_only() {
    check(
        &edit(
            "workload: (clients: 2)",
            "workload: (clients: 2, mix: (read: 0.5, transfer: 0.5), keys: 4)",
        ),
        "case.ron: workload.mix.transfer: KvSingle serves no transfers (TwoPhaseCommit and ThreePhaseCommit do); remove `transfer`",
    );
    check(
        &edit("protocol: KvSingle()", "protocol: TwoPhaseCommit()"),
        "case.ron: workload.mix: TwoPhaseCommit serves bank transfers (and audits of every balance) only: write `mix: (transfer: 1.0)` or `mix: (transfer: 0.9, audit: 0.1)`",
    );
    check(
        &edit(
            "workload: (clients: 2)",
            "workload: (clients: 2, mix: (read: 0.5, audit: 0.5), keys: 4)",
        ),
        "case.ron: workload.mix.audit: KvSingle keeps no bank: audits read the accounts of the atomic-commit protocols (TwoPhaseCommit and ThreePhaseCommit do); remove `audit`",
    );
    check(
        &edit("protocol: KvSingle()", "protocol: ThreePhaseCommit()").replace(
            "workload: (clients: 2)",
            "workload: (clients: 2, mix: (transfer: 1.0), keys: 1)",
        ),
        "case.ron: workload: keys: a transfer needs two accounts, so keys must be at least 2, got 1",
    );
    check(
        &edit("protocol: KvSingle()", "protocol: TwoPhaseCommit(vote_timeout: \"0s\")")
            .replace("workload: (clients: 2)", "workload: (clients: 2, mix: (transfer: 1.0), keys: 4)")
            .replace("Count(3)", "Count(1)"),
        "case.ron: nodes: atomic commit needs a coordinator and at least one shard, at most 1000 servers; got 1",
    );
}

#[test]
fn orders_go_to_the_saga_protocol_only() {
    check(
        &edit(
            "workload: (clients: 2)",
            "workload: (clients: 2, mix: (order: 1.0))",
        ),
        "case.ron: workload.mix.order: KvSingle serves no orders (Saga does); remove `order`",
    );
    check(
        &edit("protocol: KvSingle()", "protocol: Saga()").replace("Count(3)", "Count(4)"),
        "case.ron: workload.mix: Saga serves orders and stock reads only: write `mix: (order: 1.0)`, optionally with `read`",
    );
    check(
        &edit("protocol: KvSingle()", "protocol: Saga()")
            .replace("workload: (clients: 2)", "workload: (clients: 2, mix: (order: 1.0))"),
        "case.ron: nodes: a saga cluster has exactly 4 servers (orders, inventory, payment, shipping), got 3",
    );
}

// Syntax errors that teach the right shape (`syntax_hint.rs`). The parser's
// own words ("Expected string") say what it wanted, not what to write.

#[test]
fn a_number_where_a_duration_goes_shows_the_string_form() {
    check(
        &edit(r#"duration: "2s""#, "duration: 6"),
        "case.ron:3:15: Expected string\n  hint: `duration` takes a string with a unit: `duration: \"6s\"` (durations: \"150ms\", \"6s\", \"2m\"; sizes: \"512MiB\", \"1GiB\")",
    );
}

#[test]
fn a_protocol_param_in_the_wrong_shape_shows_its_default() {
    check(
        &edit("KvSingle()", r#"Raft(election_timeout: "150ms")"#),
        "case.ron:5:38: Expected opening `(`\n  hint: Raft's `election_timeout` is written like `election_timeout: (\"150ms\", \"300ms\")` (its default)",
    );
}

#[test]
fn a_missing_close_paren_is_pointed_at() {
    // The struct left open swallows the next field of the scenario.
    let text = BASE.replace(
        "nodes: Count(3),",
        "nodes: Count(3),\n    network: (default: (loss: 0.1),",
    );
    check(
        &text,
        "case.ron:6:13: Unexpected field named `protocol` in `NetworkSpec`, expected one of `default`, `regions`, or `links` instead\n  hint: `protocol` is a field of the scenario itself: is the `)` that closes `network: (` (line 5) missing?",
    );
    // An entry of a list left open.
    let text = BASE.replace(
        "workload: (clients: 2),",
        "workload: (clients: 2),\n    faults: (schedule: [\n        (at: \"1s\", fault: Crash(\"n1\"),\n        (at: \"2s\", fault: Restart(\"n1\")),\n    ]),",
    );
    let error = scenarios::load_str(&text, "case.ron")
        .unwrap_err()
        .to_string();
    assert!(
        error.ends_with("hint: inside `(` opened at 8:9: is a `)` or a `,` missing before here?"),
        "{error}"
    );
}

/// A leaderless store has no single order of a key's writes for a
/// compare-and-set or an append to build on.
#[test]
fn the_quorum_store_refuses_cas_and_append() {
    check(
        &edit("protocol: KvSingle()", "protocol: Quorum()").replace(
            "workload: (clients: 2)",
            "workload: (clients: 2, mix: (read: 0.5, cas: 0.5))",
        ),
        "case.ron: workload.mix.cas: Quorum serves reads and blind writes only: a leaderless store has no single order of a key's writes for `cas` to build on; remove `cas`",
    );
    check(
        &edit("protocol: KvSingle()", "protocol: Quorum(read_quorum: 4)"),
        "case.ron: protocol.Quorum.read_quorum: must be 1 to replicas (3), got 4",
    );
}

#[test]
fn outages_need_means_above_zero_and_a_stop_within_the_run() {
    check(
        &edit(
            "workload: (clients: 2)",
            "workload: (clients: 2),\n    faults: (outages: (up_mean: \"0s\", down_mean: \"1s\", stop: \"5s\"))",
        ),
        "case.ron: faults.outages.up_mean: must be above 0s and at most 24h, got 0ns\ncase.ron: faults.outages.stop: 5s is after the end of the run (2s)",
    );
}

/// A fault bound at run time that cannot apply is a `RunError` a library
/// user can match on, with the fault's place in the schedule.
#[test]
fn a_partition_whose_binding_overlaps_at_run_time_is_a_typed_run_error() {
    let text = r#"Scenario(
    name: "t",
    duration: "2s",
    nodes: Count(3),
    protocol: Raft(),
    workload: (clients: 2),
    faults: (schedule: [
        (at: "500ms", fault: Heal),
        (at: "1s", fault: Partition([["@leader"], ["n1", "n2", "n3"]])),
    ]),
)"#;
    let scenario = scenarios::load_str(text, "case.ron").unwrap();
    let error = scenarios::run(&scenarios::resolve(&scenario, 1)).expect_err("the groups overlap");
    match &error {
        scenarios::run::RunError::Binding { index, message } => {
            assert_eq!(*index, 1);
            assert!(
                message.starts_with("faults.schedule[1].fault: at 1s, "),
                "{message}"
            );
            assert!(message.contains("must not overlap"), "{message}");
        }
        other => panic!("not a binding error: {other:?}"),
    }
}

/// The lock's Consensus design: a bug switch of that design on another,
/// and its Raft group's params, are named by their field path.
#[test]
fn lock_consensus_params_name_their_field_path() {
    let lock = |params: &str| {
        format!(
            "Scenario(\n    name: \"t\",\n    duration: \"2s\",\n    nodes: Count(5),\n    protocol: Lock({params}),\n)"
        )
    };
    check(
        &lock("lease_expiry_on_follower_clock: true"),
        "case.ron: protocol.Lock.lease_expiry_on_follower_clock: a bug switch of the Consensus design; SingleNode has no leader to take over a lease. Remove it or set design: Consensus",
    );
    check(
        &lock(r#"design: Consensus, instances: 3, raft: (election_timeout: ("0ms", "10ms"))"#),
        "case.ron: protocol.Lock.raft.election_timeout: both ends must be in (0, 60s], got (0ns, 10ms)",
    );
    check(
        &lock("design: Consensus, instances: 4"),
        "case.ron: protocol.Lock.instances: Consensus needs an odd number of lock servers from 3 to 9, so that a majority is well defined and two clients cannot both hold one; got 4",
    );
}
