//! A protocol's metrics over time (`metrics.json`'s `protocol_series`):
//! one chart per metric, one line per series of it (a series named
//! "replication_lag_ms/server2" is the line "server2" on the chart of
//! `replication_lag_ms`), over the run's time with the fault bands.

use crate::bands::FaultBand;
use crate::charts::{draw_bands, Drawable, Drawn, FAMILY, PALETTE};
use crate::key::{Key, Mark};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Charts drawn at most (one per metric), so a protocol with many series
/// cannot flood a report.
pub const CHARTS_MAX: usize = 8;

/// A chart's lines: (label, (ms, value) points).
type Lines = Vec<(String, Vec<(f64, f64)>)>;

/// One metric's lines over time.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesChart<'a> {
    pub metric: String,
    pub lines: Lines,
    pub bands: &'a [FaultBand],
    pub end_ms: f64,
}

/// The charts of `metrics.json`'s `run.protocol_series`, by metric name,
/// at most `CHARTS_MAX`. A line named "server<k>" is labelled with node
/// `k`'s name from `names` (ids in order).
pub fn charts<'a>(
    metrics: &Json,
    names: &[String],
    bands: &'a [FaultBand],
    end_ms: f64,
) -> Vec<SeriesChart<'a>> {
    let Some(all) = metrics["run"]["protocol_series"].as_object() else {
        return Vec::new();
    };
    let mut by_metric: BTreeMap<String, Lines> = BTreeMap::new();
    for (name, points) in all {
        let (metric, line) = name.split_once('/').unwrap_or((name.as_str(), ""));
        let line = line
            .strip_prefix("server")
            .and_then(|k| k.parse::<usize>().ok())
            .and_then(|k| names.get(k))
            .map_or(line, String::as_str);
        let points: Vec<(f64, f64)> = points
            .as_array()
            .map(|points| {
                points
                    .iter()
                    .filter_map(|p| Some((p[0].as_f64()?, p[1].as_f64()?)))
                    .collect()
            })
            .unwrap_or_default();
        by_metric
            .entry(metric.to_string())
            .or_default()
            .push((line.to_string(), points));
    }
    by_metric
        .into_iter()
        .take(CHARTS_MAX)
        .map(|(metric, lines)| SeriesChart {
            metric,
            lines,
            bands,
            end_ms,
        })
        .collect()
}

/// `points` cut where no point came for a long while (a crashed backup
/// acks nothing), so a line does not bridge the silence: a gap longer than
/// ten times the median gap, and than a hundredth of the run, splits it.
pub fn segments(points: &[(f64, f64)], end_ms: f64) -> Vec<&[(f64, f64)]> {
    let mut gaps: Vec<f64> = points.windows(2).map(|w| w[1].0 - w[0].0).collect();
    if gaps.is_empty() {
        return vec![points];
    }
    gaps.sort_by(f64::total_cmp);
    let limit = (gaps[gaps.len() / 2] * 10.0).max(end_ms / 100.0);
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..points.len() {
        if points[i].0 - points[i - 1].0 > limit {
            out.push(&points[start..i]);
            start = i;
        }
    }
    out.push(&points[start..]);
    out
}

impl SeriesChart<'_> {
    /// The file name, without extension.
    pub fn name(&self) -> String {
        format!("over-time-{}", self.metric)
    }
}

/// Windows a series is summarised in across the run (its mean line and
/// maximum band): a sample per acknowledgement drew a barcode of spikes.
pub const SERIES_WINDOWS: usize = 60;

/// `points` summarised per window of `end_ms / SERIES_WINDOWS`: (window
/// start, window end, mean, max) for each window with points, in order.
pub fn windowed(points: &[(f64, f64)], end_ms: f64) -> Vec<(f64, f64, f64, f64)> {
    let width = (end_ms / SERIES_WINDOWS as f64).max(1e-9);
    let mut out: Vec<(f64, f64, f64, f64)> = Vec::new();
    let mut sums: Vec<(usize, f64, f64, usize)> = Vec::new(); // (window, sum, max, count)
    for &(t, v) in points {
        let w = ((t / width) as usize).min(SERIES_WINDOWS - 1);
        match sums.last_mut() {
            Some(last) if last.0 == w => {
                last.1 += v;
                last.2 = last.2.max(v);
                last.3 += 1;
            }
            _ => sums.push((w, v, v, 1)),
        }
    }
    for (w, sum, max, count) in sums {
        let start = w as f64 * width;
        out.push((start, start + width, sum / count as f64, max));
    }
    debug_assert!(
        out.windows(2).all(|p| p[0].0 < p[1].0),
        "points come in time order"
    );
    out
}

impl Drawable for SeriesChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let high = self
            .lines
            .iter()
            .flat_map(|(_, points)| points.iter().map(|p| p.1))
            .fold(0.0f64, f64::max)
            .max(1e-9);
        let words = crate::words::metric_words(&self.metric);
        let mut key = Key::default();
        for (i, (line, _)) in self.lines.iter().enumerate() {
            let name = if line.is_empty() {
                words.clone()
            } else {
                line.clone()
            };
            key.add(
                format!("{name}: mean per window"),
                PALETTE[i % PALETTE.len()],
                Mark::Line,
            );
        }
        key.add(
            "shaded: the window's maximum",
            RGBColor(150, 150, 150),
            Mark::Box,
        );
        let root = &key.split(root)?;
        let mut chart = ChartBuilder::on(root)
            .caption(format!("{words} over time"), (FAMILY, 18))
            .margin(12)
            .margin_right(32)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..self.end_ms.max(1.0), 0.0..high * 1.1)?;
        chart
            .configure_mesh()
            .x_desc("time (ms)")
            .y_desc(words.as_str())
            .label_style((FAMILY, 12))
            .draw()?;
        draw_bands(&mut chart, self.bands, (0.0, high * 1.1))?;
        for (i, (_, points)) in self.lines.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            for segment in segments(points, self.end_ms) {
                let windows = windowed(segment, self.end_ms);
                // The maximum as a light band above the mean, then the
                // mean as a step line.
                chart.draw_series(windows.iter().map(|&(from, to, mean, max)| {
                    Rectangle::new([(from, mean), (to, max)], colour.mix(0.2).filled())
                }))?;
                let steps: Vec<(f64, f64)> = windows
                    .iter()
                    .flat_map(|&(from, to, mean, _)| [(from, mean), (to, mean)])
                    .collect();
                chart.draw_series(LineSeries::new(steps, colour.stroke_width(2)))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_grouped_into_one_chart_per_metric() {
        let metrics: Json = serde_json::json!({"run": {"protocol_series": {
            "lag/server1": [[1.0, 2.0], [3.0, 4.0]],
            "lag/server2": [[1.0, 0.5]],
            "depth": [[2.0, 7.0]],
        }}});
        let names = ["n1".to_string(), "n2".to_string()];
        let charts = charts(&metrics, &names, &[], 10.0);
        let shape: Vec<(&str, Vec<(&str, usize)>)> = charts
            .iter()
            .map(|c| {
                (
                    c.metric.as_str(),
                    c.lines.iter().map(|(l, p)| (l.as_str(), p.len())).collect(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("depth", vec![("", 1)]),
                ("lag", vec![("n2", 2), ("server2", 1)])
            ]
        );
        assert_eq!(charts[1].name(), "over-time-lag");
        assert!(charts[1].svg().contains("replication lag over time"));
        assert!(super::charts(&serde_json::json!({"run": {}}), &names, &[], 1.0).is_empty());
    }

    #[test]
    fn a_series_is_a_mean_per_window_with_its_maximum_not_a_barcode() {
        // Spikes: 0, 10, 0, 10 ... every 0.5 ms over 300 ms; windows of 5 ms.
        let points: Vec<(f64, f64)> = (0..600)
            .map(|i| (f64::from(i) * 0.5, if i % 2 == 0 { 0.0 } else { 10.0 }))
            .collect();
        let windows = windowed(&points, 300.0);
        assert_eq!(windows.len(), SERIES_WINDOWS);
        assert!(
            windows.iter().all(|w| w.2 == 5.0 && w.3 == 10.0),
            "{:?}",
            &windows[..3]
        );
        assert_eq!((windows[0].0, windows[0].1), (0.0, 5.0));
    }

    #[test]
    fn a_long_silence_splits_a_line() {
        // Points every 20 ms, then none for a second (a crash), then again.
        let mut points: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i) * 20.0, 1.0)).collect();
        points.extend((0..5).map(|i| (1200.0 + f64::from(i) * 20.0, 2.0)));
        let parts = segments(&points, 5000.0);
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [10, 5]);
        assert_eq!(segments(&points[..1], 5000.0).len(), 1);
        assert_eq!(segments(&[], 5000.0), [&[] as &[(f64, f64)]]);
    }
}
