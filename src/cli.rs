//! Command-line parsing and dispatch (clap). Exit codes: 0 success, 1 a check
//! failed, 2 bad input or usage.

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::io::Write;

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
    /// Run a built-in benchmark.
    ///
    /// Example: faultline bench pingpong --nodes 5 --messages 10000000 --json
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// N nodes each keep one ping outstanding to a random peer; stops after M deliveries.
    ///
    /// Example: faultline bench pingpong --nodes 1000 --messages 5000000 --json
    Pingpong {
        /// Number of nodes.
        #[arg(long, default_value_t = 5)]
        nodes: usize,
        /// Stop after this many delivered messages (pings plus pongs).
        #[arg(long, default_value_t = 10_000_000)]
        messages: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
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
        Command::Bench {
            which:
                BenchCommand::Pingpong {
                    nodes,
                    messages,
                    seed,
                    json,
                },
        } => match crate::bench::pingpong(nodes, messages, seed) {
            Ok(report) => {
                if json {
                    let _ = writeln!(
                        stdout,
                        "{}",
                        serde_json::to_string(&report).expect("serializable")
                    );
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
                0
            }
            Err(error) => {
                let _ = writeln!(stderr, "error: {error}");
                2
            }
        },
    }
}
