//! The sides of a run's partitions: for each side that held clients, how
//! the operations they invoked while it lasted ended, as stacked bars. It
//! shows CAP's choice at a glance: a consistent system leaves the side
//! without a quorum unanswered; an available one answers both sides and
//! pays in consistency.

use crate::charts::{categorical, outcome_key, shorten, stacked_outcomes, Drawable, Drawn};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::Value as Json;

/// Side labels are cut to this many characters.
const LABEL_CHARS_MAX: usize = 36;

pub use scenarios::metrics::SideAvailability as Side;

/// A side's label: its nodes and when the partition lasted
/// ("n1 client1 client2, 1000-3000 ms").
pub fn label(side: &Side) -> String {
    format!(
        "{}, {:.0}-{:.0} ms",
        side.counts.side.replace('+', " "),
        side.from_ms,
        side.until_ms
    )
}

/// The sides in `metrics.json` (`run.partition_sides`), in the shape the
/// run wrote them; none when the run had no partition that named clients
/// (or the file is from a version that wrote them otherwise).
pub fn sides(metrics: &Json) -> Vec<Side> {
    serde_json::from_value(metrics["run"]["partition_sides"].clone()).unwrap_or_default()
}

/// The stacked bars of every side.
pub struct SidesChart<'a> {
    pub sides: &'a [Side],
}

impl Drawable for SidesChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let labels: Vec<String> = self
            .sides
            .iter()
            .map(|s| shorten(&label(s), LABEL_CHARS_MAX))
            .collect();
        let most = self
            .sides
            .iter()
            .map(|s| s.counts.total())
            .max()
            .unwrap_or(1)
            .max(1) as f64;
        let root = &outcome_key(scenarios::side_counts::OUTCOME_LABELS).split(root)?;
        let mut chart = categorical(
            root,
            "availability per side of each partition: the operations its clients invoked, by outcome",
            &labels,
            most * 1.15,
            "operations",
        )?;
        let counts: Vec<[u64; 3]> = self.sides.iter().map(|s| s.counts.by_outcome()).collect();
        stacked_outcomes(&mut chart, &counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_are_read_from_the_run_metrics() {
        let metrics: Json = serde_json::json!({"run": {"partition_sides": [
            {"from_ms": 1000.0, "until_ms": 3000.0, "side": "n1+client1", "ok": 3, "fail": 2, "info": 7, "gave_up": 1,
             "availability": 0.27, "reads": 2, "stale_reads": 0, "windows": 20, "windows_served": 5},
        ]}});
        let read = sides(&metrics);
        assert_eq!(read.len(), 1);
        assert_eq!(label(&read[0]), "n1 client1, 1000-3000 ms");
        assert_eq!(
            (read[0].counts.ok, read[0].counts.fail, read[0].counts.info),
            (3, 2, 7)
        );
        // A server's "no" is served; the client's give-up is not.
        assert_eq!(read[0].counts.by_outcome(), [4, 1, 7]);
        assert_eq!(read[0].counts.time_served(), Some(0.25));
        assert!(sides(&serde_json::json!({"run": {}})).is_empty());
        let svg = SidesChart {
            sides: &sides(&metrics),
        }
        .svg();
        assert!(svg.contains("availability per side"), "{svg}");
    }
}
