//! What each chart shows, in a sentence or two computed from its data,
//! for the paragraph above it on a report page: "No request was served
//! from 2000 to 2250 ms (250 ms), after crash n5 (@leader) at 2000 ms."
//! A fixed caption says what a chart is; these say what to notice in this
//! one.
//!
//! Numbers are rounded for reading (three significant figures); the CSV
//! files and metrics.json keep them whole.

use crate::bands::FaultBand;
use crate::series::{LatencyPoints, Window};
use crate::sweep_series::{group_name, GroupData};
use scenarios::metrics::SideAvailability;
use sim_core::history::Outcome;

/// Stretches without a served request named at most.
const OUTAGES_NAMED_MAX: usize = 3;

/// `v` to three significant figures, without trailing zeros.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "-".to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// "2000 ms".
fn at(ms: f64) -> String {
    format!("{} ms", num(ms))
}

/// The fault whose band begins last at or before `ms` (within `slack_ms`):
/// what a change at `ms` most likely followed.
fn cause(bands: &[FaultBand], ms: f64, slack_ms: f64) -> Option<&FaultBand> {
    bands
        .iter()
        .filter(|b| b.start_ms <= ms + 1e-9 && ms - b.start_ms <= slack_ms)
        .max_by(|a, b| a.start_ms.total_cmp(&b.start_ms))
}

/// The availability chart: its stretches without a served request, the
/// longest first, each with the fault it followed.
pub fn availability(windows: &[Window], bands: &[FaultBand]) -> String {
    let mut outages: Vec<(f64, f64)> = Vec::new();
    let mut open: Option<f64> = None;
    for w in windows {
        let zero = w.served_share() == Some(0.0);
        match (zero, open) {
            (true, None) => open = Some(w.counts.start_ms),
            (false, Some(from)) => {
                outages.push((from, w.counts.start_ms));
                open = None;
            }
            _ => {}
        }
    }
    if let (Some(from), Some(last)) = (open, windows.last()) {
        outages.push((from, last.counts.start_ms + last.counts.width_ms));
    }
    let served: u64 = windows
        .iter()
        .map(|w| w.counts.ok + w.counts.declined)
        .sum();
    let begun: u64 = windows.iter().map(|w| w.counts.begun()).sum();
    if outages.is_empty() {
        let lowest = windows
            .iter()
            .filter_map(|w| w.served_share().map(|s| (s, w.counts.start_ms)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        return match lowest {
            Some((share, when)) if share < 1.0 => format!(
                "No stretch went without a served request. {} of {begun} requests were served; the worst window served {}% (at {}).",
                served,
                num(share * 100.0),
                at(when)
            ),
            Some(_) => format!("Every request was served: {served} of {begun}, no outage."),
            None => "No request was made.".to_string(),
        };
    }
    let width = windows.first().map_or(1.0, |w| w.counts.width_ms);
    outages.sort_by(|a, b| {
        (b.1 - b.0)
            .total_cmp(&(a.1 - a.0))
            .then(a.0.total_cmp(&b.0))
    });
    let named: Vec<String> = outages
        .iter()
        .take(OUTAGES_NAMED_MAX)
        .map(|&(from, to)| {
            let after = match cause(bands, from, 2.0 * width) {
                Some(b) => format!(", after {} at {}", b.label, at(b.start_ms)),
                None if from == 0.0 => ", at start-up".to_string(),
                None => String::new(),
            };
            format!(
                "from {} to {} ({}){after}",
                num(from),
                at(to),
                at(to - from)
            )
        })
        .collect();
    let total: f64 = outages.iter().map(|(a, b)| b - a).sum();
    format!(
        "No request was served {}. {} stretch{} without service, {} in all; {served} of {begun} requests were served in the end.",
        named.join("; and "),
        outages.len(),
        if outages.len() == 1 { "" } else { "es" },
        at(total)
    )
}

/// The latency chart: the median and p99 of what completed, and the
/// slowest operation with the fault it fell in.
pub fn latency(points: &LatencyPoints, bands: &[FaultBand]) -> String {
    let mut done: Vec<f64> = points
        .points
        .iter()
        .filter(|p| p.outcome != Outcome::Info)
        .map(|p| p.latency_ms)
        .collect();
    if done.is_empty() {
        return "No operation completed.".to_string();
    }
    let p50 = crate::series::quantile(&mut done, 0.5);
    let p99 = crate::series::quantile(&mut done, 0.99);
    let slowest = points
        .points
        .iter()
        .filter(|p| p.outcome != Outcome::Info)
        .max_by(|a, b| a.latency_ms.total_cmp(&b.latency_ms))
        .expect("some completed");
    let during = bands
        .iter()
        .find(|b| b.start_ms <= slowest.at_ms && slowest.at_ms <= b.end_ms.max(b.start_ms))
        .map_or(String::new(), |b| format!(", during {}", b.label));
    let unknown = points
        .points
        .iter()
        .filter(|p| p.outcome == Outcome::Info)
        .count();
    format!(
        "Of the operations drawn, half completed within {} and 99% within {}; the slowest took {}, begun at {}{during}.{}",
        at(p50),
        at(p99),
        at(slowest.latency_ms),
        at(slowest.at_ms),
        if unknown > 0 {
            format!(" {unknown} ended unknown (drawn at the run's end).")
        } else {
            String::new()
        }
    )
}

/// The quantiles chart: p99 before the first fault against during it.
pub fn quantiles(windows: &[Window], bands: &[FaultBand]) -> String {
    let p99s = |keep: &dyn Fn(&Window) -> bool| -> Vec<f64> {
        windows
            .iter()
            .filter(|w| keep(w))
            .filter_map(|w| w.quantiles.map(|q| q.p99))
            .collect()
    };
    let highest = |v: &[f64]| v.iter().copied().fold(f64::NAN, f64::max);
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        if v.is_empty() {
            f64::NAN
        } else {
            crate::series::quantile(&mut v, 0.5)
        }
    };
    match bands
        .iter()
        .min_by(|a, b| a.start_ms.total_cmp(&b.start_ms))
    {
        Some(first) => {
            let end = first
                .end_ms
                .max(first.start_ms + windows.first().map_or(1.0, |w| w.counts.width_ms));
            let before = p99s(&|w| w.counts.start_ms + w.counts.width_ms <= first.start_ms);
            let during = p99s(&|w| w.counts.start_ms >= first.start_ms && w.counts.start_ms < end);
            format!(
                "Per window, p99 latency was typically {} before {} at {}, and rose to {} during it.",
                at(median(&before)),
                first.label,
                at(first.start_ms),
                at(highest(&during))
            )
        }
        None => {
            let all = p99s(&|_| true);
            format!(
                "Per window, p99 latency was typically {} and at most {}.",
                at(median(&all)),
                at(highest(&all))
            )
        }
    }
}

/// A run's sides: each side's served share during the partition.
pub fn run_sides(sides: &[SideAvailability]) -> String {
    let parts: Vec<String> = sides
        .iter()
        .map(|s| {
            format!(
                "side {} had {}% of its {} operations served",
                s.counts.side.replace('+', " "),
                s.counts
                    .availability()
                    .map_or("-".to_string(), |a| num(a * 100.0)),
                s.counts.total()
            )
        })
        .collect();
    format!("During the partition, {}.", parts.join("; "))
}

/// An over-time series: which line peaked, how high and when.
pub fn over_time(metric_words: &str, lines: &[(String, Vec<(f64, f64)>)]) -> String {
    let peak = lines
        .iter()
        .flat_map(|(line, points)| points.iter().map(move |p| (line, *p)))
        .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1));
    match peak {
        Some((line, (t, v))) => {
            let whose = if line.is_empty() {
                String::new()
            } else {
                format!(" at {line}")
            };
            format!(
                "The {metric_words} peaked{whose} at {} at {}.",
                num(v),
                at(t)
            )
        }
        None => format!("No {metric_words} was measured."),
    }
}

/// A sweep's verdicts: how many groups met their expectation, and which
/// did not.
pub fn verdicts(groups: &[GroupData]) -> String {
    let met = groups.iter().filter(|g| g.met() == Some(true)).count();
    let missed: Vec<String> = groups
        .iter()
        .filter(|g| g.met() == Some(false))
        .map(group_name)
        .collect();
    let mut out = format!("{met} of {} groups behaved as expected", groups.len());
    if missed.is_empty() {
        out.push('.');
    } else {
        out.push_str(&format!("; not as expected: {}.", missed.join(", ")));
    }
    let showing: Vec<String> = groups
        .iter()
        .filter(|g| g.failed_as_expected > 0)
        .map(|g| {
            format!(
                "{} ({} of {})",
                group_name(g),
                g.failed_as_expected,
                g.runs()
            )
        })
        .collect();
    if !showing.is_empty() {
        out.push_str(&format!(
            " The expected violation showed in {}.",
            showing.join(", ")
        ));
    }
    out
}

/// A CDF: each group's median, lowest first.
pub fn cdf(metric_words: &str, lines: &[(String, Vec<(f64, f64)>)]) -> String {
    let mut medians: Vec<(String, f64)> = lines
        .iter()
        .filter_map(|(label, steps)| {
            let median = steps.iter().find(|(_, fraction)| *fraction >= 0.5)?.0;
            Some((label.clone(), median))
        })
        .collect();
    medians.sort_by(|a, b| a.1.total_cmp(&b.1));
    if medians.is_empty() {
        return format!("No group measured {metric_words} in half its samples or more.");
    }
    format!(
        "Median {metric_words}, lowest first: {}.",
        medians
            .iter()
            .map(|(g, m)| format!("{g} {}", num(*m)))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A mean chart: the groups with the highest and lowest mean.
pub fn means(metric_words: &str, groups: &[(String, f64)]) -> String {
    let high = groups.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    let low = groups.iter().min_by(|a, b| a.1.total_cmp(&b.1));
    match (high, low) {
        (Some(h), Some(l)) if h.0 != l.0 => format!(
            "The mean {metric_words} is highest for {} ({}) and lowest for {} ({}).",
            h.0,
            num(h.1),
            l.0,
            num(l.1)
        ),
        (Some(h), _) => format!("The mean {metric_words} is {} for {}.", num(h.1), h.0),
        _ => format!("No group measured {metric_words}."),
    }
}

/// The trade-off: the group cheapest on each axis, and what it pays on
/// the other.
pub fn tradeoff(x_words: &str, y_words: &str, points: &[(String, f64, f64)]) -> String {
    let by_x = points.iter().min_by(|a, b| a.1.total_cmp(&b.1));
    let by_y = points.iter().min_by(|a, b| a.2.total_cmp(&b.2));
    match (by_x, by_y) {
        (Some(x), Some(y)) if x.0 != y.0 => format!(
            "{} has the lowest mean {x_words} ({}) and pays a p99 {y_words} of {}; {} has the lowest p99 {y_words} ({}) and pays a mean {x_words} of {}.",
            x.0,
            num(x.1),
            num(x.2),
            y.0,
            num(y.2),
            num(y.1)
        ),
        (Some(x), _) => format!(
            "{} is lowest on both: a mean {x_words} of {} and a p99 {y_words} of {}.",
            x.0,
            num(x.1),
            num(x.2)
        ),
        _ => "No group measured both.".to_string(),
    }
}

/// Latency against staleness: the freshest and the stalest group, with
/// their read latency.
pub fn staleness(points: &[(String, f64, Option<f64>)]) -> String {
    let fresh = points.iter().min_by(|a, b| a.1.total_cmp(&b.1));
    let stale = points.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    let p99 = |v: Option<f64>| v.map_or("-".to_string(), at);
    match (fresh, stale) {
        (Some(f), Some(s)) if f.0 != s.0 => format!(
            "Over the whole run, {} read stale most often ({}% of reads, read p99 {}), and {} least ({}%, read p99 {}).",
            s.0,
            num(s.1 * 100.0),
            p99(s.2),
            f.0,
            num(f.1 * 100.0),
            p99(f.2)
        ),
        (Some(f), _) => format!("{} read stale in {}% of reads.", f.0, num(f.1 * 100.0)),
        _ => "No group's reads were judged.".to_string(),
    }
}

/// t-visibility: P(consistent) at t = 0, lowest and highest.
pub fn visibility(at_zero: &[(String, f64)]) -> String {
    let low = at_zero.iter().min_by(|a, b| a.1.total_cmp(&b.1));
    let high = at_zero.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    match (low, high) {
        (Some(l), Some(h)) => format!(
            "Right after a write completes, a read is consistent with probability {}% for {} and {}% for {}; every curve rises with t.",
            num(l.1 * 100.0),
            l.0,
            num(h.1 * 100.0),
            h.0
        ),
        _ => "No group's reads were judged.".to_string(),
    }
}

/// How the t-visibility curves were measured, when not all alike: from
/// each read's threshold (every read at every t, a smooth curve), or
/// from reads binned by the t they began at. Empty when all are one kind.
pub fn visibility_from(groups: &[(String, &str)]) -> String {
    let thresholds: Vec<&str> = (groups.iter())
        .filter(|(_, from)| *from == "thresholds")
        .map(|(label, _)| label.as_str())
        .collect();
    if thresholds.is_empty() || thresholds.len() == groups.len() {
        return String::new();
    }
    format!(
        " The curves of {} come from each read's threshold, the least t at which it would have been consistent, so every read counts at every t; the others from reads binned by the t they began at.",
        thresholds.join(", ")
    )
}

/// A sweep's sides: the least and the most served side.
pub fn sweep_sides(sides: &[(String, f64, u64)]) -> String {
    let low = sides.iter().min_by(|a, b| a.1.total_cmp(&b.1));
    let high = sides.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    match (low, high) {
        (Some(l), Some(h)) => format!(
            "During the partition, {} had the fewest operations served ({}% of {}) and {} the most ({}% of {}).",
            l.0,
            num(l.1 * 100.0),
            l.2,
            h.0,
            num(h.1 * 100.0),
            h.2
        ),
        _ => "No side held clients.".to_string(),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_visibility_sentence_says_which_curves_come_from_thresholds_only_when_mixed() {
        let mixed = [
            ("R=1 W=1".to_string(), "thresholds"),
            ("PB Async".to_string(), "bins"),
        ];
        let said = visibility_from(&mixed);
        assert!(
            said.contains("The curves of R=1 W=1 come from each read's threshold"),
            "{said}"
        );
        assert!(said.contains("the others from reads binned"), "{said}");
        assert_eq!(
            visibility_from(&mixed[..1]),
            "",
            "all alike: nothing to tell apart"
        );
        assert_eq!(visibility_from(&mixed[1..]), "");
    }

    use super::*;
    use crate::bands::BandKind;
    use scenarios::availability::Window as Counts;

    fn window(start_ms: f64, share: Option<f64>) -> Window {
        let (open, served, answered, held) = match share {
            None => (0, 0, 0, 0),
            Some(0.0) => (2, 0, 0, 1),
            Some(_) => (2, 2, 2, 0),
        };
        Window {
            counts: Counts {
                start_ms,
                width_ms: 50.0,
                ok: served,
                declined: 0,
                gave_up: 0,
                info: 0,
                open,
                open_served: served,
                answered,
                held_up: held,
            },
            quantiles: None,
        }
    }

    #[test]
    fn an_outage_is_said_with_its_length_and_the_fault_it_followed() {
        let windows: Vec<Window> = (0..10)
            .map(|i| {
                let t = f64::from(i) * 50.0;
                window(
                    t,
                    Some(if (200.0..350.0).contains(&t) {
                        0.0
                    } else {
                        1.0
                    }),
                )
            })
            .collect();
        let bands = [FaultBand {
            start_ms: 200.0,
            end_ms: 300.0,
            kind: BandKind::Crash,
            label: "crash n5 (@leader)".into(),
            index: 0,
        }];
        assert_eq!(
            availability(&windows, &bands),
            "No request was served from 200 to 350 ms (150 ms), after crash n5 (@leader) at 200 ms. 1 stretch without service, 150 ms in all; 14 of 14 requests were served in the end."
        );
        let healthy: Vec<Window> = (0..4)
            .map(|i| window(f64::from(i) * 50.0, Some(1.0)))
            .collect();
        assert_eq!(
            availability(&healthy, &[]),
            "Every request was served: 8 of 8, no outage."
        );
    }

    #[test]
    fn numbers_read_to_three_figures() {
        assert_eq!(num(2250.0), "2250");
        assert_eq!(num(4.56789), "4.57");
        assert_eq!(num(0.012345), "0.0123");
        assert_eq!(num(0.0), "0");
        assert_eq!(
            cdf(
                "commit latency (ms)",
                &[
                    ("Raft".into(), vec![(3.0, 0.4), (3.5, 0.6)]),
                    ("Async".into(), vec![(1.1, 1.0)])
                ]
            ),
            "Median commit latency (ms), lowest first: Async 1.1, Raft 3.5."
        );
    }
}
