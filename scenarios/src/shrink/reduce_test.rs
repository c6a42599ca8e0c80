//! The reductions' exact candidates, for small scenarios: what each pass
//! proposes, in order, and what a candidate changes.

use super::reduce::{self, Candidate, Pass};
use super::trial::Trial;
use super::units::tests::{at, s};
use crate::duration::Dur;
use crate::scenario::Scenario;
use crate::schema::{ClockSpec, FaultSpec, Nodes};

const BASE: &str = r#"Scenario(
    name: "t",
    duration: "1s",
    nodes: Count(3),
    protocol: Raft(),
    workload: (clients: 4, keys: 8, stop_after: "800ms"),
)"#;

fn base() -> Scenario {
    crate::load_str(BASE, "t.ron").unwrap()
}

fn trial(per_client: u64) -> Trial {
    let mut t = Trial::input_error(String::new());
    t.operations_per_client_max = per_client;
    t
}

fn candidates(pass: Pass, scenario: &Scenario, trial: &Trial) -> Vec<Candidate> {
    reduce::candidates(pass, scenario, trial).collect()
}

fn whats(pass: Pass, scenario: &Scenario, per_client: u64) -> Vec<String> {
    candidates(pass, scenario, &trial(per_client))
        .into_iter()
        .map(|c| c.what)
        .collect()
}

#[test]
fn faults_go_all_at_once_then_by_halves_then_one_unit_at_a_time() {
    let mut scenario = base();
    scenario.faults.schedule = vec![
        at(100, FaultSpec::Crash(s("n1"))),
        at(150, FaultSpec::Pause(s("n2"), Dur::ms(10))),
        at(200, FaultSpec::Restart(s("n1"))),
        at(300, FaultSpec::Heal),
    ];
    let found = candidates(Pass::FaultUnits, &scenario, &trial(0));
    let left: Vec<usize> = found
        .iter()
        .map(|c| c.scenario.faults.schedule.len())
        .collect();
    // Units: crash+restart, pause, heal. All; then halves of 2 and 1
    // units; then each unit.
    assert_eq!(left, [0, 1, 3, 2, 3, 3]);
    assert_eq!(found[0].what, "removed Crash(\"n1\") at 100ms, Restart(\"n1\") at 200ms, Pause(\"n2\",\"10ms\") at 150ms and 1 more");
    // Single entries: only those of a pair.
    let entries = whats(Pass::FaultEntries, &scenario, 0);
    assert_eq!(
        entries,
        [
            "removed Crash(\"n1\") at 100ms",
            "removed Restart(\"n1\") at 200ms"
        ]
    );
}

#[test]
fn a_shorter_run_drops_later_faults_and_keeps_stop_afters_share() {
    let mut scenario = base();
    scenario.faults.schedule = vec![at(600, FaultSpec::Heal)];
    let found = candidates(Pass::Duration, &scenario, &trial(0));
    let ends: Vec<String> = found
        .iter()
        .map(|c| c.scenario.duration.to_string())
        .collect();
    assert_eq!(ends, ["125ms", "250ms", "500ms", "750ms", "875ms", "937ms"]);
    let half = &found[2].scenario;
    assert!(
        half.faults.schedule.is_empty(),
        "the heal at 600ms is past the end"
    );
    assert_eq!(half.workload.stop_after, Some(Dur::ms(400)));
    assert_eq!(found[3].scenario.faults.schedule.len(), 1);
}

#[test]
fn counts_shrink_from_the_smallest_and_operations_below_the_busiest_client() {
    let scenario = base();
    assert_eq!(
        whats(Pass::Clients, &scenario, 0),
        [
            "clients 4 → 0",
            "clients 4 → 1",
            "clients 4 → 2",
            "clients 4 → 3"
        ]
    );
    assert_eq!(
        whats(Pass::Keys, &scenario, 0),
        [
            "keys 8 → 1",
            "keys 8 → 2",
            "keys 8 → 4",
            "keys 8 → 6",
            "keys 8 → 7"
        ]
    );
    let caps: Vec<Option<u64>> = candidates(Pass::Operations, &scenario, &trial(16))
        .iter()
        .map(|c| c.scenario.workload.ops_per_client_max)
        .collect();
    assert_eq!(caps, [1, 2, 4, 8, 12, 14, 15].map(Some));
}

#[test]
fn a_server_goes_with_its_clock_its_faults_and_its_place_in_partitions() {
    let mut scenario = base();
    scenario.clocks.nodes = vec![ClockSpec {
        node: s("n3"),
        offset: crate::duration::SignedDur(5),
        drift_ppm: 0.0,
        timer_lateness: None,
    }];
    scenario.faults.schedule = vec![
        at(
            100,
            FaultSpec::Partition(vec![vec![s("n1")], vec![s("n2"), s("n3")]]),
        ),
        at(200, FaultSpec::Crash(s("n3"))),
        at(300, FaultSpec::Partition(vec![vec![s("n3")]])),
    ];
    let found = candidates(Pass::Servers, &scenario, &trial(0));
    assert_eq!(found.len(), 1);
    let smaller = &found[0].scenario;
    assert_eq!(found[0].what, "servers 3 → 2 (without n3)");
    assert_eq!(smaller.nodes, Nodes::Count(2));
    assert!(smaller.clocks.nodes.is_empty());
    assert_eq!(
        smaller.faults.schedule,
        [at(
            100,
            FaultSpec::Partition(vec![vec![s("n1")], vec![s("n2")]])
        )]
    );
}

#[test]
fn the_environment_is_made_constant_all_at_once_then_item_by_item() {
    let mut scenario = base();
    scenario.network.default.loss = 0.1;
    let found = whats(Pass::Environment, &scenario, 0);
    assert_eq!(
        found,
        [
            "constant latencies, no loss or duplication, perfect clocks",
            "network.default.latency: a constant 5.5ms",
            "network.default.loss: none",
            "disks.default.sync_latency: a constant 1ms",
        ]
    );
}

#[test]
fn faults_move_earlier_together_and_each_alone() {
    let mut scenario = base();
    scenario.faults.schedule = vec![
        at(400, FaultSpec::Crash(s("n1"))),
        at(500, FaultSpec::Restart(s("n1"))),
    ];
    let found = candidates(Pass::FaultTimes, &scenario, &trial(0));
    let starts: Vec<(Dur, Dur)> = found
        .iter()
        .map(|c| {
            (
                c.scenario.faults.schedule[0].at,
                c.scenario.faults.schedule[1].at,
            )
        })
        .collect();
    assert_eq!(
        starts,
        [
            (Dur::ms(0), Dur::ms(100)),
            (Dur::ms(200), Dur::ms(300)),
            (Dur::ms(300), Dur::ms(400)),
        ]
    );
    let shorter = candidates(Pass::FaultLengths, &scenario, &trial(0));
    assert_eq!(shorter.len(), 1);
    assert_eq!(shorter[0].scenario.faults.schedule[1].at, Dur::ms(450));
}
