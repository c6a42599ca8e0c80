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
