//! `faultline swarm`: generated scenarios of each protocol's correct
//! variant, drawing its parameters and environment as well as its faults
//! (`scenarios::swarm`), run through every check it promises. The CLI adds
//! only the pool's size, the files it writes for failures and the output.
//!
//! Exit codes: 0 every run passed; 1 a run failed; 3 none failed but some
//! were inconclusive; 2 bad arguments.

use super::error::{CliError, ErrorKind};
use scenarios::swarm::{self, SwarmProtocol};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

pub struct SwarmOptions {
    /// A protocol's name, or "all".
    pub protocol: String,
    pub scenarios: String,
    pub seeds: u64,
    pub jobs: Option<usize>,
    /// Where each failure's reproducer is written.
    pub out: PathBuf,
    /// Shrink each protocol's first failure too (`faultline shrink`'s
    /// search, 2,000 candidates at most), beside its reproducer.
    pub shrink: bool,
    pub json: bool,
}

#[derive(Serialize)]
struct ProtocolLine {
    protocol: &'static str,
    scenarios: u64,
    runs: u64,
    passed: u64,
    inconclusive: u64,
    failed: u64,
    events: u64,
    seconds: f64,
    /// Reproducers written: "FILE --seed S".
    reproducers: Vec<String>,
}

/// Seeds per scenario at most, and scenarios per protocol at most: a
/// swarm is bounded like every other command.
pub const SEEDS_MAX: u64 = 10_000;
pub const SCENARIOS_MAX: u64 = 10_000_000;

pub fn swarm(options: SwarmOptions, stdout: &mut dyn Write) -> Result<u8, CliError> {
    let protocols = chosen_protocols(&options.protocol)?;
    let range = scenario_range(&options)?;
    let jobs = super::jobs::jobs(options.jobs)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| CliError::new(ErrorKind::Io, format!("cannot start {jobs} threads: {e}")))?;
    let mut lines = Vec::new();
    let (mut failed, mut inconclusive) = (0u64, 0u64);
    for protocol in protocols {
        let started = std::time::Instant::now();
        let outcome = pool.install(|| swarm::run(protocol, range.0..range.1, 0..options.seeds));
        let reproducers = write_reproducers(protocol, &outcome, &options, &pool, jobs)?;
        failed += outcome.failures_total;
        inconclusive += outcome.inconclusive;
        let line = ProtocolLine {
            protocol: protocol.name(),
            scenarios: outcome.scenarios,
            runs: outcome.runs,
            passed: outcome.passed,
            inconclusive: outcome.inconclusive,
            failed: outcome.failures_total,
            events: outcome.events,
            seconds: started.elapsed().as_secs_f64(),
            reproducers,
        };
        if !options.json {
            print_line(&line, options.seeds, stdout);
        }
        lines.push(line);
    }
    if options.json {
        super::print_json(stdout, &serde_json::json!({ "swarm": lines }));
    }
    Ok(if failed > 0 {
        1
    } else if inconclusive > 0 {
        3
    } else {
        0
    })
}

/// `all`, or the one protocol named.
fn chosen_protocols(name: &str) -> Result<Vec<SwarmProtocol>, CliError> {
    if name.eq_ignore_ascii_case("all") {
        return Ok(SwarmProtocol::ALL.to_vec());
    }
    let one = SwarmProtocol::parse(name).ok_or_else(|| {
        let names: Vec<&str> = SwarmProtocol::ALL.iter().map(|p| p.name()).collect();
        CliError::argument(
            "PROTOCOL",
            format!("{name}: expected all or one of {}", names.join(", ")),
        )
    })?;
    Ok(vec![one])
}

/// `--scenarios` as a range of generated-scenario indices, within bounds
/// (and `--seeds` too).
fn scenario_range(options: &SwarmOptions) -> Result<(u64, u64), CliError> {
    let range = match options.scenarios.parse::<u64>() {
        Ok(count) => Ok((0, count)),
        Err(_) if options.scenarios.contains("..") => {
            scenarios::validate::parse_seed_range(&options.scenarios)
        }
        Err(_) => Err("write a count (500) or a range (1000..2000)".to_string()),
    }
    .map_err(|e| CliError::argument("--scenarios", format!("{}: {e}", options.scenarios)))?;
    if range.1 - range.0 > SCENARIOS_MAX || options.seeds == 0 || options.seeds > SEEDS_MAX {
        return Err(CliError::argument(
            "--scenarios",
            format!("give at most {SCENARIOS_MAX} scenarios and 1 to {SEEDS_MAX} seeds each"),
        ));
    }
    Ok(range)
}

/// Writes each failure as a scenario file that reproduces it (and, with
/// `--shrink`, the first one shrunk); returns their reproduce arguments.
fn write_reproducers(
    protocol: SwarmProtocol,
    outcome: &swarm::SwarmOutcome,
    options: &SwarmOptions,
    pool: &rayon::ThreadPool,
    jobs: usize,
) -> Result<Vec<String>, CliError> {
    let mut reproducers = Vec::new();
    if !outcome.failures.is_empty() {
        std::fs::create_dir_all(&options.out).map_err(|e| {
            CliError::new(ErrorKind::Output, format!("{}: {e}", options.out.display()))
                .with_file(options.out.display().to_string())
        })?;
    }
    for failure in &outcome.failures {
        let file = options.out.join(format!(
            "{}-{}-seed-{}.ron",
            protocol.name().to_lowercase(),
            failure.generated.index,
            failure.seed
        ));
        write(&file, &failure.reproducer())?;
        reproducers.push(format!("{} --seed {}", file.display(), failure.seed));
    }
    if let (true, Some(first)) = (options.shrink, outcome.failures.first()) {
        let resolved = scenarios::resolve(&first.generated.scenario, first.seed);
        let search = scenarios::shrink::Options {
            jobs: jobs.min(scenarios::shrink::JOBS_MAX),
            ..scenarios::shrink::Options::default()
        };
        let shrunk = pool.install(|| {
            scenarios::shrink::shrink(&resolved, &search, &scenarios::shrink::run_trial, &mut ())
        });
        if let Ok(shrunk) = shrunk {
            let file = options.out.join(format!(
                "{}-{}-seed-{}-shrunk.ron",
                protocol.name().to_lowercase(),
                first.generated.index,
                first.seed
            ));
            write(&file, &shrunk.to_file())?;
            reproducers.push(format!("{} --seed {}", file.display(), first.seed));
        }
    }
    Ok(reproducers)
}

/// One protocol's line, and its reproduce commands.
fn print_line(line: &ProtocolLine, seeds: u64, stdout: &mut dyn Write) {
    let _ = writeln!(
        stdout,
        "{:<16} {} scenarios x {} seeds: {} runs, {} passed, {} inconclusive, {} failed ({} events, {:.1} s)",
        line.protocol,
        line.scenarios,
        seeds,
        line.runs,
        line.passed,
        line.inconclusive,
        line.failed,
        line.events,
        line.seconds
    );
    for reproducer in &line.reproducers {
        let _ = writeln!(stdout, "  reproduce: faultline run {reproducer}");
    }
}

/// Writes one output file; the error names it.
fn write(file: &std::path::Path, text: &str) -> Result<(), CliError> {
    std::fs::write(file, text).map_err(|e| {
        CliError::new(ErrorKind::Output, format!("{}: {e}", file.display()))
            .with_file(file.display().to_string())
    })
}
