//! A sweep folder's report: its results read back, grouped as the
//! `reports` crate draws them (verdict counts and each run's samples per
//! group), and written as charts and report.html beside the results.

use crate::sweep::{self, Header, UnitResult};
use reports::sweep_series::GroupData;
use std::path::{Path, PathBuf};

/// The groups of a sweep, from its header and results. A run counts as
/// passed, failed (a check failed or the protocol panicked) or unknown
/// (cut short, out of budget, or bad input found at run time).
///
/// Runs are taken in seed order, whatever order the results file holds
/// them in (a parallel sweep writes them as they finish): the bootstrap
/// resamples by position, so the report must not depend on `--jobs`.
pub fn groups(header: &Header, results: &[UnitResult]) -> Vec<GroupData> {
    let mut ordered: Vec<&UnitResult> = results.iter().collect();
    ordered.sort_by_key(|unit| (unit.group, unit.seed));
    let mut groups: Vec<GroupData> = header
        .groups
        .iter()
        .map(|g| GroupData {
            label: g.label.clone(),
            name: g.name.clone(),
            expect: g.expect.clone().unwrap_or_else(|| header.expect.clone()),
            // The charts' axes: the paths that follow another leave out.
            sets: g
                .sets
                .iter()
                .filter(|(path, _)| !g.lockstep.contains(path))
                .cloned()
                .collect(),
            theory: g.theory.clone(),
            ..GroupData::default()
        })
        .collect();
    for (group, sums) in groups
        .iter_mut()
        .zip(crate::consistency::by_group(header, results))
    {
        if sums.runs > 0 {
            group.consistency = Some(sums);
        }
    }
    for unit in ordered {
        let Some(group) = groups.get_mut(unit.group) else {
            continue;
        };
        if unit.passed {
            group.passed += 1;
        } else if unit.error.is_none() && (!unit.failed.is_empty() || unit.panic.is_some()) {
            group.failed += 1;
            group.failed_as_expected +=
                u64::from(scenarios::sweep::summary::failed_as_expected(header, unit));
        } else {
            group.unknown += 1;
        }
        for (metric, samples) in &unit.samples {
            if !samples.is_empty() {
                group
                    .samples
                    .entry(metric.clone())
                    .or_default()
                    .push(samples.clone());
            }
        }
    }
    groups
}

/// Reads the sweep folder `dir` and writes its report there (`faultline
/// report DIR`).
pub fn write(dir: &Path, options: &reports::sweep_report::SweepOptions) -> Result<PathBuf, String> {
    let (header, results, _) = sweep::read_results(&sweep::results_file(dir))?;
    write_results(dir, &header, &results, options)
}

/// Writes the report of a sweep's records into `dir`, from the records a
/// sweep holds in memory, so that it never reads its results file back.
pub fn write_results(
    dir: &Path,
    header: &Header,
    results: &[UnitResult],
    options: &reports::sweep_report::SweepOptions,
) -> Result<PathBuf, String> {
    let title = format!("{} seeds {}", header.scenario, header.seeds);
    let options = reports::sweep_report::SweepOptions {
        tradeoff: header.tradeoff.clone(),
        missing: header.missing_note(results.len() as u64),
        description: header.description.clone(),
        lesson: header.lesson.clone(),
        charts: header.charts.clone(),
        ..options.clone()
    };
    reports::sweep_report::write(dir, &title, &groups(header, results), &options)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::fixtures;
    use std::collections::BTreeMap;

    fn unit(group: usize, passed: bool, failed: &[&str], samples: &[f64]) -> UnitResult {
        let mut unit = fixtures::unit(
            group,
            0,
            BTreeMap::from([("m".to_string(), samples.to_vec())]),
        );
        unit.passed = passed;
        unit.failed = failed.iter().map(|s| s.to_string()).collect();
        unit
    }

    #[test]
    fn a_tradeoff_point_stands_for_each_group_that_measured_both_metrics() {
        let header = fixtures::header(&["a", "b"]);
        let run = |group: usize, seed: u64, x: &[f64], y: &[f64]| {
            let mut samples = BTreeMap::from([("y".to_string(), y.to_vec())]);
            if !x.is_empty() {
                samples.insert("x".to_string(), x.to_vec());
            }
            fixtures::unit(group, seed, samples)
        };
        let results = [
            run(0, 0, &[2.0], &[5.0]),
            run(0, 1, &[4.0], &[5.0]),
            run(1, 0, &[], &[3.0]),
        ];
        let groups = groups(&header, &results);
        let chart = reports::sweep_report::TradeoffChart::of(&groups, "x", "y");
        assert_eq!(chart.points.len(), 1, "group b measured no x");
        assert_eq!(chart.points[0].group, "a");
        assert_eq!(chart.points[0].x.mean, 3.0);
        assert_eq!(chart.points[0].y_p99, 5.0);
    }

    #[test]
    fn runs_are_counted_by_verdict_and_their_samples_kept_per_run() {
        let header = fixtures::header(&["a", "b"]);
        let mut second = unit(0, false, &["linearizability"], &[3.0]);
        second.seed = 1;
        // In the file, the later seed finished first.
        let results = [
            second,
            unit(0, true, &[], &[1.0, 2.0]),
            unit(1, false, &[], &[]),
        ];
        let groups = groups(&header, &results);
        assert_eq!(
            (groups[0].passed, groups[0].failed, groups[0].unknown),
            (1, 1, 0)
        );
        assert_eq!(
            (groups[1].passed, groups[1].failed, groups[1].unknown),
            (0, 0, 1)
        );
        assert_eq!(groups[0].samples["m"], vec![vec![1.0, 2.0], vec![3.0]]);
        assert!(
            groups[1].samples.is_empty(),
            "a run without samples adds none"
        );
        assert_eq!(groups[0].sets, [("x".to_string(), "a".to_string())]);
    }
}
