//! `faultline generate`: a seeded transactional history of a chosen size
//! and shape, for benchmarks and for other tools' checkers.

use super::error::{CliError, ErrorKind};
use sim_core::txn::generate::{self, Shape};
use sim_core::txn::TxnKind;
use std::io::Write;
use std::path::PathBuf;

/// The flags of `faultline generate`.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// list-append, rw-register, or register (one read/write register whose writes are all distinct, for the register checkers).
    #[arg(long, default_value = "list-append")]
    pub model: String,
    /// edn (Jepsen), or plume (rw-register only); register: jsonl. Default: edn, or jsonl for register.
    #[arg(long)]
    pub format: Option<String>,
    /// register: how many operations (reads and writes, half each).
    #[arg(long, default_value_t = 1000)]
    pub operations: usize,
    /// register: turn one read near the end into a stale read, so the history is not linearizable.
    #[arg(long)]
    pub violation: bool,
    #[arg(long, default_value_t = 1000)]
    pub txns: usize,
    #[arg(long, default_value_t = 10)]
    pub processes: usize,
    /// Keys active at a time.
    #[arg(long, default_value_t = 1000)]
    pub keys: usize,
    /// Micro-ops per transaction: 1 to this, uniformly.
    #[arg(long, default_value_t = 4)]
    pub mops_max: usize,
    #[arg(long, default_value_t = 50)]
    pub read_percent: u32,
    /// Writes to a key before it is retired for a fresh one (0: never).
    #[arg(long, default_value_t = 128)]
    pub writes_per_key: u32,
    /// Zipf exponent of key popularity (0: uniform).
    #[arg(long, default_value_t = 0.0)]
    pub zipf: f64,
    /// list-append: this percent of transactions' first list read loses its last element (stale), so the history is no longer strict serializable.
    #[arg(long, default_value_t = 0)]
    pub stale_percent: u32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Generates the history `args` describe and writes it to `--out` or stdout.
pub fn generate(args: GenerateArgs, stdout: &mut dyn Write) -> Result<u8, CliError> {
    let kind = match args.model.as_str() {
        "list-append" => TxnKind::ListAppend,
        "rw-register" => TxnKind::RwRegister,
        "register" => return generate_register(&args, stdout),
        other => {
            return Err(CliError::argument(
                "--model",
                format!("{other}: expected list-append, rw-register or register"),
            ))
        }
    };
    check_sizes(&args)?;
    let shape = Shape {
        kind,
        txns: args.txns,
        processes: args.processes,
        keys: args.keys,
        mops_max: args.mops_max,
        read_pct: args.read_percent,
        writes_per_key_max: args.writes_per_key,
        zipf: args.zipf,
        final_reads: false,
        fail_pct: 0,
    };
    let mut history = generate::serial(&shape, args.seed);
    generate::stale_reads(&mut history, args.stale_percent, args.seed);
    let text = match (args.format.as_deref().unwrap_or("edn"), kind) {
        ("edn", _) => generate::write_edn(&history),
        ("plume", TxnKind::RwRegister) => generate::write_plume(&history),
        (other, _) => {
            return Err(CliError::argument(
                "--format",
                format!("{other}: expected edn, or plume for rw-register"),
            ))
        }
    };
    match args.out {
        Some(path) => std::fs::write(&path, text).map_err(|e| {
            CliError::new(
                ErrorKind::Output,
                format!("cannot write {}: {e}", path.display()),
            )
            .with_file(path.display().to_string())
        })?,
        None => {
            let _ = stdout.write_all(text.as_bytes());
        }
    }
    Ok(0)
}

/// A register history (`history::generate::register`) as JSON lines,
/// written as it is made, to `--out` or stdout.
fn generate_register(args: &GenerateArgs, stdout: &mut dyn Write) -> Result<u8, CliError> {
    use sim_core::history::generate::{register, RegisterShape, OPERATIONS_MAX};
    if let Some(other) = args.format.as_deref().filter(|f| *f != "jsonl") {
        return Err(CliError::argument(
            "--format",
            format!("{other}: a register history is written as jsonl"),
        ));
    }
    for (flag, value, max) in [
        ("--operations", args.operations, OPERATIONS_MAX),
        ("--processes", args.processes, 100_000),
    ] {
        if value == 0 || value > max {
            return Err(CliError::argument(
                flag,
                format!("{value}: must be between 1 and {max}"),
            ));
        }
    }
    let shape = RegisterShape {
        operations: args.operations,
        processes: args.processes,
        violation: args.violation,
    };
    let (history, _) = register(&shape, args.seed);
    let written = match &args.out {
        Some(path) => std::fs::File::create(path).and_then(|file| {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            history.write_jsonl(&mut out)?;
            out.flush()
        }),
        None => history.write_jsonl(stdout),
    };
    written.map_err(|e| {
        CliError::new(ErrorKind::Output, format!("cannot write the history: {e}")).with_file(
            args.out
                .as_ref()
                .map_or("-".to_string(), |p| p.display().to_string()),
        )
    })?;
    Ok(0)
}

/// Every size and share within its bounds, or the flag's error.
fn check_sizes(args: &GenerateArgs) -> Result<(), CliError> {
    for (flag, value, max) in [
        ("--txns", args.txns, sim_core::txn::TXNS_MAX),
        ("--processes", args.processes, 100_000),
        ("--keys", args.keys, 10_000_000),
        ("--mops-max", args.mops_max, 1000),
    ] {
        if value == 0 || value > max {
            return Err(CliError::argument(
                flag,
                format!("{value}: must be between 1 and {max}"),
            ));
        }
    }
    if args.read_percent > 100 {
        return Err(CliError::argument(
            "--read-percent",
            format!("{}: at most 100", args.read_percent),
        ));
    }
    if !(0.0..=10.0).contains(&args.zipf) {
        return Err(CliError::argument(
            "--zipf",
            format!("{}: between 0 and 10", args.zipf),
        ));
    }
    if args.stale_percent > 100 {
        return Err(CliError::argument(
            "--stale-percent",
            format!("{}: at most 100", args.stale_percent),
        ));
    }
    Ok(())
}
