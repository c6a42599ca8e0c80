//! `faultline bench`: built-in benchmarks.

use clap::Subcommand;
use std::io::Write;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
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

pub fn bench(which: BenchCommand, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    let BenchCommand::Pingpong {
        nodes,
        messages,
        seed,
        json,
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
            0
        }
        Err(error) => {
            let _ = writeln!(stderr, "error: {error}");
            2
        }
    }
}
