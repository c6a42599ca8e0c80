//! `faultline check`: a recorded history against a consistency model.
//! Exit codes: 0 linearizable, 1 not, 3 unknown (budget or deadline), 2 bad input.

use super::error::{CliError, ErrorKind};
use serde::Serialize;
use sim_core::checker::model::KvModel;
use sim_core::checker::{explain, linearizability, Budget, Verdict};
use sim_core::history::import::Format;
use sim_core::history::stream::import_reader;
use sim_core::history::{Function, History};
use sim_core::SimDuration;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use super::check_options::CheckOptions;

/// `check`'s memory budget when none is given: a run's default.
pub const CHECK_MEMORY_DEFAULT: &str = "1GiB";

#[derive(Serialize)]
struct CheckSummary {
    file: String,
    format: &'static str,
    model: String,
    partitioned: bool,
    operations: usize,
    verdict: Verdict,
    seconds: f64,
    steps: u64,
    keys: usize,
    /// Keys each algorithm decided (the search: keys it ran on).
    decided_by: linearizability::DecidedBy,
    #[serde(skip_serializing_if = "Option::is_none")]
    unknown_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counterexample: Option<linearizability::Counterexample>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<String>,
    /// Fields the format does not define, ignored: "name (first at line N)".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unknown_fields: Vec<String>,
}

pub fn check(path: &Path, options: CheckOptions, stdout: &mut dyn Write) -> Result<u8, CliError> {
    if let Some(model) = sim_core::checker::family::FamilyModel::parse(&options.model) {
        return super::check_family::check(path, model, &options, stdout);
    }
    if options.consistency_models.is_some() {
        return Err(CliError::argument(
            "--consistency-models",
            format!("--model {} is a register model; --consistency-models applies to list-append and rw-register", options.model),
        ));
    }
    let Prepared {
        history,
        model,
        format,
        unknown_fields,
        memo_bytes_max,
    } = prepare(path, &options)?;
    let (report, seconds) = search(&history, &model, memo_bytes_max, &options);
    let explanation = report
        .counterexample
        .as_ref()
        .map(|cx| explain::render(&history, cx));
    if let (Some(out), Some(cx)) = (&options.html, &report.counterexample) {
        let name_of = |p: u64| format!("p{p}");
        let page = reports::timeline::render(
            &history,
            cx,
            &path.display().to_string(),
            &[],
            None,
            &name_of,
        );
        std::fs::write(out, page).map_err(|e| super::check_options::output_error(out, e))?;
    }
    let summary = CheckSummary {
        file: path.display().to_string(),
        format: format.name(),
        model: options.model.clone(),
        partitioned: !options.whole,
        operations: history.len(),
        verdict: report.verdict,
        seconds,
        steps: report.steps,
        keys: report.keys_checked,
        decided_by: report.decided_by,
        unknown_reason: report.unknown_reason.clone(),
        counterexample: report.counterexample.clone(),
        explanation,
        unknown_fields: unknown_fields
            .iter()
            .map(|(name, line)| format!("{name} (first at line {line})"))
            .collect(),
    };
    if options.json {
        super::print_json(stdout, &summary);
    } else {
        print_text(&summary, options.whole, stdout);
    }
    Ok(match report.verdict {
        Verdict::Pass => 0,
        Verdict::Fail => 1,
        Verdict::Unknown => 3,
    })
}

/// The linearizability search within the deadline and the memory left;
/// returns its report and the seconds it took.
fn search(
    history: &History,
    model: &KvModel,
    memo_bytes_max: usize,
    options: &CheckOptions,
) -> (linearizability::Report, f64) {
    let timeout = SimDuration::parse(&options.timeout).expect("validated in prepare");
    let started = std::time::Instant::now();
    let deadline = started + std::time::Duration::from_nanos(timeout.as_nanos());
    // The deadline is the CLI's business; the checker only polls this callback.
    let cancel = move || std::time::Instant::now() >= deadline;
    let budget = Budget {
        steps_max: u64::MAX,
        cancel: Some(&cancel),
        memo_bytes_max,
        ..Budget::default()
    };
    let report = if memo_bytes_max == 0 {
        linearizability::Report {
            verdict: Verdict::Unknown,
            keys_checked: 0,
            steps: 0,
            decided_by: linearizability::DecidedBy::default(),
            counterexample: None,
            unknown_reason: Some(format!(
                "memory: the file and its history alone take the --memory budget ({}); give a larger one",
                options.memory
            )),
        }
    } else if options.whole {
        linearizability::check_whole(history, model, &budget)
    } else {
        let algorithms = match options.algorithm.as_str() {
            "search" => linearizability::Algorithms::SearchOnly,
            _ => linearizability::Algorithms::Auto,
        };
        linearizability::check_with(history, model, &budget, algorithms)
    };
    let seconds = started.elapsed().as_secs_f64();
    (report, seconds)
}

/// The verdict for people: a warning of ignored fields, the verdict, its
/// figures, and the counterexample explained.
fn print_text(summary: &CheckSummary, whole: bool, stdout: &mut dyn Write) {
    if !summary.unknown_fields.is_empty() {
        let _ = writeln!(
            stdout,
            "warning: fields the {} format does not define were ignored: {} (--strict refuses them)",
            summary.format,
            summary.unknown_fields.join(", ")
        );
    }
    let verdict = match summary.verdict {
        Verdict::Pass => "LINEARIZABLE".to_string(),
        Verdict::Fail => "NOT LINEARIZABLE".to_string(),
        Verdict::Unknown => format!(
            "UNKNOWN ({})",
            summary.unknown_reason.as_deref().unwrap_or("")
        ),
    };
    let _ =
        writeln!(
        stdout,
        "{}: {verdict}\n{} operations, {} keys{}, format {}, model {}, {:.3} s, {} search steps",
        summary.file,
        summary.operations,
        summary.keys,
        if whole { " (checked as one object)" } else { "" },
        summary.format,
        summary.model,
        summary.seconds,
        summary.steps
    );
    let _ = writeln!(stdout, "decided by: {}", summary.decided_by.in_words());
    if let Some(text) = &summary.explanation {
        let _ = write!(stdout, "{text}");
    }
}

/// A history ready to check, with what the import noticed and the
/// memory its search may use.
struct Prepared {
    history: History,
    model: KvModel,
    format: Format,
    unknown_fields: Vec<(String, usize)>,
    /// What the budget leaves for the memo (0: nothing).
    memo_bytes_max: usize,
}

fn prepare(path: &Path, options: &CheckOptions) -> Result<Prepared, CliError> {
    let format = Format::parse(&options.format).ok_or_else(|| {
        CliError::argument(
            "--format",
            format!(
                "{}: expected auto, edn, porcupine-etcd, porcupine-kv, jsonl or json",
                options.format
            ),
        )
    })?;
    SimDuration::parse(&options.timeout).map_err(|e| CliError::argument("--timeout", e))?;
    if !matches!(options.algorithm.as_str(), "auto" | "search") {
        return Err(CliError::argument(
            "--algorithm",
            format!("{}: expected auto or search", options.algorithm),
        ));
    }
    let memory = sim_core::bytes::Bytes::parse(&options.memory)
        .map_err(|e| CliError::argument("--memory", format!("{}: {e}", options.memory)))?
        .0;
    let allowed = model_functions(&options.model)?;
    let file = path.display().to_string();
    // Read a line at a time: a history of millions of operations never
    // holds its text (`import_reader`).
    let opened = std::fs::File::open(path)
        .map_err(|e| CliError::new(ErrorKind::Io, format!("{file}: {e}")).with_file(&file))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, opened);
    let imported = import_reader(&mut reader, format, &file).map_err(|e| {
        let mut error = CliError::new(ErrorKind::History, e.to_string()).with_file(&file);
        error.line = e.line;
        error
    })?;
    if let Some(op) = imported
        .history
        .operations
        .iter()
        .find(|op| !allowed.contains(&op.f))
    {
        return Err(CliError::argument(
            "--model",
            format!(
                "{file}: the {} model has no {:?} operations (process {}); choose --model cas-register or kv",
                options.model, op.f, op.process
            ),
        ));
    }
    if options.strict && !imported.unknown_fields.is_empty() {
        let (name, line) = &imported.unknown_fields[0];
        return Err(CliError::new(
            ErrorKind::History,
            format!(
                "{file}:{line}: `{name}` is not a field of the {} format ({} unknown field(s) in all); drop --strict to check with them ignored",
                imported.format.name(),
                imported.unknown_fields.len()
            ),
        )
        .with_file(&file));
    }
    let initial = options
        .initial
        .clone()
        .or(imported.initial)
        .unwrap_or_default();
    // The history stays for the search; its text was never held whole.
    let held = history_bytes(&imported.history);
    let memo_bytes_max = memory.saturating_sub(held).min(usize::MAX as u64) as usize;
    Ok(Prepared {
        history: imported.history,
        model: KvModel { initial },
        format: imported.format,
        unknown_fields: imported.unknown_fields,
        memo_bytes_max,
    })
}

/// The operations a register model defines.
fn model_functions(model: &str) -> Result<&'static [Function], CliError> {
    Ok(match model {
        "register" => &[Function::Read, Function::Write],
        "cas-register" => &[Function::Read, Function::Write, Function::Cas],
        "kv" => &[
            Function::Read,
            Function::Write,
            Function::Cas,
            Function::Append,
        ],
        other => {
            return Err(CliError::argument(
                "--model",
                format!("{other}: expected register, cas-register, kv, list-append, rw-register, bank, counter, set, set-full, long-fork or mutex"),
            ))
        }
    })
}

/// An estimate of the heap a history holds: each operation's record and
/// its strings.
fn history_bytes(history: &History) -> u64 {
    let strings: usize = history
        .operations
        .iter()
        .map(|op| {
            op.key.capacity()
                + op.value.as_ref().map_or(0, String::capacity)
                + op.expected.as_ref().map_or(0, String::capacity)
        })
        .sum();
    (history.operations.capacity() * std::mem::size_of::<sim_core::history::Operation>() + strings)
        as u64
}

/// `faultline check`'s flags, as clap reads them (the command's help is
/// its variant's doc comment in `cli/mod.rs`).
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// A history file: EDN, Porcupine etcd or kv log, or history.jsonl.
    pub history: PathBuf,
    /// register (read/write), cas-register (plus cas), kv (plus append); list-append, rw-register; bank, counter, set, set-full, long-fork, mutex (`faultline list models`).
    #[arg(long, default_value = "kv")]
    pub model: String,
    /// list-append and rw-register: the consistency models to judge, comma-separated (default strict-serializable; for the Plume format read-committed,read-atomic,causal).
    #[arg(long, value_name = "MODELS")]
    pub consistency_models: Option<String>,
    /// list-append, rw-register: check only what decides --consistency-models (faster); the other models may be reported unknown.
    #[arg(long)]
    pub named_only: bool,
    /// bank: balances may go negative.
    #[arg(long)]
    pub negative_balances: bool,
    /// bank: the initial total (default: the most common total among the reads).
    #[arg(long)]
    pub total: Option<i64>,
    /// auto, edn, porcupine-etcd, porcupine-kv, jsonl, json (an array of operations, or one per line) or plume.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// Give up with "unknown" after this long.
    #[arg(long, default_value = "10s")]
    pub timeout: String,
    /// Every key's initial value where the format does not say (default: no value).
    #[arg(long)]
    pub initial: Option<String>,
    /// Check as one object instead of key by key.
    #[arg(long)]
    pub whole: bool,
    /// Write a self-contained HTML timeline of the counterexample here.
    #[arg(long, value_name = "OUT.html")]
    pub html: Option<PathBuf>,
    /// Refuse (exit 2) a history with fields its format does not define; without it they are ignored with a warning.
    #[arg(long)]
    pub strict: bool,
    /// The check's memory budget: the file, the history and the search count against it; past it the verdict is unknown (exit 3).
    #[arg(long, value_name = "SIZE", default_value = CHECK_MEMORY_DEFAULT)]
    pub memory: String,
    /// Register models: auto (keys whose writes are all distinct are decided in O(n log n) by the distinct-values check, the rest by the search) or search (the search on every key).
    #[arg(long, default_value = "auto")]
    pub algorithm: String,
}

/// Runs `faultline check` from its flags.
pub fn from_args(args: CheckArgs, json: bool, stdout: &mut dyn Write) -> Result<u8, CliError> {
    let CheckArgs {
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
        algorithm,
    } = args;
    let options = CheckOptions {
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
        algorithm,
    };
    check(&history, options, stdout)
}
