//! Runs `scenario.ron` with the example protocol over a range of seeds and
//! prints each seed's verdict: `cargo run -p gossip-register -- 0..20`.
//! Exits 1 if any seed fails.

use scenarios::run::RunVerdict;

fn main() {
    gossip_register::register();
    let range = std::env::args().nth(1).unwrap_or_else(|| "0..10".into());
    let (start, end) = match scenarios::validate::parse_seed_range(&range) {
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
    let mut failed = 0;
    for seed in start..end {
        let resolved = scenarios::resolve(&scenario, seed);
        match scenarios::run(&resolved) {
            Ok(outcome) => {
                let verdict = outcome.verdict();
                println!(
                    "seed {seed}: {verdict:?} ({} operations, trace hash {:016x})",
                    outcome.history.len(),
                    outcome.trace_hash
                );
                if verdict == RunVerdict::Fail {
                    failed += 1;
                    for check in outcome
                        .checks
                        .iter()
                        .filter(|c| !c.failed_names().is_empty())
                    {
                        println!("  {}: {}", check.name, check.detail);
                    }
                }
            }
            Err(message) => {
                eprintln!("seed {seed}: error: {message}");
                std::process::exit(2);
            }
        }
    }
    std::process::exit(if failed > 0 { 1 } else { 0 });
}
