//! Command-line parsing and dispatch (clap). Exit codes: 0 success, 1 a check
//! failed (or a sweep's expectation did not hold), 2 bad input or usage,
//! 3 inconclusive (the run was cut short by a limit, or a check's search ran
//! out of budget).

mod bench_cmd;
mod check_cmd;
mod list_cmd;
mod run_cmd;
mod sweep_cmd;

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "faultline",
    version,
    about = "A deterministic distributed-systems simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one seed of a scenario and check it.
    ///
    /// Prints the seed, simulated time, events, wall time, each check's verdict,
    /// the trace hash and a command that reproduces the run; writes resolved.ron,
    /// history.jsonl, metrics.json, checks.json and summary.json to --out.
    ///
    /// Example: faultline run scenarios/quickstart.ron --seed 7 --out out/q7
    Run {
        scenario: PathBuf,
        /// The seed; defaults to the scenario's `seed`.
        #[arg(long)]
        seed: Option<u64>,
        /// Output directory; defaults to faultline-out/<name>/seed-<seed>.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a field: --set network.default.loss=0.1 (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// The run's memory budget, e.g. 512MiB or 4GiB (the scenario's
        /// limits.memory, 1GiB by default). Past it the run stops as
        /// inconclusive (exit 3).
        #[arg(long, value_name = "SIZE")]
        memory: Option<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run many seeds (and parameter values) in parallel.
    ///
    /// Results are appended to <out>/results.jsonl as seeds finish; --resume
    /// continues a killed sweep. Exits 0 when the scenario's `expect` held.
    ///
    /// Example: faultline sweep scenarios/quickstart.ron --seeds 0..1000 --jobs 8
    /// Example: faultline sweep s.ron --seeds 0..10000 --shard 3/16 --out part3
    /// Example: faultline sweep s.ron --seeds 0..100 --set network.default.loss=0,0.1,0.2
    Sweep {
        scenario: PathBuf,
        /// Seed range "start..end" (end exclusive); defaults to the scenario's `seeds`.
        #[arg(long)]
        seeds: Option<String>,
        /// Worker threads; defaults to the number of cores.
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only part K of N (1-based), e.g. 3/16, for CI matrices and job arrays.
        #[arg(long)]
        shard: Option<String>,
        /// Continue the results file in --out instead of starting afresh.
        #[arg(long)]
        resume: bool,
        /// Output directory; defaults to faultline-out/<name>/sweep.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Sweep a field over values: --set path=v1,v2,... (repeatable; combinations multiply).
        #[arg(long = "set", value_name = "PATH=V1,V2,...")]
        sets: Vec<String>,
        /// Each run's memory budget, e.g. 512MiB (the scenario's limits.memory, 1GiB by default).
        #[arg(long, value_name = "SIZE")]
        memory: Option<String>,
        /// Memory all runs in progress may use together, e.g. 16GiB; fewer
        /// jobs run at once if it cannot hold --jobs budgets. Defaults to
        /// 80% of the memory available when the sweep starts. It changes
        /// only how many runs share the machine, never a verdict.
        #[arg(long, value_name = "SIZE")]
        memory_total: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Check a recorded history for linearizability.
    ///
    /// Reads Jepsen/Knossos EDN, Porcupine's etcd logs and kv files, or
    /// faultline's history.jsonl. Exit 0 linearizable, 1 not, 3 unknown
    /// (the deadline passed first), 2 bad input.
    ///
    /// Example: faultline check ../shared/histories/porcupine/jepsen/etcd_000.log --model cas-register
    /// Example: faultline check history.edn --format edn --initial 0 --timeout 30s --json
    Check {
        history: PathBuf,
        /// register (read/write), cas-register (plus cas) or kv (plus append).
        #[arg(long, default_value = "kv")]
        model: String,
        /// auto, edn, porcupine-etcd, porcupine-kv or jsonl.
        #[arg(long, default_value = "auto")]
        format: String,
        /// Give up with "unknown" after this long.
        #[arg(long, default_value = "10s")]
        timeout: String,
        /// Every key's initial value where the format does not say (default: no value).
        #[arg(long)]
        initial: Option<String>,
        /// Check as one object instead of key by key.
        #[arg(long)]
        whole: bool,
        /// Write a self-contained HTML timeline of the counterexample here.
        #[arg(long, value_name = "OUT.html")]
        html: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Combine the results files of a sharded sweep into one summary.
    ///
    /// Example: faultline merge part*/results.jsonl
    Merge {
        #[arg(required = true)]
        results: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Check scenario files without running them.
    ///
    /// Example: faultline validate scenarios/*.ron
    Validate {
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// List protocols and their params, fault kinds, checks and curated scenarios.
    ///
    /// Example: faultline list --json
    List {
        #[arg(long)]
        json: bool,
    },
    /// Run a built-in benchmark.
    ///
    /// Example: faultline bench pingpong --nodes 5 --messages 10000000 --json
    Bench {
        #[command(subcommand)]
        which: bench_cmd::BenchCommand,
    },
}

/// Runs the CLI with `args` (including the program name); returns the exit code.
pub fn run(args: Vec<OsString>, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 2 } else { 0 };
            let text = error.render().to_string();
            let _ = if code == 0 {
                write!(stdout, "{text}")
            } else {
                write!(stderr, "{text}")
            };
            return code;
        }
    };
    match cli.command {
        Command::Run {
            scenario,
            seed,
            out,
            mut sets,
            memory,
            json,
        } => {
            // --memory is a --set of limits.memory, so that the reproduce
            // command and resolved.ron carry it.
            sets.extend(memory.map(|m| format!("limits.memory={m}")));
            run_cmd::run(&scenario, seed, out, &sets, json, stdout, stderr)
        }
        Command::Sweep {
            scenario,
            seeds,
            jobs,
            shard,
            resume,
            out,
            mut sets,
            memory,
            memory_total,
            json,
        } => {
            sets.extend(memory.map(|m| format!("limits.memory={m}")));
            let options = sweep_cmd::SweepOptions {
                seeds,
                jobs,
                shard,
                resume,
                out,
                sets,
                memory_total,
                json,
            };
            sweep_cmd::sweep(&scenario, options, stdout, stderr)
        }
        Command::Check {
            history,
            model,
            format,
            timeout,
            initial,
            whole,
            html,
            json,
        } => {
            let options = check_cmd::CheckOptions {
                model,
                format,
                timeout,
                initial,
                whole,
                html,
                json,
            };
            check_cmd::check(&history, options, stdout, stderr)
        }
        Command::Merge { results, json } => sweep_cmd::merge(&results, json, stdout, stderr),
        Command::Validate { scenarios, json } => {
            list_cmd::validate(&scenarios, json, stdout, stderr)
        }
        Command::List { json } => list_cmd::list(json, stdout),
        Command::Bench { which } => bench_cmd::bench(which, stdout, stderr),
    }
}

/// Prints a JSON value as one line.
fn print_json(out: &mut dyn Write, value: &impl serde::Serialize) {
    let _ = writeln!(
        out,
        "{}",
        serde_json::to_string(value).expect("serialisable")
    );
}

/// Loads a scenario and applies single-valued `--set`s; errors print and give exit 2.
fn load_with_sets(
    path: &std::path::Path,
    sets: &[String],
) -> Result<(scenarios::Scenario, Vec<(String, String)>), String> {
    let mut scenario = scenarios::load_file(path).map_err(|e| e.to_string())?;
    let mut applied = Vec::new();
    for set in sets {
        let (field, values) = scenarios::set::parse_assignment(set)?;
        if values.len() != 1 {
            return Err(format!(
                "--set {set}: `run` takes one value per field; use `sweep` for several"
            ));
        }
        let value = values.into_iter().next().expect("one value");
        scenario = scenarios::set::apply(&scenario, &field, value.clone())
            .map_err(|e| format!("--set {set}: {e}"))?;
        applied.push((field, scenarios::set::render(&value)));
    }
    scenarios::validate::validate(&scenario).map_err(|problems| {
        scenarios::ScenarioError::Invalid {
            file: format!("{} (after --set)", path.display()),
            problems,
        }
        .to_string()
    })?;
    Ok((scenario, applied))
}
