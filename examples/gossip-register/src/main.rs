//! Runs `scenario.ron` with the example protocol over a range of seeds, in
//! parallel through the library's sweep, and prints each seed's verdict
//! and the sweep's judgement against the scenario's `expect`:
//! `cargo run -p gossip-register -- 0..20`. Exits 1 if the expectation
//! does not hold, 2 on bad input.

use scenarios::sweep::{plan_groups, run_all, summarise, Header};

fn main() {
    gossip_register::register();
    let range = std::env::args().nth(1).unwrap_or_else(|| "0..10".into());
    let seeds = match scenarios::validate::parse_seed_range(&range) {
        Ok(range) => range,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    };
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenario.ron");
    let scenario = match scenarios::load_file(std::path::Path::new(path)) {
        Ok(scenario) => scenario,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    };
    let groups = match plan_groups(&scenario, &[]) {
        Ok(groups) => groups,
        Err(error) => {
            eprintln!("error: {path}: {error}");
            std::process::exit(2);
        }
    };
    let results = run_all(&groups, seeds);
    for unit in &results {
        if let Some(error) = &unit.error {
            eprintln!("seed {}: error: {error}", unit.seed);
            std::process::exit(2);
        }
        let verdict = if unit.passed {
            "pass".to_string()
        } else {
            format!("fail ({})", unit.failed.join(", "))
        };
        println!(
            "seed {}: {verdict} ({} events, trace hash {})",
            unit.seed,
            unit.events,
            unit.trace_hash.as_deref().unwrap_or("none")
        );
    }
    let header = Header::new(path, &groups, seeds, None);
    let summary = summarise(&header, results.len() as u64, &results);
    println!("{}", summary.expectation_note);
    std::process::exit(if summary.expectation_held { 0 } else { 1 });
}
