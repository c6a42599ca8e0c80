//! The sides of a run's partitions: for each side that held clients, how
//! the operations they invoked while it lasted ended, as stacked bars. It
//! shows CAP's choice at a glance: a consistent system leaves the side
//! without a quorum unanswered; an available one answers both sides and
//! pays in consistency.

use crate::charts::{categorical, shorten, stacked_outcomes, Drawable, Drawn};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::Value as Json;

/// Side labels are cut to this many characters.
const LABEL_CHARS_MAX: usize = 36;

/// One side: its label ("n1 client1 client2, 1000–3000 ms") and its
/// operations by outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Side {
    pub label: String,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
}

/// The sides in `metrics.json` (`run.partition_sides`); none when the run
/// had no partition that named clients.
pub fn sides(metrics: &Json) -> Vec<Side> {
    let Some(list) = metrics["run"]["partition_sides"].as_array() else {
        return Vec::new();
    };
    list.iter()
        .map(|side| {
            let names: Vec<&str> = side["side"]
                .as_array()
                .map(|names| names.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            let ms = |key: &str| side[key].as_f64().unwrap_or(0.0);
            let count = |key: &str| side[key].as_u64().unwrap_or(0);
            Side {
                label: format!(
                    "{}, {:.0}-{:.0} ms",
                    names.join(" "),
                    ms("from_ms"),
                    ms("until_ms")
                ),
                ok: count("ok"),
                fail: count("fail"),
                info: count("info"),
            }
        })
        .collect()
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
            .map(|s| shorten(&s.label, LABEL_CHARS_MAX))
            .collect();
        let most = self
            .sides
            .iter()
            .map(|s| s.ok + s.fail + s.info)
            .max()
            .unwrap_or(1)
            .max(1) as f64;
        let mut chart = categorical(
            root,
            "availability per side of each partition: the operations its clients invoked, by outcome",
            &labels,
            most * 1.15,
            "operations",
        )?;
        let counts: Vec<[u64; 3]> = self.sides.iter().map(|s| [s.ok, s.fail, s.info]).collect();
        stacked_outcomes(&mut chart, &counts, ["ok", "fail", "unknown"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_are_read_from_the_run_metrics() {
        let metrics: Json = serde_json::json!({"run": {"partition_sides": [
            {"from_ms": 1000.0, "until_ms": 3000.0, "side": ["n1", "client1"], "ok": 3, "fail": 1, "info": 7},
        ]}});
        assert_eq!(
            sides(&metrics),
            [Side {
                label: "n1 client1, 1000-3000 ms".into(),
                ok: 3,
                fail: 1,
                info: 7
            }]
        );
        assert!(sides(&serde_json::json!({"run": {}})).is_empty());
        let svg = SidesChart {
            sides: &sides(&metrics),
        }
        .svg();
        assert!(svg.contains("availability per side"), "{svg}");
    }
}
