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
    Run {
        /// A scenario file, or a curated scenario's name (`faultline list`).
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
        /// Seconds between progress lines on stderr while the engine runs
        /// (simulated time reached, events, events/s).
        #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
        progress_every: f64,
        /// Run the seed twice and compare the traces: prints the first
        /// diverging event with both sides (exit 1), or that they agree.
        #[arg(long)]
        check_determinism: bool,
        /// Wall time the run may take, e.g. 30s or 5m; past it the run
        /// stops as inconclusive (exit 3), never with a verdict.
        #[arg(long, value_name = "TIME")]
        timeout: Option<String>,
        /// Skip the charts and report.html (written by default).
        #[arg(long)]
        no_report: bool,
        #[command(flatten)]
        window: WindowArgs,
    },
    /// Run many seeds (and parameter values) in parallel.
    ///
    /// Results are appended to <out>/results.jsonl as seeds finish; --resume
    /// continues a killed sweep. Exits 0 when the scenario's `expect` held.
    #[command(
        after_help = "Examples:\n  faultline sweep scenarios/quickstart.ron --seeds 0..1000 --jobs 8\n  faultline sweep s.ron --seeds 0..10000 --shard 3/16 --out part3\n  faultline sweep s.ron --seeds 0..100 --set network.default.loss=0,0.1,0.2"
    )]
    Sweep {
        /// A scenario file, or a curated scenario's name (`faultline list`).
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
        /// Continue the results file in --out where a killed sweep left it.
        #[arg(long, conflicts_with = "force")]
        resume: bool,
        /// Replace the results in --out; without --resume or --force, a
        /// sweep refuses a folder that already holds results.
        #[arg(long)]
        force: bool,
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
        /// Seconds between progress lines on stderr when it is not a
        /// terminal (a CI log); a terminal gets a bar instead.
        #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
        progress_every: f64,
        /// Wall time each run may take, e.g. 30s; a run past it counts as
        /// inconclusive, never with a verdict.
        #[arg(long, value_name = "TIME")]
        timeout: Option<String>,
        /// After the sweep, run K of its runs again and compare their trace
        /// hashes with the results (exit 1 if any differs).
        #[arg(long, value_name = "K")]
        check_determinism: Option<usize>,
        /// Skip the charts and report.html (written by default).
        #[arg(long)]
        no_report: bool,
        /// Shrink each failing group's first failing seed (see `faultline
        /// shrink`) into <out>/shrunk/, and list the shrunk files.
        #[arg(long)]
        shrink: bool,
        /// With --shrink: the wall time each group's shrink may take.
        #[arg(long, value_name = "TIME", default_value = "60s")]
        shrink_budget: String,
        #[command(flatten)]
        cdf: CdfArgs,
    },
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
    Shrink {
        /// A scenario file, or a curated scenario's name (`faultline list`).
        scenario: PathBuf,
        /// The failing seed; defaults to the scenario's `seed`.
        #[arg(long)]
        seed: Option<u64>,
        /// Override a field: --set network.default.loss=0.1 (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// The failure to keep: a check or invariant name, or panic. By
        /// default the run's first failure.
        #[arg(long, value_name = "NAME", conflicts_with = "any_failure")]
        check: Option<String>,
        /// Any failure counts, not only the original one (a panic included).
        #[arg(long)]
        any_failure: bool,
        /// Wall time the search may take; it then stops with the best so far.
        #[arg(long, value_name = "TIME", default_value = "60s")]
        budget: String,
        /// Candidates run at most; the search then stops with the best so far.
        #[arg(long, value_name = "N", default_value_t = scenarios::shrink::CANDIDATES_DEFAULT)]
        candidates: u64,
        /// Candidates run at once; defaults to the number of cores. The
        /// result does not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// Output directory; defaults to faultline-out/<name>/shrink-seed-<seed>.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seconds between progress lines on stderr.
        #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
        progress_every: f64,
        /// Skip the shrunk run's charts and report.html (written by default).
        #[arg(long)]
        no_report: bool,
        #[command(flatten)]
        window: WindowArgs,
    },
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
    Check {
        /// A history file: EDN, Porcupine etcd or kv log, or history.jsonl.
        history: PathBuf,
        /// register (read/write), cas-register (plus cas), kv (plus append); list-append, rw-register; bank, counter, set, set-full, long-fork, mutex (`faultline list models`).
        #[arg(long, default_value = "kv")]
        model: String,
        /// list-append and rw-register: the consistency models to judge, comma-separated (default strict-serializable; for the Plume format read-committed,read-atomic,causal).
        #[arg(long, value_name = "MODELS")]
        consistency_models: Option<String>,
        /// list-append, rw-register: check only what decides --consistency-models (faster); the other models may be reported unknown.
        #[arg(long)]
        named_only: bool,
        /// bank: balances may go negative.
        #[arg(long)]
        negative_balances: bool,
        /// bank: the initial total (default: the most common total among the reads).
        #[arg(long)]
        total: Option<i64>,
        /// auto, edn, porcupine-etcd, porcupine-kv, jsonl, json (an array of operations, or one per line) or plume.
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
        /// Refuse (exit 2) a history with fields its format does not define; without it they are ignored with a warning.
        #[arg(long)]
        strict: bool,
        /// The check's memory budget: the file, the history and the search count against it; past it the verdict is unknown (exit 3).
        #[arg(long, value_name = "SIZE", default_value = check_cmd::CHECK_MEMORY_DEFAULT)]
        memory: String,
    },
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
        /// A protocol (Raft, PrimaryBackup, Quorum, KvSingle, TwoPhaseCommit, ThreePhaseCommit, Saga, RingElection, BullyElection), or all.
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
        Command::Run {
            scenario,
            seed,
            out,
            mut sets,
            memory,
            progress_every,
            check_determinism,
            timeout,
            no_report,
            window,
        } => {
            let report = window.options()?;
            let timeout = wall_timeout(timeout)?;
            // --memory is a --set of limits.memory, so that the reproduce
            // command and resolved.ron carry it.
            sets.extend(memory.map(|m| format!("limits.memory={m}")));
            let every = progress_interval(progress_every)?;
            let options = run_cmd::RunOptions {
                seed,
                out,
                sets,
                json,
                progress_every: every,
                check_determinism,
                timeout,
                report: (!no_report).then_some(report),
            };
            run_cmd::run(&scenario, options, stdout, stderr)
        }
        Command::Sweep {
            scenario,
            seeds,
            jobs,
            shard,
            resume,
            force,
            out,
            mut sets,
            memory,
            memory_total,
            progress_every,
            timeout,
            check_determinism,
            no_report,
            shrink,
            shrink_budget,
            cdf,
        } => {
            let timeout = wall_timeout(timeout)?;
            sets.extend(memory.map(|m| format!("limits.memory={m}")));
            let progress_every = progress_interval(progress_every)?;
            let options = sweep_cmd::SweepOptions {
                seeds,
                jobs,
                shard,
                resume,
                force,
                out,
                sets,
                memory_total,
                progress_every,
                timeout,
                check_determinism,
                json,
                report: (!no_report).then(|| cdf.options()),
                shrink: shrink.then_some(shrink_budget),
            };
            sweep_cmd::sweep(&scenario, options, stdout, stderr)
        }
        Command::Shrink {
            scenario,
            seed,
            sets,
            check,
            any_failure,
            budget,
            candidates,
            jobs,
            out,
            progress_every,
            no_report,
            window,
        } => {
            let report = window.options()?;
            let options = shrink_cmd::ShrinkOptions {
                seed,
                sets,
                check,
                any_failure,
                budget,
                candidates,
                jobs,
                out,
                json,
                progress_every: progress_interval(progress_every)?,
                report: (!no_report).then_some(report),
            };
            shrink_cmd::shrink(&scenario, options, stdout, stderr)
        }
        Command::Check {
            history,
            model,
            consistency_models,
            negative_balances,
            total,
            named_only,
            format,
            timeout,
            initial,
            whole,
            html,
            strict,
            memory,
        } => {
            let options = check_cmd::CheckOptions {
                model,
                format,
                timeout,
                initial,
                whole,
                html,
                json,
                strict,
                memory,
                consistency_models,
                negative_balances,
                total,
                named_only,
            };
            check_cmd::check(&history, options, stdout)
        }
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
        Command::Report { dir, window, cdf } => {
            report_cmd::report(&dir, &window.options()?, &cdf.options(), json, stdout)
        }
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
