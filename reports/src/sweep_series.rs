//! The data behind a sweep's charts: per group, the verdict counts and the
//! samples of each protocol metric; per metric, each group's CDF and the
//! mean of its runs with a bootstrap 95% confidence interval.
//!
//! The interval: each run's samples of the metric are averaged (a run is
//! the unit that is independent of the others; samples within one run are
//! not), and the mean over runs is resampled with replacement
//! `BOOTSTRAP_RESAMPLES` times from a ChaCha stream with a fixed seed; the
//! interval is the 2.5th and 97.5th percentiles of the resampled means (the
//! percentile bootstrap). The fixed seed makes the chart byte-identical on
//! every machine.

use crate::series::{ecdf, quantile};
use rand::Rng;
use std::collections::BTreeMap;

/// Resamples per interval.
pub const BOOTSTRAP_RESAMPLES: usize = 2_000;
/// The stream the resampling draws from (with seed 0).
const BOOTSTRAP_STREAM: &str = "report/bootstrap";

/// One parameter group of a sweep, as its report reads it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupData {
    /// "election_timeout=(\"150ms\", \"300ms\")", or "all" with no axes.
    pub label: String,
    /// Its short name, when the sweep's axes name their values: what
    /// every chart and table calls it.
    pub name: Option<String>,
    /// (field path, value as RON text), one per sweep axis.
    pub sets: Vec<(String, String)>,
    /// What the group expects of its runs.
    pub expect: scenarios::schema::Expect,
    pub passed: u64,
    pub failed: u64,
    /// Of the `failed`, those that failed only checks the group expects
    /// to fail: drawn as "expected", not as red failures.
    pub failed_as_expected: u64,
    pub unknown: u64,
    /// Per metric: each run's samples (runs without samples left out).
    pub samples: BTreeMap<String, Vec<Vec<f64>>>,
    /// What theory predicts for this group's metrics (from the protocol).
    pub theory: Vec<scenarios::Theory>,
    /// What its runs' reads saw and its clients got, summed (register
    /// protocols only).
    pub consistency: Option<crate::consistency::GroupConsistency>,
}

impl GroupData {
    pub fn runs(&self) -> u64 {
        self.passed + self.failed + self.unknown
    }

    /// The group's expectation in words ("pass", "violates fresh-reads").
    pub fn expectation(&self) -> String {
        use scenarios::schema::Expect;
        match &self.expect {
            Expect::Pass => "every run passes".to_string(),
            Expect::Violation(names) => format!("violates {}", names.join(" or ")),
            Expect::Allow(names) => format!("may violate {}", names.join(" or ")),
        }
    }

    /// Whether its runs met the expectation: no unexpected failure, and
    /// for `Violation` at least one expected one; `None` when no run
    /// decided it (all cut short, or none ran).
    pub fn met(&self) -> Option<bool> {
        use scenarios::schema::Expect;
        let unexpected = self.failed - self.failed_as_expected.min(self.failed);
        if self.passed + self.failed == 0 {
            return None;
        }
        Some(match &self.expect {
            Expect::Pass => self.failed == 0,
            Expect::Violation(_) => unexpected == 0 && self.failed_as_expected > 0,
            Expect::Allow(_) => unexpected == 0,
        })
    }

    /// Every sample of `metric`, over all runs.
    pub fn pooled(&self, metric: &str) -> Vec<f64> {
        self.samples
            .get(metric)
            .map(|runs| runs.iter().flatten().copied().collect())
            .unwrap_or_default()
    }
}

/// A mean with its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    /// Runs it stands on.
    pub runs: usize,
}

/// The mean of the runs' means of `metric`, with its percentile-bootstrap
/// 95% interval; `None` when no run has a sample.
pub fn mean_with_interval(runs: &[Vec<f64>]) -> Option<Estimate> {
    let means = run_means(runs);
    let mean = mean_of_runs(runs)?;
    let n = means.len();
    let mut rng = sim_core::rng::stream(0, BOOTSTRAP_STREAM);
    let mut resampled: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| (0..n).map(|_| means[rng.random_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    let low = quantile(&mut resampled, 0.025);
    let high = quantile(&mut resampled, 0.975);
    Some(Estimate {
        mean,
        low,
        high,
        runs: n,
    })
}

/// Each run's mean (runs without samples left out).
fn run_means(runs: &[Vec<f64>]) -> Vec<f64> {
    runs.iter()
        .filter(|r| !r.is_empty())
        .map(|r| r.iter().sum::<f64>() / r.len() as f64)
        .collect()
}

/// The mean of the runs' means, so that every run weighs the same; `None`
/// when no run has a sample.
pub fn mean_of_runs(runs: &[Vec<f64>]) -> Option<f64> {
    let means = run_means(runs);
    (!means.is_empty()).then(|| means.iter().sum::<f64>() / means.len() as f64)
}

/// The sweep's one axis and each group's value on it, when there is one
/// axis and every value is a number (`nodes.Count` = 8, 64, 512): a
/// metric is then drawn against the value itself rather than against
/// categories.
pub fn numeric_axis(groups: &[GroupData]) -> Option<(String, Vec<f64>)> {
    let [(axis, _)] = groups.first()?.sets.as_slice() else {
        return None;
    };
    let values = groups
        .iter()
        .map(|g| match g.sets.as_slice() {
            [(a, value)] if a == axis => value.trim().parse::<f64>().ok().filter(|v| v.is_finite()),
            _ => None,
        })
        .collect::<Option<Vec<f64>>>()?;
    Some((axis.clone(), values))
}

/// Each theory line for `metric`: its label and, per group that has a
/// prediction, (group index, predicted value), in group order.
pub fn theory_lines(groups: &[GroupData], metric: &str) -> Vec<(String, Vec<(usize, f64)>)> {
    let mut lines: Vec<(String, Vec<(usize, f64)>)> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        for t in g.theory.iter().filter(|t| t.metric == metric) {
            match lines.iter_mut().find(|(label, _)| *label == t.label) {
                Some((_, points)) => points.push((i, t.value)),
                None => lines.push((t.label.clone(), vec![(i, t.value)])),
            }
        }
    }
    lines
}

/// Every metric any group has samples of, in name order.
pub fn metrics(groups: &[GroupData]) -> Vec<String> {
    let mut names: Vec<String> = groups
        .iter()
        .flat_map(|g| g.samples.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A group's name in a chart: its values alone with one sweep axis
/// (`("150ms", "300ms")`), else each axis's last path segment and value
/// (`loss=0.1, read_mode=Lease`); its label with no axis.
pub fn group_name(group: &GroupData) -> String {
    if let Some(name) = &group.name {
        return name.clone();
    }
    match group.sets.as_slice() {
        [] => group.label.clone(),
        [(_, value)] => readable(value),
        sets => sets
            .iter()
            .map(|(path, value)| {
                let name = path.rsplit('.').next().unwrap_or(path);
                format!("{name}={}", readable(value))
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// A sweep value as a scenario file would write it: the JSON of an enum
/// or a map (`{"PrimaryBackup":{"mode":"Sync"}}`) as RON
/// (`PrimaryBackup(mode: Sync)`), a JSON string without its quotes; any
/// other text as it is.
pub fn readable(value: &str) -> String {
    fn ron(v: &serde_json::Value) -> String {
        use serde_json::Value;
        match v {
            Value::String(s) => s.clone(),
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(ron).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Object(map) => {
                let fields = |m: &serde_json::Map<String, Value>| {
                    m.iter()
                        .map(|(k, v)| format!("{k}: {}", ron(v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                match map.iter().next() {
                    // An enum variant: its name, then its data.
                    Some((name, Value::Object(inner)))
                        if map.len() == 1 && name.starts_with(char::is_uppercase) =>
                    {
                        if inner.is_empty() {
                            name.clone()
                        } else {
                            format!("{name}({})", fields(inner))
                        }
                    }
                    Some((name, inner))
                        if map.len() == 1 && name.starts_with(char::is_uppercase) =>
                    {
                        format!("{name}({})", ron(inner))
                    }
                    _ => format!("({})", fields(map)),
                }
            }
            other => other.to_string(),
        }
    }
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(parsed @ (serde_json::Value::Object(_) | serde_json::Value::String(_))) => ron(&parsed),
        _ => value.to_string(),
    }
}

/// Each group's CDF of `metric` (pooled samples), by `group_name`; groups
/// without samples left out.
///
/// A metric a run measures once (`leaderless_ms`: one election per trial)
/// is a CDF over the group's runs: a run that measured nothing (no leader
/// by the end) never reaches any value, so the curve tops out below 1, as
/// the Raft paper's Figure 16 draws it, and the name says how many runs
/// measured it.
pub fn cdfs(groups: &[GroupData], metric: &str) -> Vec<(String, Vec<(f64, f64)>)> {
    groups
        .iter()
        .map(|g| {
            let steps = ecdf(&g.pooled(metric));
            let measured = g.samples.get(metric).map_or(0, Vec::len);
            let once = g
                .samples
                .get(metric)
                .is_some_and(|runs| runs.iter().all(|r| r.len() == 1));
            let runs = g.runs() as usize;
            if once && measured > 0 && measured < runs {
                let share = measured as f64 / runs as f64;
                let scaled = steps.into_iter().map(|(x, y)| (x, y * share)).collect();
                (
                    format!("{} ({measured} of {runs} runs)", group_name(g)),
                    scaled,
                )
            } else {
                (group_name(g), steps)
            }
        })
        // Groups without samples stay, empty, so that the i-th line is the
        // i-th group in every chart and keeps its colour.
        .collect()
}

/// What a heatmap's cells show.
#[derive(Clone, Debug, PartialEq)]
pub enum HeatValue {
    /// The fraction of the group's runs that passed.
    PassRate,
    /// The mean of the runs' means of a metric.
    Mean(String),
}

/// A two-axis sweep's pass rates, or one metric's means, as a grid: the
/// first axis across, the second down, each in the order its values first
/// appear.
#[derive(Clone, Debug, PartialEq)]
pub struct Heatmap {
    pub value: HeatValue,
    /// The axes' field paths.
    pub axes: (String, String),
    pub x_values: Vec<String>,
    pub y_values: Vec<String>,
    /// `cells[y][x]`: the value; `None` for a group with no runs (or no
    /// samples of the metric, or no group at that pair).
    pub cells: Vec<Vec<Option<f64>>>,
}

/// The grid of `value` for a sweep with exactly two axes; `None` otherwise.
pub fn heatmap(groups: &[GroupData], value: &HeatValue) -> Option<Heatmap> {
    let first = groups.first()?;
    let [(x_axis, _), (y_axis, _)] = first.sets.as_slice() else {
        return None;
    };
    let mut x_values: Vec<String> = Vec::new();
    let mut y_values: Vec<String> = Vec::new();
    for g in groups {
        let [(xa, x), (ya, y)] = g.sets.as_slice() else {
            return None;
        };
        if xa != x_axis || ya != y_axis {
            return None;
        }
        if !x_values.contains(x) {
            x_values.push(x.clone());
        }
        if !y_values.contains(y) {
            y_values.push(y.clone());
        }
    }
    let mut cells = vec![vec![None; x_values.len()]; y_values.len()];
    for g in groups {
        let (x, y) = (&g.sets[0].1, &g.sets[1].1);
        let xi = x_values.iter().position(|v| v == x).expect("seen");
        let yi = y_values.iter().position(|v| v == y).expect("seen");
        cells[yi][xi] = match value {
            HeatValue::PassRate => (g.runs() > 0).then(|| g.passed as f64 / g.runs() as f64),
            HeatValue::Mean(metric) => g.samples.get(metric).and_then(|runs| mean_of_runs(runs)),
        };
    }
    Some(Heatmap {
        value: value.clone(),
        axes: (x_axis.clone(), y_axis.clone()),
        x_values,
        y_values,
        cells,
    })
}

/// Percentiles of a metric's pooled samples, for the tables.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percentiles {
    pub samples: usize,
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

pub fn percentiles(samples: &[f64]) -> Option<Percentiles> {
    if samples.is_empty() {
        return None;
    }
    let mut values = samples.to_vec();
    Some(Percentiles {
        samples: values.len(),
        min: quantile(&mut values, 0.0),
        p50: quantile(&mut values, 0.5),
        p90: quantile(&mut values, 0.9),
        p99: quantile(&mut values, 0.99),
        max: quantile(&mut values, 1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_values_read_as_a_scenario_writes_them() {
        assert_eq!(readable(r#"{"Raft":{}}"#), "Raft");
        assert_eq!(
            readable(r#"{"PrimaryBackup":{"mode":{"Async":{"ship_interval":"50ms"}}}}"#),
            "PrimaryBackup(mode: Async(ship_interval: 50ms))"
        );
        assert_eq!(readable(r#""Sync""#), "Sync");
        assert_eq!(
            readable(r#"{"read_quorum":2,"write_quorum":1}"#),
            "(read_quorum: 2, write_quorum: 1)"
        );
        assert_eq!(readable("0.05"), "0.05");
        assert_eq!(readable(r#"("150ms", "300ms")"#), r#"("150ms", "300ms")"#);
    }

    #[test]
    fn a_constant_sample_has_a_point_interval() {
        let runs = vec![vec![5.0]; 50];
        let estimate = mean_with_interval(&runs).unwrap();
        assert_eq!(
            (estimate.mean, estimate.low, estimate.high),
            (5.0, 5.0, 5.0)
        );
        assert_eq!(estimate.runs, 50);
    }

    #[test]
    fn the_interval_matches_the_normal_reference_for_a_large_sample() {
        // Runs' means 0..1000 repeated: mean 499.5, standard deviation
        // ~288.7; with 4,000 runs the normal interval is 499.5 ± 8.95.
        let runs: Vec<Vec<f64>> = (0..4_000).map(|i| vec![(i % 1_000) as f64]).collect();
        let estimate = mean_with_interval(&runs).unwrap();
        assert_eq!(estimate.mean, 499.5);
        let half = 1.96 * 288.675 / (4_000f64).sqrt();
        assert!(
            (estimate.low - (499.5 - half)).abs() < 0.15 * half,
            "{estimate:?}"
        );
        assert!(
            (estimate.high - (499.5 + half)).abs() < 0.15 * half,
            "{estimate:?}"
        );
        // Deterministic: the same input gives the same interval.
        assert_eq!(mean_with_interval(&runs), Some(estimate));
    }

    #[test]
    fn runs_are_the_unit_not_samples() {
        // One run with many samples weighs as much as one with one.
        let runs = vec![vec![10.0; 100], vec![0.0]];
        assert_eq!(mean_with_interval(&runs).unwrap().mean, 5.0);
        assert_eq!(mean_with_interval(&[vec![], vec![]]), None);
    }

    #[test]
    fn two_axes_make_a_grid_of_pass_rates_and_other_shapes_none() {
        let group = |x: &str, y: &str, passed: u64, failed: u64| GroupData {
            label: format!("{x},{y}"),
            sets: vec![("a.x".into(), x.into()), ("b.y".into(), y.into())],
            passed,
            failed,
            ..GroupData::default()
        };
        let groups = [
            group("1", "p", 4, 0),
            group("2", "p", 2, 2),
            group("1", "q", 0, 4),
            group("2", "q", 0, 0),
        ];
        let map = heatmap(&groups, &HeatValue::PassRate).unwrap();
        assert_eq!(map.axes, ("a.x".to_string(), "b.y".to_string()));
        assert_eq!(
            (map.x_values.clone(), map.y_values.clone()),
            (
                vec!["1".to_string(), "2".into()],
                vec!["p".to_string(), "q".into()]
            )
        );
        assert_eq!(map.cells, [[Some(1.0), Some(0.5)], [Some(0.0), None]]);
        let one_axis = GroupData {
            sets: vec![("a.x".into(), "1".into())],
            ..GroupData::default()
        };
        assert_eq!(heatmap(&[one_axis], &HeatValue::PassRate), None);
        assert_eq!(heatmap(&[], &HeatValue::PassRate), None);
    }

    #[test]
    fn percentiles_and_cdfs_come_from_the_pooled_samples() {
        let group = GroupData {
            label: "a".into(),
            samples: BTreeMap::from([("m".to_string(), vec![vec![1.0, 2.0], vec![3.0]])]),
            ..GroupData::default()
        };
        assert_eq!(group.pooled("m"), [1.0, 2.0, 3.0]);
        let p = percentiles(&group.pooled("m")).unwrap();
        assert_eq!((p.samples, p.min, p.p50, p.max), (3, 1.0, 2.0, 3.0));
        assert_eq!(
            cdfs(&[group], "m"),
            [(
                "a".to_string(),
                vec![(1.0, 1.0 / 3.0), (2.0, 2.0 / 3.0), (3.0, 1.0)]
            )]
        );
    }

    #[test]
    fn a_once_per_run_metric_is_a_cdf_over_the_runs_and_tops_out_below_one() {
        // Four trials, two of which elected nobody (no sample).
        let group = GroupData {
            label: "a".into(),
            passed: 4,
            samples: BTreeMap::from([("m".to_string(), vec![vec![10.0], vec![20.0]])]),
            ..GroupData::default()
        };
        assert_eq!(
            cdfs(&[group], "m"),
            [(
                "a (2 of 4 runs)".to_string(),
                vec![(10.0, 0.25), (20.0, 0.5)]
            )]
        );
    }

    /// A group that did not measure a metric keeps its place among the
    /// lines, so the next group keeps its colour: PrimaryBackup Async was
    /// green in one CDF and orange in the next, because a group before it
    /// had no samples of the second metric and the lines shifted.
    #[test]
    fn a_group_without_samples_keeps_its_place_and_so_every_colour_stays() {
        let with = |label: &str, metric: &str| GroupData {
            label: label.into(),
            samples: BTreeMap::from([(metric.to_string(), vec![vec![1.0]])]),
            ..GroupData::default()
        };
        let groups = [with("a", "x"), with("b", "y"), with("c", "y")];
        let lines = cdfs(&groups, "y");
        assert_eq!(lines.len(), 3);
        assert!(lines[0].1.is_empty());
        assert_eq!((lines[1].0.as_str(), lines[2].0.as_str()), ("b", "c"));
        assert_ne!(
            crate::charts::group_colour(1),
            crate::charts::group_colour(2)
        );
    }
}
