//! A sweep's progress: a bar on a terminal, or a line at a steady interval
//! where stderr is a log (CI), so that a long sweep is never silent until
//! its end. Wall time is the CLI's business, never the simulation's
//! (ARCHITECTURE.md, invariant 2): progress changes no result.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::Write;
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ProgressMode {
    /// A redrawn bar (stderr is a terminal).
    Bar,
    /// A line every `every`, and one at the end.
    Lines { every: Duration },
}

/// The interval of progress lines in a log, by default.
pub const LINES_EVERY_DEFAULT: Duration = Duration::from_secs(10);

/// Counts so far, as a progress line shows them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    pub done: u64,
    pub total: u64,
    pub failing: u64,
    pub inconclusive: u64,
}

/// One progress line: seeds done, rate, failures so far, time left.
pub fn line(counts: Counts, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        counts.done as f64 / seconds
    } else {
        0.0
    };
    let percent = if counts.total > 0 {
        counts.done as f64 * 100.0 / counts.total as f64
    } else {
        100.0
    };
    let left = counts.total.saturating_sub(counts.done);
    let eta = if left == 0 {
        "done".to_string()
    } else if rate > 0.0 {
        format!("eta {}", clock(left as f64 / rate))
    } else {
        "eta unknown".to_string()
    };
    format!(
        "progress: {}/{} seeds ({percent:.0}%), {rate:.1} seeds/s, {} failing, {} inconclusive, {eta}, {} elapsed",
        counts.done,
        counts.total,
        counts.failing,
        counts.inconclusive,
        clock(seconds)
    )
}

/// Seconds as "1h02m03s", "4m05s" or "6s".
fn clock(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, min, sec) => format!("{min}m{sec:02}s"),
        (h, min, sec) => format!("{h}h{min:02}m{sec:02}s"),
    }
}

/// Progress of one sweep, fed from the thread that collects results.
pub struct SweepProgress {
    mode: ProgressMode,
    bar: ProgressBar,
    counts: Counts,
    started: Instant,
    last_line: Instant,
}

impl SweepProgress {
    pub fn new(mode: ProgressMode, total: u64, counts: Counts) -> Self {
        let target = if mode == ProgressMode::Bar {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} seeds  {per_sec}  eta {eta}  {msg}")
                .expect("valid template"),
        );
        bar.set_message(format!("{} failing", counts.failing));
        let now = Instant::now();
        SweepProgress {
            mode,
            bar,
            counts: Counts { total, ..counts },
            started: now,
            last_line: now,
        }
    }

    /// One more run finished.
    pub fn finished(&mut self, failing: bool, inconclusive: bool, log: &mut dyn Write) {
        self.counts.done += 1;
        self.counts.failing += u64::from(failing);
        self.counts.inconclusive += u64::from(inconclusive);
        if failing {
            self.bar
                .set_message(format!("{} failing", self.counts.failing));
        }
        self.bar.inc(1);
        if let ProgressMode::Lines { every } = self.mode {
            if self.last_line.elapsed() >= every {
                self.last_line = Instant::now();
                let _ = writeln!(log, "{}", line(self.counts, self.started.elapsed()));
            }
        }
    }

    /// The sweep ended: clears the bar, or prints the last line.
    pub fn end(self, log: &mut dyn Write) {
        self.bar.finish_and_clear();
        if matches!(self.mode, ProgressMode::Lines { .. }) {
            let _ = writeln!(log, "{}", line(self.counts, self.started.elapsed()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_gives_counts_rate_and_time_left() {
        let counts = Counts {
            done: 250,
            total: 1000,
            failing: 3,
            inconclusive: 1,
        };
        assert_eq!(
            line(counts, Duration::from_secs(50)),
            "progress: 250/1000 seeds (25%), 5.0 seeds/s, 3 failing, 1 inconclusive, eta 2m30s, 50s elapsed"
        );
        let all = Counts {
            done: 1000,
            ..counts
        };
        assert!(line(all, Duration::from_secs(3700)).ends_with("done, 1h01m40s elapsed"));
        let none = Counts { done: 0, ..counts };
        assert!(line(none, Duration::ZERO).contains("eta unknown"));
    }
}
