//! `--set path=value`: data-driven cases of what a path reaches, and the
//! exact error text for paths and values that do not fit.

const BASE: &str = r#"Scenario(name: "t", duration: "2s", nodes: Count(3), protocol: KvSingle(),
    workload: (clients: 2), faults: (schedule: [(at: "1s", fault: Heal)]))"#;

fn check(assignment: &str, expected: Result<&str, &str>) {
    let scenario = scenarios::load_str(BASE, "t.ron").unwrap();
    let result = scenarios::set::parse_assignment(assignment).and_then(|(path, values)| {
        let mut s = scenario.clone();
        for value in values {
            s = scenarios::set::apply(&scenario, &path, value)?;
        }
        Ok(scenarios::to_ron(&s))
    });
    match (result, expected) {
        (Ok(text), Ok(fragment)) => assert!(
            text.contains(fragment),
            "{assignment}: `{fragment}` not in\n{text}"
        ),
        (Err(error), Err(message)) => assert_eq!(error, message, "{assignment}"),
        (got, want) => panic!("{assignment}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn paths_reach_fields() {
    check("duration=5s", Ok("duration: \"5s\""));
    check("network.default.loss=0.25", Ok("loss: 0.25"));
    check("network.default.order=Fifo", Ok("order: Fifo"));
    check("protocol.ack_before_sync=true", Ok("ack_before_sync: true"));
    check(
        "protocol.KvSingle.flush_interval=\"1ms\"",
        Ok("flush_interval: \"1ms\""),
    );
    check("workload.clients=7", Ok("clients: 7"));
    check("faults.schedule[0].at=1.5s", Ok("at: \"1.5s\""));
    check("workload.stop_after=1s", Ok("stop_after: \"1s\""));
}

#[test]
fn bad_paths_and_values_say_why() {
    check("duration", Err("--set \"duration\": write path=value or path=v1,v2,... (e.g. network.default.loss=0,0.1)"));
    check("=3", Err("--set \"=3\": the path is empty"));
    check(
        "faults.schedule[3].at=1s",
        Err("`faults.schedule[3].at`: index 3 is out of range (1 entries)"),
    );
    check("workload.clients=lots", Err("cannot set `workload.clients` to \"lots\": invalid type: string \"lots\", expected u32"));
    check("workload.cleints=3", Err("cannot set `workload.cleints` to 3: unknown field `cleints`, expected one of `clients`, `arrival`, `mix`, `client_mixes`, `keys`, `key_distribution`, `attempt_timeout`, `op_timeout`, `backoff_base`, `backoff_max`, `stop_after`, `ops_per_client_max`, `transfer_amount_max`, `transactions`; did you mean `clients`?"));
    check(
        "network.defualt.loss=0.1",
        Err("`network.defualt.loss`: there is no field `defualt` here; did you mean `default`?"),
    );
    check(
        "duration.x=1",
        Err("`duration.x`: cannot find `x` inside a value that has no fields"),
    );
}

#[test]
fn values_split_at_top_level_commas_only() {
    let (path, values) =
        scenarios::set::parse_assignment("nodes=Count(3),{\"Names\": [\"a\", \"b\"]}").unwrap();
    assert_eq!(path, "nodes");
    assert_eq!(values.len(), 2);
}
