//! The distribution of each protocol metric over a sweep's runs, per group:
//! `distribution.csv` beside the results (for example Raft's
//! `leaderless_ms` per election-timeout range, the paper's Figure 16).

use crate::sweep::{Header, UnitResult};
use scenarios::metrics::SampleSummary;
use std::collections::BTreeMap;

/// Samples of one metric a run contributes at most. A run with more (commit
/// latencies, say) contributes an evenly spaced subset, so every run
/// weighs the same and results files stay small.
pub const SAMPLES_PER_RUN_MAX: usize = 32;

/// Picks at most `SAMPLES_PER_RUN_MAX` evenly spaced samples.
pub fn subsample(samples: &[f64]) -> Vec<f64> {
    if samples.len() <= SAMPLES_PER_RUN_MAX {
        return samples.to_vec();
    }
    (0..SAMPLES_PER_RUN_MAX)
        .map(|i| samples[i * samples.len() / SAMPLES_PER_RUN_MAX])
        .collect()
}

/// The CSV text: one row per (group, metric), in group then name order.
pub fn csv(header: &Header, results: &[UnitResult]) -> String {
    let mut by_group: Vec<BTreeMap<&str, (Vec<f64>, u64)>> =
        vec![BTreeMap::new(); header.groups.len()];
    let mut runs = vec![0u64; header.groups.len()];
    for unit in results {
        let Some(metrics) = by_group.get_mut(unit.group) else {
            continue;
        };
        runs[unit.group] += 1;
        for (name, samples) in &unit.samples {
            let entry = metrics.entry(name.as_str()).or_default();
            entry.0.extend(samples);
            entry.1 += u64::from(!samples.is_empty());
        }
    }
    let mut out =
        String::from("group,metric,runs,runs_with_samples,samples,min,median,p90,p99,max,mean\n");
    for (index, metrics) in by_group.iter().enumerate() {
        let label = csv_field(&header.groups[index].label);
        for (name, (samples, with)) in metrics {
            let row = match SampleSummary::of(samples) {
                Some(s) => format!(
                    "{:.3},{:.3},{:.3},{:.3},{:.3},{:.3}",
                    s.min, s.p50, s.p90, s.p99, s.max, s.mean
                ),
                None => ",,,,,".to_string(),
            };
            out.push_str(&format!(
                "{label},{name},{},{with},{},{row}\n",
                runs[index],
                samples.len()
            ));
        }
    }
    out
}

/// Quotes a CSV field that holds a comma or a quote.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsample_keeps_short_lists_and_spaces_long_ones() {
        assert_eq!(subsample(&[1.0, 2.0]), vec![1.0, 2.0]);
        let long: Vec<f64> = (0..320).map(f64::from).collect();
        let picked = subsample(&long);
        assert_eq!(picked.len(), SAMPLES_PER_RUN_MAX);
        assert_eq!(picked[1], 10.0);
        assert_eq!(csv_field("a=(\"1\", 2)"), "\"a=(\"\"1\"\", 2)\"");
    }
}
