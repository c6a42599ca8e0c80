//! `faultline bench`: built-in benchmarks.

use super::error::{CliError, ErrorKind};
use clap::Subcommand;
use std::io::Write;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// N nodes each keep one ping outstanding to a random peer; stops after M deliveries.
    #[command(
        after_help = "Examples:\n  faultline bench pingpong --nodes 1000 --messages 5000000 --json"
    )]
    Pingpong {
        /// Number of nodes.
        #[arg(long, default_value_t = 5)]
        nodes: usize,
        /// Stop after this many delivered messages (pings plus pongs).
        #[arg(long, default_value_t = 10_000_000)]
        messages: u64,
        /// The seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Times the linearizability check on generated register histories whose writes are all distinct (1, 5 and 20 processes by default), each linearizable and again with one stale read planted near the end; prints each check's time and memory, and how both grow against n log n.
    #[command(
        after_help = "Examples:\n  faultline bench linearizability --operations 100000,1000000,10000000"
    )]
    Linearizability {
        /// Sizes, comma-separated, smallest first.
        #[arg(long, default_value = "100000,1000000")]
        operations: String,
        /// Process counts, comma-separated.
        #[arg(long, default_value = "1,5,20")]
        processes: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Times each part of a run folder's report: reading its files, each
    /// chart (data, SVG and PNG), the space-time diagram's replay and
    /// drawing, and the page. Rewrites the folder's report RUNS times.
    #[command(
        after_help = "Examples:\n  faultline bench report faultline-out/quickstart/seed-1 --runs 5"
    )]
    Report {
        /// A folder `faultline run` wrote.
        dir: std::path::PathBuf,
        /// Times to draw the report; the median of each part is shown.
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

pub fn bench(which: BenchCommand, json: bool, stdout: &mut dyn Write) -> Result<u8, CliError> {
    let (nodes, messages, seed) = match which {
        BenchCommand::Pingpong {
            nodes,
            messages,
            seed,
        } => (nodes, messages, seed),
        BenchCommand::Report { dir, runs } => return report(&dir, runs, json, stdout),
        BenchCommand::Linearizability {
            operations,
            processes,
            seed,
        } => return linearizability(&operations, &processes, seed, json, stdout),
    };
    match crate::bench::pingpong(nodes, messages, seed) {
        Ok(report) => {
            if json {
                super::print_json(stdout, &report);
            } else {
                let _ = writeln!(
                    stdout,
                    "pingpong: {} nodes, {} messages delivered in {:.3} s wall ({:.2} M msg/s), {:.3} s simulated\nseed {}  trace hash {}\nreproduce: faultline bench pingpong --nodes {} --messages {} --seed {}",
                    report.nodes,
                    report.delivered_messages,
                    report.wall_seconds,
                    report.messages_per_second / 1e6,
                    report.simulated_seconds,
                    report.seed,
                    report.trace_hash,
                    report.nodes,
                    messages,
                    report.seed
                );
            }
            Ok(0)
        }
        Err(error) => {
            // The message starts with the flag it is about.
            let flag = error
                .split_whitespace()
                .next()
                .filter(|w| w.starts_with("--"));
            let mut error = CliError::new(ErrorKind::Argument, error.clone());
            error.path = flag.map(str::to_string);
            Err(error)
        }
    }
}

/// Runs of a report bench at most.
const REPORT_RUNS_MAX: usize = 1_000;

/// `faultline bench report DIR`: the median wall time of each part of a
/// run folder's report over `runs` drawings (reading the files once).
fn report(
    dir: &std::path::Path,
    runs: usize,
    json: bool,
    stdout: &mut dyn Write,
) -> Result<u8, CliError> {
    use reports::run_report::RunFiles;
    use std::time::Instant;
    if !(1..=REPORT_RUNS_MAX).contains(&runs) {
        return Err(CliError::argument(
            "--runs",
            format!("{runs}: give 1 to {REPORT_RUNS_MAX}"),
        ));
    }
    let started = Instant::now();
    let files = RunFiles::read(dir)?;
    let read_s = started.elapsed().as_secs_f64();
    let parts = median_laps(dir, &files, runs)?;
    let operations = files.history.as_ref().map_or(0, |h| h.operations.len());
    if json {
        let parts_json: serde_json::Map<String, serde_json::Value> = parts
            .iter()
            .map(|(name, s)| (name.to_string(), serde_json::json!(s)))
            .collect();
        super::print_json(
            stdout,
            &serde_json::json!({
                "dir": dir.display().to_string(),
                "operations": operations,
                "runs": runs,
                "read_seconds": read_s,
                "median_seconds": parts_json,
            }),
        );
    } else {
        let _ = writeln!(
            stdout,
            "report of {} ({operations} operations), median of {runs} drawings:",
            dir.display()
        );
        let _ = writeln!(
            stdout,
            "  {:<20} {:>9.3} s (once)",
            "read the files", read_s
        );
        for (name, seconds) in &parts {
            let _ = writeln!(stdout, "  {name:<20} {seconds:>9.3} s");
        }
        let total: f64 = parts.iter().map(|p| p.1).sum();
        let _ = writeln!(stdout, "  {:<20} {:>9.3} s", "total (drawing)", total);
    }
    Ok(0)
}

/// Draws the report `runs` times; returns each part's median seconds.
fn median_laps(
    dir: &std::path::Path,
    files: &reports::run_report::RunFiles,
    runs: usize,
) -> Result<Vec<(&'static str, f64)>, CliError> {
    use reports::run_report::{write_with_laps, RunOptions, LAPS};
    use std::time::Instant;
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(runs); LAPS.len()];
    for _ in 0..runs {
        let mut last = Instant::now();
        let mut part = 0;
        write_with_laps(dir, &files.data(), &RunOptions::default(), &mut |name| {
            debug_assert_eq!(name, LAPS[part]);
            let now = Instant::now();
            samples[part].push((now - last).as_secs_f64());
            last = now;
            part += 1;
        })
        .map_err(|e| CliError::new(ErrorKind::Output, format!("cannot write the report: {e}")))?;
    }
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let parts: Vec<(&'static str, f64)> = LAPS
        .iter()
        .zip(samples.iter_mut())
        .map(|(name, values)| (*name, median(values)))
        .collect();
    Ok(parts)
}

/// A comma-separated list of counts, or the flag's error.
fn counts(flag: &str, text: &str) -> Result<Vec<usize>, CliError> {
    text.split(',')
        .map(|part| {
            part.trim().replace('_', "").parse::<usize>().map_err(|_| {
                CliError::argument(flag, format!("{part}: expected counts, comma-separated"))
            })
        })
        .collect()
}

/// `faultline bench linearizability`: the rows, then each size's growth
/// over the one before against n log n.
fn linearizability(
    operations: &str,
    processes: &str,
    seed: u64,
    json: bool,
    stdout: &mut dyn Write,
) -> Result<u8, CliError> {
    let sizes = counts("--operations", operations)?;
    let processes = counts("--processes", processes)?;
    let rows = crate::bench::linearizability(&sizes, &processes, seed).map_err(|e| {
        let flag = e
            .split_whitespace()
            .next()
            .unwrap_or("--operations")
            .to_string();
        CliError::argument(&flag, e)
    })?;
    if json {
        super::print_json(stdout, &serde_json::json!({ "seed": seed, "rows": rows }));
        return Ok(0);
    }
    let mib =
        |b: Option<u64>| b.map_or("?".to_string(), |b| format!("{:.0}", b as f64 / 1048576.0));
    let _ = writeln!(
        stdout,
        "{:>12} {:>9} {:>9} {:>8} {:>11} {:>14} {:>10}",
        "operations",
        "processes",
        "history",
        "verdict",
        "check (s)",
        "peak RSS (MiB)",
        "check (MiB)"
    );
    for row in &rows {
        let _ = writeln!(
            stdout,
            "{:>12} {:>9} {:>9} {:>8} {:>11.3} {:>14} {:>10}",
            row.operations,
            row.processes,
            if row.violation { "stale" } else { "ok" },
            format!("{:?}", row.verdict).to_lowercase(),
            row.check_seconds,
            mib(row.peak_rss_bytes),
            mib(row.check_bytes),
        );
    }
    // Growth: mean time and check memory per size, against n log n.
    let mean = |n: usize, f: &dyn Fn(&crate::bench::CheckRow) -> f64| {
        let of: Vec<f64> = rows.iter().filter(|r| r.operations == n).map(f).collect();
        of.iter().sum::<f64>() / of.len().max(1) as f64
    };
    let _ = writeln!(
        stdout,
        "growth from each size to the next (means over the rows):"
    );
    for pair in sizes.windows(2) {
        let (a, b) = (pair[0] as f64, pair[1] as f64);
        let nlogn = (b * b.log2()) / (a * a.log2());
        let time = mean(pair[1], &|r| r.check_seconds) / mean(pair[0], &|r| r.check_seconds);
        let memory = mean(pair[1], &|r| r.check_bytes.unwrap_or(0) as f64)
            / mean(pair[0], &|r| r.check_bytes.unwrap_or(0) as f64).max(1.0);
        let _ = writeln!(
            stdout,
            "  {} -> {}: operations x{:.1}, n log n x{:.1}, time x{:.1}, check memory x{:.1}",
            pair[0],
            pair[1],
            b / a,
            nlogn,
            time,
            memory
        );
    }
    let _ = writeln!(
        stdout,
        "reproduce: faultline bench linearizability --operations {operations} --processes {} --seed {seed}",
        processes.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(",")
    );
    Ok(0)
}
