//! How many runs go at once: `--jobs` checked (the number of cores by
//! default), and lowered to what the runs' memory budgets fit. `sweep` and
//! `shrink` both use it; neither result depends on it.

use super::error::CliError;

/// Worker threads at most.
pub const JOBS_MAX: usize = 1024;

/// `--jobs`, checked; the number of cores by default.
pub fn jobs(jobs: Option<usize>) -> Result<usize, CliError> {
    let n = jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    if (1..=JOBS_MAX).contains(&n) {
        Ok(n)
    } else {
        Err(CliError::argument(
            "--jobs",
            format!("{n}: must be between 1 and {JOBS_MAX}"),
        ))
    }
}

/// How many runs of `per_run` bytes' budget go at once within
/// `memory_total` (80% of the memory available by default): at most
/// `jobs`, at least one; with a note for people when fewer than `jobs`
/// ("... and all together N").
pub fn fit_jobs(
    per_run: u64,
    jobs: usize,
    memory_total: Option<&str>,
) -> Result<(usize, Option<String>), String> {
    let total = match memory_total.map(scenarios::bytes::Bytes::parse) {
        None => memory_available().map(|bytes| bytes / 5 * 4),
        Some(parsed) => Some(parsed?.0),
    };
    match total {
        Some(total) if per_run > 0 && jobs as u64 * per_run > total => {
            let fit = (total / per_run).max(1) as usize;
            let note = format!(
                "{fit} jobs at once instead of {jobs}: each run may use {}, and all together {}",
                scenarios::bytes::Bytes(per_run),
                scenarios::bytes::Bytes(total)
            );
            Ok((fit, Some(note)))
        }
        _ => Ok((jobs, None)),
    }
}

/// Memory available to new work, from /proc/meminfo (Linux); `None`
/// elsewhere, where only --memory-total bounds the sweep.
fn memory_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}
