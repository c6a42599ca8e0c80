//! Swarm testing: generated scenarios that draw each protocol's
//! parameters, cluster size, network, disks, clocks and faults, run
//! through every check the protocol promises (`scenarios::swarm`).
//!
//! The fast tier generates many scenarios and runs a few; the heavy tier
//! (`cargo test --release -p scenarios --test swarm -- --ignored`) runs
//! `FAULTLINE_SWARM_SCENARIOS` scenarios (500 by default) of every
//! protocol over `FAULTLINE_SWARM_SEEDS` seeds (10) each: set them higher
//! for a soak. A failure prints its reproducer: the scenario file and seed.

use scenarios::swarm::{self, SwarmOutcome, SwarmProtocol};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn assert_no_failure(protocol: SwarmProtocol, outcome: &SwarmOutcome) {
    if outcome.failures_total == 0 {
        return;
    }
    let mut report = format!(
        "{}: {} of {} runs failed; the first ones as files (save one and run `faultline run FILE --seed S`, or `faultline shrink FILE --seed S`):\n",
        protocol.name(),
        outcome.failures_total,
        outcome.runs
    );
    for failure in outcome.failures.iter().take(3) {
        report.push_str(&failure.reproducer());
        report.push('\n');
    }
    panic!("{report}");
}

#[test]
fn every_generated_scenario_is_valid_and_names_what_its_protocol_promises() {
    for protocol in SwarmProtocol::ALL {
        for index in 0..300 {
            // `generate` loads the text it wrote, as a user's file would be.
            let generated = swarm::generate(protocol, index);
            scenarios::validate::validate(&generated.scenario).unwrap_or_else(|p| {
                panic!("{protocol:?} {index} is invalid: {p:?}\n{}", generated.text)
            });
            assert!(
                generated.scenario.checks.iter().any(|c| c == "invariants"),
                "{protocol:?} {index} checks no invariant"
            );
        }
    }
}

#[test]
fn generated_scenarios_vary_what_fixed_ones_hold_still() {
    // Swarm testing's point: the configuration itself varies. Over 100
    // scenarios, each protocol sees several cluster sizes and latency
    // families, and both some loss and none where loss is allowed.
    for protocol in SwarmProtocol::ALL {
        let texts: Vec<String> = (0..100)
            .map(|i| swarm::generate(protocol, i).text)
            .collect();
        let sizes: std::collections::BTreeSet<&str> = texts
            .iter()
            .filter_map(|t| t.lines().find(|l| l.trim_start().starts_with("nodes:")))
            .collect();
        let families = ["Constant(", "Uniform(", "Shifted("]
            .iter()
            .filter(|f| texts.iter().any(|t| t.contains(&format!("latency: {f}"))))
            .count();
        if protocol != SwarmProtocol::Saga {
            assert!(sizes.len() >= 3, "{protocol:?}: sizes {sizes:?}");
        }
        assert!(families >= 3, "{protocol:?}: {families} latency families");
        assert!(texts.iter().any(|t| t.contains("nemesis:")), "{protocol:?}");
    }
}

#[test]
fn a_small_swarm_of_every_protocol_passes() {
    for protocol in SwarmProtocol::ALL {
        let outcome = swarm::run(protocol, 0..6, 0..2);
        assert_eq!(outcome.runs, 12);
        assert_no_failure(protocol, &outcome);
    }
}

#[test]
fn a_bug_switch_is_found_by_the_swarm() {
    // The swarm's runs are the protocol's own: switch a bug on in each
    // generated file, and the same machinery catches it.
    let mut caught = 0;
    for index in 0..60 {
        let generated = swarm::generate(SwarmProtocol::Raft, index);
        let text = generated
            .text
            .replace("pre_vote:", "vote_without_log_check: true, pre_vote:");
        let scenario = scenarios::load_str(&text, "bug.ron").unwrap();
        let failed = (0..4).any(|seed| {
            let outcome = scenarios::run(&scenarios::resolve(&scenario, seed)).unwrap();
            !outcome.failed().is_empty()
        });
        caught += u32::from(failed);
    }
    assert!(
        caught >= 2,
        "vote_without_log_check caught in {caught} of 40 scenarios"
    );
}

#[test]
#[ignore = "heavy tier: cargo test --release -p scenarios --test swarm -- --ignored"]
fn swarm_every_protocol() {
    let scenarios = env_or("FAULTLINE_SWARM_SCENARIOS", 500);
    let seeds = env_or("FAULTLINE_SWARM_SEEDS", 10);
    let only = std::env::var("FAULTLINE_SWARM_PROTOCOL").ok();
    let mut failed = Vec::new();
    for protocol in SwarmProtocol::ALL {
        if only
            .as_deref()
            .is_some_and(|p| SwarmProtocol::parse(p) != Some(protocol))
        {
            continue;
        }
        let started = std::time::Instant::now();
        let outcome = swarm::run(protocol, 0..scenarios, 0..seeds);
        eprintln!(
            "swarm {}: {} scenarios x {} seeds = {} runs: {} passed, {} inconclusive, {} failed; {} events in {:.1} s",
            protocol.name(),
            scenarios,
            seeds,
            outcome.runs,
            outcome.passed,
            outcome.inconclusive,
            outcome.failures_total,
            outcome.events,
            started.elapsed().as_secs_f64()
        );
        for failure in outcome.failures.iter().take(3) {
            eprintln!("{}", failure.reproducer());
        }
        if outcome.failures_total > 0 {
            failed.push(protocol.name());
        }
    }
    assert!(
        failed.is_empty(),
        "the swarm found failures in {failed:?} (above)"
    );
}
