//! The distribution of each protocol metric over a sweep's runs, per group:
//! `distribution.csv` beside the results (for example Raft's
//! `leaderless_ms` per election-timeout range, the paper's Figure 16).

use crate::sweep::{Header, UnitResult};
use scenarios::metrics::SampleSummary;
use std::collections::BTreeMap;

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
    fn fields_with_quotes_or_commas_are_quoted() {
        assert_eq!(csv_field("a=(\"1\", 2)"), "\"a=(\"\"1\"\", 2)\"");
    }
}
