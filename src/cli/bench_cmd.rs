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
}

pub fn bench(which: BenchCommand, json: bool, stdout: &mut dyn Write) -> Result<u8, CliError> {
    let BenchCommand::Pingpong {
        nodes,
        messages,
        seed,
    } = which;
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
