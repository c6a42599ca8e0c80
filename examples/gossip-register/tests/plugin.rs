//! The example plug-in through the library API, as a user's CI would run
//! it: the scenario loads by the protocol's name, runs, converges, and the
//! bug switch is caught by the convergence check.

use protocols::plugin::Plugin;
use scenarios::{load_str, resolve, run};

const SCENARIO: &str = include_str!("../scenario.ron");

fn with(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from}");
    text.replace(from, to)
}

#[test]
fn the_registered_protocol_runs_from_a_scenario_file_and_converges() {
    gossip_register::register();
    let scenario = load_str(SCENARIO, "scenario.ron").expect("the example scenario is valid");
    assert_eq!(
        scenario.protocol.name(),
        gossip_register::GossipPlugin::NAME
    );
    for seed in 0..5 {
        let outcome = run(&resolve(&scenario, seed)).expect("runs");
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.checks);
        assert!(
            outcome.history.len() > 50,
            "seed {seed}: clients were served"
        );
        let eventual = outcome
            .checks
            .iter()
            .find(|c| c.name == "eventual")
            .unwrap();
        assert!(
            eventual.detail.contains("5 live replicas"),
            "{}",
            eventual.detail
        );
    }
}

#[test]
fn its_bug_switch_is_caught() {
    gossip_register::register();
    let text = with(SCENARIO, "resend_interval: \"200ms\"", "drop_gossip: true");
    let scenario = load_str(&text, "scenario.ron").unwrap();
    let outcome = run(&resolve(&scenario, 0)).unwrap();
    assert_eq!(outcome.failed(), ["eventual"], "{:?}", outcome.checks);
}

#[test]
fn its_params_get_the_same_errors_and_hints_as_the_built_in_ones() {
    gossip_register::register();
    let text = with(
        SCENARIO,
        "resend_interval: \"200ms\"",
        "resend_intervl: \"200ms\"",
    );
    let error = load_str(&text, "scenario.ron").unwrap_err().to_string();
    assert!(error.contains("scenario.ron:9:"), "{error}");
    assert!(error.contains("did you mean `resend_interval`?"), "{error}");
    let text = with(
        SCENARIO,
        "resend_interval: \"200ms\"",
        "resend_interval: \"0s\"",
    );
    let error = load_str(&text, "scenario.ron").unwrap_err().to_string();
    assert!(
        error.contains("protocol.GossipRegister.resend_interval: must be above zero"),
        "{error}"
    );
    let text = with(SCENARIO, "GossipRegister(", "GossipRegistr(");
    let error = load_str(&text, "scenario.ron").unwrap_err().to_string();
    assert!(error.contains("did you mean `GossipRegister`?"), "{error}");
}

#[test]
fn a_name_registers_once() {
    gossip_register::register();
    let again = scenarios::register::<gossip_register::GossipPlugin>().unwrap_err();
    assert_eq!(
        again,
        scenarios::registry::RegisterError::NameTaken("GossipRegister")
    );
    assert!(again.to_string().contains("already registered"), "{again}");
    let listed = scenarios::protocol_info::protocols();
    let ours = listed.iter().find(|p| p.name == "GossipRegister").unwrap();
    assert_eq!(ours.bug_switches, ["drop_gossip"]);
    assert_eq!(ours.params[0].0, "resend_interval");
    assert_eq!(ours.params[0].1, "\"200ms\"");
}
