//! Library use: a scenario built in code runs like one read from a file, and
//! the same scenario text gives the same run either way.

use protocols::kv_single::{KvSingleParams, KvSinglePlugin};
use scenarios::duration::Dur;
use scenarios::schema::{FaultSpec, Nodes, TimedFault};
use scenarios::{ProtocolSpec, Scenario};

fn built_in_code() -> Scenario {
    let mut scenario = Scenario::new(
        "in-code",
        Dur::secs(2),
        Nodes::Count(3),
        ProtocolSpec::new::<KvSinglePlugin>(KvSingleParams::default()),
    );
    scenario.workload.clients = 3;
    scenario.faults.schedule = vec![
        TimedFault {
            jitter: None,
            at: Dur::ms(500),
            fault: FaultSpec::Crash("n1".into()),
        },
        TimedFault {
            jitter: None,
            at: Dur::ms(700),
            fault: FaultSpec::Restart("n1".into()),
        },
    ];
    scenario
}

#[test]
fn a_scenario_built_in_code_validates_runs_and_matches_its_text_form() {
    let scenario = built_in_code();
    scenarios::validate::validate(&scenario).unwrap();
    let outcome = scenarios::run(&scenarios::resolve(&scenario, 11)).unwrap();
    assert!(outcome.passed(), "{:?}", outcome.checks);
    assert!(outcome.metrics.ok > 50, "{:?}", outcome.metrics);
    // Crash at 0.5 s: some operation waited for the restart.
    assert!(outcome.metrics.latency_ms.as_ref().unwrap().max >= 100.0);
    let from_text = scenarios::load_str(&scenarios::to_ron(&scenario), "in-code.ron").unwrap();
    let again = scenarios::run(&scenarios::resolve(&from_text, 11)).unwrap();
    assert_eq!(again.trace_hash, outcome.trace_hash);
}

#[test]
fn different_seeds_give_different_runs_and_equal_seeds_equal_runs() {
    let scenario = built_in_code();
    let hash = |seed| {
        scenarios::run(&scenarios::resolve(&scenario, seed))
            .unwrap()
            .trace_hash
    };
    assert_eq!(hash(5), hash(5));
    assert_ne!(hash(5), hash(6));
}
