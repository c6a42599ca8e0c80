//! Command-line parsing and dispatch (clap). Exit codes: 0 success, 1 a check
//! failed (or a sweep's expectation did not hold), 2 bad input or usage,
//! 3 inconclusive (the run was cut short by a limit, or a check's search ran
//! out of budget).

mod bench_cmd;
mod check_cmd;
mod check_family;
mod check_options;
mod curated;
mod error;
mod generate_cmd;
mod jobs;
mod list_cmd;
mod report_cmd;
mod run_cmd;
mod shrink_cmd;
mod swarm_cmd;
mod sweep_cmd;

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "faultline",
    version,
    about = "A deterministic distributed-systems simulator",
    after_help = "Examples:\n  faultline run quickstart                      run a curated scenario by name\n  faultline run my.ron --seed 7 --out out/s7    one seed of your own scenario\n  faultline sweep raft-swarm --seeds 0..1000    many seeds in parallel\n  faultline shrink kv-lost-writes --seed 3       the smallest scenario that still fails\n  faultline show raft-leader-crash > mine.ron   copy a curated scenario to edit\n  faultline list                                protocols, faults, checks, scenarios\n\nExit codes: 0 pass, 1 a check failed, 2 bad input, 3 inconclusive (cut short or out of budget)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print one JSON object on stdout instead of text, on every exit: the
    /// result, or {"error": {...}} (see README, "JSON output").
    #[arg(long, global = true)]
    json: bool,
}

/// The space-time diagram's window, for a run's report.
#[derive(clap::Args, Debug, Default)]
struct WindowArgs {
    /// The space-time diagram from this simulated time (e.g. 1.2s); by
    /// default it shows the second before the first violation, or the
    /// run's first second.
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// The space-time diagram up to this simulated time (e.g. 1.4s).
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// The space-time diagram's nodes, by name: --nodes n1,n2,client1 (by
    /// default every node active in the window, or the busiest 24).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    nodes: Vec<String>,
}

impl WindowArgs {
    fn options(self) -> Result<reports::run_report::RunOptions, error::CliError> {
        let time = |flag: &str, text: Option<String>| -> Result<Option<u64>, error::CliError> {
            text.map(|text| {
                sim_core::SimDuration::parse(&text)
                    .map(|d| d.as_nanos())
                    .map_err(|e| {
                        error::CliError::argument(
                            flag,
                            format!("{text}: {e}; give a time such as 1.5s or 200ms"),
                        )
                    })
            })
            .transpose()
        };
        let from_ns = time("--from", self.from)?;
        let to_ns = time("--to", self.to)?;
        if let (Some(from), Some(to)) = (from_ns, to_ns) {
            if from > to {
                return Err(error::CliError::argument(
                    "--to",
                    "the window ends before it starts; give --to after --from".to_string(),
                ));
            }
        }
        Ok(reports::run_report::RunOptions {
            lamport: reports::lamport::LamportWindow {
                from_ns,
                to_ns,
                nodes: self.nodes,
            },
        })
    }
}

/// How a sweep report's CDFs are drawn.
#[derive(clap::Args, Debug, Default)]
struct CdfArgs {
    /// The CDFs' x axis: auto (log when the values span more than 20x),
    /// linear, or log.
    #[arg(long, value_name = "SCALE", default_value = "auto", value_parser = ["auto", "linear", "log"])]
    cdf_x: String,
}

impl CdfArgs {
    fn options(&self) -> reports::sweep_report::SweepOptions {
        use reports::sweep_report::Scale;
        reports::sweep_report::SweepOptions {
            cdf_x: match self.cdf_x.as_str() {
                "linear" => Scale::Linear,
                "log" => Scale::Log,
                _ => Scale::Auto,
            },
            tradeoff: None,
            missing: None,
            description: String::new(),
            lesson: None,
            charts: Vec::new(),
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one seed of a scenario and check it.
    ///
    /// Prints the seed, simulated time, events, wall time, each check's verdict,
    /// the trace hash and a command that reproduces the run; writes resolved.ron,
    /// history.jsonl, metrics.json, checks.json and summary.json to --out.
    ///
    /// Exit codes: 0 every check passed; 1 a check failed; 2 bad input (the
    /// scenario, a flag, or a name bound at run time); 3 inconclusive (the
    /// run was cut short by a limit, or a check's search ran out of budget).
    #[command(
        after_help = "Examples:\n  faultline run quickstart\n  faultline run raft-leader-crash --seed 3\n  faultline run scenarios/quickstart.ron --seed 7 --out out/q7\n  faultline run my.ron --set network.default.loss=0.1 --json"
    )]
    Run(run_cmd::RunArgs),
    /// Run many seeds (and parameter values) in parallel.
    ///
    /// Results are appended to <out>/results.jsonl as seeds finish; --resume
    /// continues a killed sweep. Exits 0 when the scenario's `expect` held.
    #[command(
        after_help = "Examples:\n  faultline sweep scenarios/quickstart.ron --seeds 0..1000 --jobs 8\n  faultline sweep s.ron --seeds 0..10000 --shard 3/16 --out part3\n  faultline sweep s.ron --seeds 0..100 --set network.default.loss=0,0.1,0.2"
    )]
    Sweep(sweep_cmd::SweepArgs),
    /// Shrink a failing seed to the smallest scenario that still fails.
    ///
    /// Runs the seed, takes its failure (the check named with --check, or
    /// the first that failed), and searches for a smaller resolved scenario
    /// that fails the same check: fewer faults, a shorter run, fewer
    /// clients, servers, operations and keys, a plainer environment,
    /// shorter and earlier faults. Writes shrunk.ron (runs with `faultline
    /// run`), shrink.json, and the shrunk run's files and report to --out.
    /// The result does not depend on --jobs.
    ///
    /// Exit codes: 0 shrunk (also when a budget stopped it: the best so
    /// far); 2 the seed does not fail, or fails only another check, or bad input.
    #[command(
        after_help = "Examples:\n  faultline shrink kv-lost-writes --seed 3\n  faultline shrink raft-swarm --seed 12 --set protocol.Raft.vote_without_log_check=true\n  faultline shrink my.ron --seed 7 --check linearizability --budget 5m --out shrunk7"
    )]
    Shrink(shrink_cmd::ShrinkArgs),
    /// Check a recorded history: registers for linearizability, Jepsen's
    /// workloads (bank, counter, set, long-fork, mutex), and transactions
    /// (list-append, rw-register) for their anomalies and consistency
    /// models.
    ///
    /// Reads Jepsen/Knossos EDN, Jepsen JSON, Porcupine's etcd logs and kv
    /// files, the Plume text format, or faultline's history.jsonl. Exit 0
    /// valid, 1 not, 3 unknown (the deadline or budget ran out first), 2
    /// bad input.
    #[command(
        after_help = "Examples:\n  faultline check faultline-out/quickstart/seed-1/history.jsonl\n  faultline check etcd_000.log --model cas-register\n  faultline check history.edn --format edn --initial 0 --timeout 30s --json\n  faultline check txns.edn --model list-append --consistency-models serializable --html counterexample.html\n  faultline check history.txt --model rw-register --format plume\n  faultline check bank.edn --model bank --total 100"
    )]
    Check(check_cmd::CheckArgs),
    /// Combine the results files of a sharded sweep into one summary.
    #[command(
        after_help = "Examples:\n  faultline merge part1 part2 part3\n  faultline merge part*/results.jsonl\n  faultline merge part1 part2 part3 --out all   # one folder, with its report"
    )]
    Merge {
        /// Results files (results.jsonl), or the folders `sweep --out` wrote.
        #[arg(required = true)]
        results: Vec<PathBuf>,
        /// Write the merged sweep here as one sweep folder (results.jsonl,
        /// summary.json, distribution.csv, and its report).
        #[arg(long)]
        out: Option<PathBuf>,
        /// With --out: replace results already there.
        #[arg(long)]
        force: bool,
        /// With --out: skip the charts and report.html.
        #[arg(long)]
        no_report: bool,
        #[command(flatten)]
        cdf: CdfArgs,
    },
    /// Write the charts and report.html of a run or sweep folder again, from its files.
    ///
    /// A run folder: reads resolved.ron, history.jsonl, metrics.json,
    /// checks.json and summary.json, and writes latency, latency-quantiles
    /// and availability (SVG and PNG) and report.html beside them. A sweep
    /// folder: reads results.jsonl and writes the verdicts, each metric's
    /// CDF per group and mean per group (with bootstrap 95% intervals) and
    /// report.html. The same files `run` and `sweep` write, on any machine.
    #[command(
        after_help = "Examples:\n  faultline report faultline-out/raft-leader-crash/seed-1\n  faultline report election"
    )]
    Report {
        /// A folder `run` or `sweep` wrote.
        dir: PathBuf,
        #[command(flatten)]
        window: WindowArgs,
        #[command(flatten)]
        cdf: CdfArgs,
    },
    /// Check scenario files without running them.
    #[command(after_help = "Examples:\n  faultline validate scenarios/*.ron")]
    Validate {
        /// Scenario files, or curated scenarios' names.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// Write a seeded transactional history: a strict-serializable
    /// execution, for benchmarks, tests and teaching.
    #[command(
        after_help = "Examples:\n  faultline generate --model list-append --txns 100000 --out h.edn\n  faultline generate --model rw-register --format plume --txns 200000 --mops-max 9 --read-percent 80 --zipf 1 --writes-per-key 0 --out h.txt"
    )]
    Generate(generate_cmd::GenerateArgs),
    /// List protocols and their params, fault kinds, checks and curated scenarios.
    #[command(after_help = "Examples:\n  faultline list --json")]
    List,
    /// Print a curated scenario's file, to copy and edit.
    #[command(after_help = "Examples:\n  faultline show raft-leader-crash > mine.ron")]
    Show {
        /// A curated scenario's name, as `faultline list` shows it.
        name: String,
    },
    /// Swarm testing: generate scenarios of each protocol's correct
    /// variant, drawing its parameters, cluster size, network, disks,
    /// clocks and faults, and run each over seeds through every check the
    /// protocol promises. Each failure is written as a scenario file that
    /// reproduces it. Exit 0 all passed, 1 a run failed, 3 some inconclusive.
    #[command(
        after_help = "Examples:\n  faultline swarm all --scenarios 100 --seeds 5\n  faultline swarm PrimaryBackup --scenarios 0..5000 --seeds 10 --jobs 16 --out soak   # a soak\n  faultline run soak/primarybackup-17-seed-3.ron --seed 3   # a failure, again"
    )]
    Swarm {
        /// A protocol (Raft, PrimaryBackup, Quorum, KvSingle, TwoPhaseCommit, ThreePhaseCommit, Saga, RingElection, BullyElection, TxnStore, Lock), or all.
        protocol: String,
        /// How many scenarios (500), or which (1000..2000): scenario i is the same everywhere.
        #[arg(long, default_value = "100")]
        scenarios: String,
        /// Seeds per scenario (0..N).
        #[arg(long, default_value_t = 5)]
        seeds: u64,
        /// Runs at once (default: the cores); the result does not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// Where failures' reproducers are written.
        #[arg(long, default_value = "faultline-out/swarm")]
        out: PathBuf,
        /// Also shrink each protocol's first failure, as `faultline shrink` does, and write it beside.
        #[arg(long)]
        shrink: bool,
    },
    /// Run a built-in benchmark.
    #[command(
        after_help = "Examples:\n  faultline bench pingpong --nodes 5 --messages 10000000 --json"
    )]
    Bench {
        #[command(subcommand)]
        which: bench_cmd::BenchCommand,
    },
}

/// Runs the CLI with `args` (including the program name); returns the exit code.
pub fn run(args: Vec<OsString>, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    // Known before parsing, so that a usage error obeys --json too.
    let json = args.iter().skip(1).any(|a| a == "--json");
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            // --help and --version: text, exit 0.
            let _ = write!(stdout, "{}", error.render());
            return 0;
        }
        Err(error) => {
            if !json {
                let _ = write!(stderr, "{}", error.render());
                return 2;
            }
            let text = error.render().to_string();
            let message = text
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ")
                .to_string();
            let hint = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("tip: "))
                .map(str::to_string);
            let mut error = error::CliError::new(error::ErrorKind::Usage, message);
            error.hint = hint;
            return error.emit(true, stdout, stderr);
        }
    };
    match dispatch(cli.command, cli.json, stdout, stderr) {
        Ok(code) => code,
        Err(error) => error.emit(cli.json, stdout, stderr),
    }
}

fn dispatch(
    command: Command,
    json: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, error::CliError> {
    match command {
        Command::Run(args) => run_cmd::from_args(args, json, stdout, stderr),
        Command::Sweep(args) => sweep_cmd::from_args(args, json, stdout, stderr),
        Command::Shrink(args) => shrink_cmd::from_args(args, json, stdout, stderr),
        Command::Check(args) => check_cmd::from_args(args, json, stdout),
        Command::Merge {
            results,
            out,
            force,
            no_report,
            cdf,
        } => {
            let out = out.map(|dir| sweep_cmd::MergeOut {
                dir,
                force,
                report: (!no_report).then(|| cdf.options()),
            });
            sweep_cmd::merge(&results, out, json, stdout)
        }
        Command::Report { dir, window, cdf } => report_cmd::report(
            &dir,
            &window.options()?,
            &cdf.options(),
            json,
            (stdout, stderr),
        ),
        Command::Validate { scenarios } => Ok(list_cmd::validate(&scenarios, json, stdout, stderr)),
        Command::List => Ok(list_cmd::list(json, stdout)),
        Command::Generate(args) => generate_cmd::generate(args, stdout),
        Command::Show { name } => list_cmd::show(&name, json, stdout),
        Command::Swarm {
            protocol,
            scenarios,
            seeds,
            jobs,
            out,
            shrink,
        } => swarm_cmd::swarm(
            swarm_cmd::SwarmOptions {
                protocol,
                scenarios,
                seeds,
                jobs,
                out,
                shrink,
                json,
            },
            stdout,
        ),
        Command::Bench { which } => bench_cmd::bench(which, json, stdout),
    }
}

/// `--progress-every`, checked.
fn progress_interval(seconds: f64) -> Result<std::time::Duration, error::CliError> {
    if !(0.0..=86_400.0).contains(&seconds) {
        return Err(error::CliError::argument(
            "--progress-every",
            format!("{seconds}: give seconds from 0 to 86400"),
        ));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

/// Prints a JSON value as one line.
fn print_json(out: &mut dyn Write, value: &impl serde::Serialize) {
    let _ = writeln!(
        out,
        "{}",
        serde_json::to_string(value).expect("serialisable")
    );
}

/// Loads a scenario (a path, or a curated scenario's name) and applies
/// single-valued `--set`s. Returns it, the name to reproduce it by, and the
/// sets as applied.
#[allow(clippy::type_complexity)]
fn load_with_sets(
    path: &std::path::Path,
    sets: &[String],
) -> Result<(scenarios::Scenario, String, Vec<(String, String)>), error::CliError> {
    let (mut scenario, source) = curated::load(path)?;
    let mut applied = Vec::new();
    for set in sets {
        let (field, values) = scenarios::set::parse_assignment(set)
            .map_err(|e| error::CliError::argument("--set", format!("{set}: {e}")))?;
        if values.len() != 1 {
            return Err(error::CliError::argument(
                "--set",
                format!("{set}: `run` takes one value per field; use `sweep` for several"),
            ));
        }
        let value = values.into_iter().next().expect("one value");
        scenario = scenarios::set::apply(&scenario, &field, value.clone())
            .map_err(|e| error::CliError::argument("--set", format!("{set}: {e}")))?;
        applied.push((field, scenarios::set::render(&value)));
    }
    scenarios::validate::validate(&scenario).map_err(|problems| {
        error::CliError::from(scenarios::ScenarioError::Invalid {
            file: format!("{source} (after --set)"),
            problems,
        })
    })?;
    Ok((scenario, source, applied))
}

/// `--timeout` of `run` and `sweep`: a wall time above zero.
fn wall_timeout(text: Option<String>) -> Result<Option<std::time::Duration>, error::CliError> {
    text.map(|t| {
        crate::shrinking::parse_budget(&t).map_err(|e| error::CliError::argument("--timeout", e))
    })
    .transpose()
}
