//! A sweep's consistency pictures, from each group's summed reads:
//! t-visibility (PBS: the probability a read begun t after a write
//! completed sees it, one line per group), the PACELC trade-off (read and
//! write p99 against the share of stale reads, one point per group), and
//! per side of a partition the outcomes and the stale reads (CAP).

use crate::charts::{group_colour, shorten, Drawable, Drawn, FAMILY};
use crate::html::escape;
use crate::key::{Key, Mark};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::fmt::Write as _;

/// Side labels (side | group), to the left of their bars, get more.
const SIDE_LABEL_CHARS_MAX: usize = 60;
/// A bar of fewer than this many samples is drawn pale.
const FEW: u64 = 100;

/// 11780 as "11,780".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
/// Where the t-visibility chart draws t = 0 (a log axis has no zero).
pub const T_ZERO_DRAWN_MS: f64 = 0.01;
/// Reads a t-visibility point needs to be drawn.
pub const POINT_READS_MIN: u64 = 30;

pub use scenarios::sweep::consistency::GroupConsistency;

/// P(consistent) against t, one line per group.
pub struct VisibilityChart {
    pub lines: Vec<(String, Vec<(f64, f64)>)>,
}

impl VisibilityChart {
    pub fn of(groups: &[(String, &GroupConsistency)]) -> VisibilityChart {
        VisibilityChart {
            lines: groups
                .iter()
                .map(|(label, c)| {
                    let points = c
                        .visibility_ms()
                        .iter()
                        .filter(|(_, reads, _)| *reads >= POINT_READS_MIN)
                        .map(|(t, reads, ok)| (t.max(T_ZERO_DRAWN_MS), *ok as f64 / *reads as f64))
                        .collect();
                    (label.clone(), points)
                })
                // A group without points stays, empty, to keep its colour.
                .collect(),
        }
    }
}

impl Drawable for VisibilityChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let mut key = Key::default();
        for (i, (label, line)) in self.lines.iter().enumerate() {
            if !line.is_empty() {
                let mark = if i % 2 == 1 { Mark::Dashed } else { Mark::Line };
                key.add(label.clone(), group_colour(i), mark);
            }
        }
        let root = &key.split(root)?;
        let points = self.lines.iter().flat_map(|(_, p)| p.iter());
        let t_max = points.clone().map(|p| p.0).fold(1.0f64, f64::max);
        let p_min = points.map(|p| p.1).fold(1.0f64, f64::min).min(0.99);
        let mut chart = ChartBuilder::on(root)
            .caption(
                "t-visibility: P(a read begun t after a write completed returns it or newer)",
                (FAMILY, 18),
            )
            .margin(12)
            .margin_right(32)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(
                (T_ZERO_DRAWN_MS * 0.8..t_max * 1.5).log_scale(),
                (p_min - (1.0 - p_min) * 0.05)..1.0005,
            )?;
        chart
            .configure_mesh()
            .x_desc(format!(
                "t: time since the write completed (ms, log scale; t = 0 drawn at {T_ZERO_DRAWN_MS} ms)"
            ))
            .y_desc("P(the read is consistent)")
            .label_style((FAMILY, 12))
            .draw()?;
        for (i, (_, line)) in self.lines.iter().enumerate() {
            if line.is_empty() {
                continue;
            }
            let colour = group_colour(i);
            if i % 2 == 1 {
                chart.draw_series(DashedLineSeries::new(
                    line.iter().copied(),
                    7,
                    4,
                    colour.stroke_width(2),
                ))?;
            } else {
                chart.draw_series(LineSeries::new(
                    line.iter().copied(),
                    colour.stroke_width(2),
                ))?;
            }
            chart.draw_series(line.iter().map(|p| Circle::new(*p, 3, colour.filled())))?;
        }
        Ok(())
    }
}

/// One group on the PACELC chart: (group, stale share, read p99 ms,
/// write p99 ms).
pub type PacelcPoint = (String, Option<f64>, Option<f64>, Option<f64>);

/// Read and write p99 against the share of stale reads, one pair of
/// points per group: PACELC's "else, latency or consistency".
pub struct PacelcChart {
    /// (group, stale share, read p99 ms, write p99 ms), one per group of
    /// the sweep (its colour), `None` where it judged no reads.
    pub points: Vec<PacelcPoint>,
}

impl Drawable for PacelcChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let x_max = self
            .points
            .iter()
            .filter_map(|p| p.1)
            .fold(0.0f64, f64::max)
            .max(0.01);
        let mut key = Key::default();
        for (i, (label, stale, _, _)) in self.points.iter().enumerate() {
            if stale.is_some() {
                key.add(label.clone(), group_colour(i), Mark::Box);
            }
        }
        key.add("read p99", RGBColor(90, 90, 90), Mark::Dot);
        key.add("write p99", RGBColor(90, 90, 90), Mark::Square);
        let root = &key.split(root)?;
        let latencies = self.points.iter().flat_map(|p| [p.2, p.3]).flatten();
        let y_max = latencies.clone().fold(0.0f64, f64::max).max(1e-3);
        // Latencies a log scale apart, so that groups with the same share
        // of stale reads (often all of them at 0) do not sit on each other.
        let y_min = latencies.fold(f64::INFINITY, f64::min).max(1e-3) / 1.5;
        let mut chart = ChartBuilder::on(root)
            .caption(
                "latency against consistency: p99 of reads (circles) and writes (squares) by share of stale reads",
                (FAMILY, 18),
            )
            .margin(12)
            .margin_right(32)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(-x_max * 0.05..x_max * 1.3, (y_min..y_max * 1.5).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("stale reads: share of all reads over the whole run (the per-side chart counts the partition only)")
            .y_desc("p99 latency (ms, log scale)")
            .label_style((FAMILY, 12))
            .draw()?;
        for (i, (_, stale, read, write)) in self.points.iter().enumerate() {
            let Some(x) = *stale else {
                continue; // No judged reads: nothing to place.
            };
            let colour = group_colour(i);
            if let Some(read) = read {
                chart.draw_series(std::iter::once(Circle::new((x, *read), 6, colour.filled())))?;
            }
            if let Some(write) = write {
                chart.draw_series(std::iter::once(
                    EmptyElement::at((x, *write))
                        + Rectangle::new([(-6, -6), (6, 6)], colour.filled()),
                ))?;
            }
        }
        Ok(())
    }
}

/// Per group and side, as shares of one bar: the operations by outcome
/// (`reads: false`), or the judged reads, fresh and stale (`reads: true`).
/// Bars lie across, so the labels (group | side) have room on the left.
pub struct SidesChart {
    pub labels: Vec<String>,
    pub counts: Vec<[u64; 3]>,
    /// Per bar: the share of the partition's windows with an ok answer
    /// (availability over time), drawn as a mark on the bar.
    pub served: Vec<Option<f64>>,
    pub reads: bool,
}

/// A side's label: its servers (the clients on it add nothing to read).
fn side_servers(side: &str) -> String {
    let servers: Vec<&str> = side
        .split('+')
        .filter(|n| !n.starts_with("client"))
        .collect();
    if servers.is_empty() {
        side.to_string()
    } else {
        format!("side {}", servers.join("+"))
    }
}

impl SidesChart {
    pub fn of(groups: &[(String, &GroupConsistency)], reads: bool) -> SidesChart {
        let mut labels = Vec::new();
        let mut counts = Vec::new();
        let mut served = Vec::new();
        for (group, c) in groups {
            for side in &c.sides {
                let bar = if reads {
                    [side.fresh_reads(), side.stale_reads.min(side.reads), 0]
                } else {
                    side.by_outcome()
                };
                // The sample size beside the name, so a side with 7 reads
                // does not pass for one with 11,780.
                let total: u64 = bar.iter().sum();
                let size = match (total, reads) {
                    (0, true) => "no reads judged".to_string(),
                    (0, false) => "no operations".to_string(),
                    (n, true) => format!("n = {} reads", thousands(n)),
                    (n, false) => format!("n = {} ops", thousands(n)),
                };
                labels.push(format!(
                    "{} ({size})",
                    shorten(
                        &format!("{} | {group}", side_servers(&side.side)),
                        SIDE_LABEL_CHARS_MAX,
                    )
                ));
                served.push(side.time_served().filter(|_| !reads));
                counts.push(bar);
            }
        }
        SidesChart {
            labels,
            counts,
            served,
            reads,
        }
    }
}

impl Drawable for SidesChart {
    fn size(&self) -> (u32, u32) {
        (1200, 150 + 34 * self.labels.len().max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        use sim_core::history::Outcome;
        let (caption, names) = if self.reads {
            (
                "consistency per side, during the partition only: the share of its judged reads that saw every completed write",
                ["fresh", "stale", "-"],
            )
        } else {
            (
                "availability per side, during the partition: its clients' operations by outcome; time served: share of 100 ms windows a server answered in",
                scenarios::side_counts::OUTCOME_LABELS,
            )
        };
        let mut key = Key::default();
        for (layer, (name, outcome)) in names
            .into_iter()
            .zip([Outcome::Ok, Outcome::Fail, Outcome::Info])
            .enumerate()
        {
            if !(self.reads && layer == 2) {
                key.add(name, crate::charts::outcome_colour(outcome), Mark::Box);
            }
        }
        if self.served.iter().any(Option::is_some) {
            key.add(
                "time served (share of 100 ms windows)",
                BLACK,
                Mark::Diamond,
            );
        }
        key.add(
            format!("pale: fewer than {FEW} samples"),
            RGBColor(180, 180, 180),
            Mark::Box,
        );
        let root = &key.split(root)?;
        let n = self.labels.len().max(1);
        // The first bar at the top.
        let labels: Vec<String> = self.labels.iter().rev().cloned().collect();
        let labels = &labels;
        let row = |i: usize| (n - 1 - i) as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FAMILY, 16))
            .margin(12)
            .margin_right(32)
            .x_label_area_size(40)
            .y_label_area_size(520)
            .build_cartesian_2d(0.0..1.02, -0.5..n as f64 - 0.5)?;
        chart
            .configure_mesh()
            .y_labels(n)
            .y_label_formatter(&|y| crate::charts::category(labels, *y))
            .x_labels(6)
            .x_label_formatter(&|x| format!("{x:.1}"))
            .x_desc(if self.reads {
                "share of the side's judged reads"
            } else {
                "share of the side's operations"
            })
            .y_desc("side of the partition | group (sample size)")
            .label_style((FAMILY, 12))
            .draw()?;
        for (layer, outcome) in [Outcome::Ok, Outcome::Fail, Outcome::Info]
            .into_iter()
            .enumerate()
        {
            if self.reads && layer == 2 {
                break;
            }
            let colour = crate::charts::outcome_colour(outcome);
            let bars = self.counts.iter().enumerate().map(|(i, c)| {
                let total = c.iter().sum::<u64>();
                let before: u64 = c[..layer].iter().sum();
                let y = row(i);
                // A share of few is drawn pale: it is not as sure.
                let style = if total < FEW {
                    colour.mix(0.35).filled()
                } else {
                    colour.filled()
                };
                let total = total.max(1) as f64;
                Rectangle::new(
                    [
                        (before as f64 / total, y - 0.3),
                        ((before + c[layer]) as f64 / total, y + 0.3),
                    ],
                    style,
                )
            });
            chart.draw_series(bars)?;
        }
        if self.served.iter().any(Option::is_some) {
            let marks = self.served.iter().enumerate().filter_map(|(i, s)| {
                s.map(|share| {
                    EmptyElement::at((share, row(i)))
                        + Polygon::new(vec![(0, -9), (6, 0), (0, 9), (-6, 0)], BLACK.filled())
                })
            });
            chart.draw_series(marks)?;
        }
        Ok(())
    }
}

/// The HTML tables: one row per group, and one per group and side.
pub fn tables(groups: &[(String, &GroupConsistency)]) -> String {
    let mut out = String::from("<h2>Consistency</h2>\n<p>t-visibility after Bailis et al. (PBS): a read begun t after the latest write to its key completed is consistent if it returned that write or a version not certainly older. t(99.9%): the least t at which 99.9% of reads are consistent, with its 95% interval; where the protocol reports each read's threshold (the least t at which that read would have been consistent), from those thresholds, else from a non-decreasing fit of the reads binned by t. Latencies from merged histograms (within 0.79%).</p>\n<table>\n<tr><th>group</th><th>reads</th><th>stale</th><th>P(consistent) at t = 0</th><th>t(99.9%) ms [95% interval]</th><th>within 1 / 2 / 3 versions</th><th>read ms p50 / p99.9</th><th>write ms p50 / p99.9</th></tr>\n");
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.2}%", v * 100.0));
    let ms = |v: Option<(f64, f64, f64)>| {
        v.map_or("-".to_string(), |(p50, _, p999)| {
            format!("{p50:.2} / {p999:.2}")
        })
    };
    for (label, c) in groups {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {} / {}</td><td>{}</td><td>{}</td></tr>",
            escape(label),
            c.reads,
            c.stale_reads,
            c.at_zero().map_or("-".to_string(), |(p, upto)| if upto > 1e-5 {
                format!("{:.2}% (t &lt; {upto} ms)", p * 100.0)
            } else {
                format!("{:.2}%", p * 100.0)
            }),
            c.visibility_point(0.999).map_or("-".to_string(), |q| format!(
                "{:.3} [{:.3}, {}]",
                q.ms,
                q.low_ms,
                q.high_ms.map_or("never".to_string(), |h| format!("{h:.3}"))
            )),
            pct(c.within(1)),
            pct(c.within(2)),
            pct(c.within(3)),
            ms(c.read_ms()),
            ms(c.write_ms()),
        );
    }
    out.push_str("</table>\n");
    if groups.iter().any(|(_, c)| !c.sides.is_empty()) {
        out.push_str("<h3>Per side of each partition</h3>\n<p>Availability: the share of the operations its clients invoked during the partition that a server answered (ok, or a definite no such as a compare-and-set whose expected value did not match). Time served: the share of the partition's 100 ms windows in which one of them got a server's answer.</p>\n<table>\n<tr><th>group</th><th>side</th><th>ok</th><th>answered no</th><th>gave up</th><th>unknown</th><th>availability</th><th>time served</th><th>reads judged</th><th>stale</th></tr>\n");
        for (label, c) in groups {
            for side in &c.sides {
                let share =
                    |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.1}%", v * 100.0));
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(label),
                    escape(&side.side),
                    side.ok,
                    side.fail - side.gave_up.min(side.fail),
                    side.gave_up.min(side.fail),
                    side.info,
                    share(side.availability()),
                    share(side.time_served()),
                    side.reads,
                    side.stale_reads
                );
            }
        }
        out.push_str("</table>\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consistency_pictures_draw_every_group() {
        let mut read_latency = sim_core::histogram::LatencyHistogram::default();
        read_latency.record(sim_core::SimDuration::from_millis(1));
        let data = GroupConsistency {
            reads: 100,
            stale_reads: 3,
            visibility: vec![(100, 97), (100, 100)],
            read_latency,
            sides: vec![scenarios::side_counts::SideCounts {
                side: "n1+client1".into(),
                ok: 5,
                fail: 1,
                info: 2,
                gave_up: 1,
                reads: 4,
                stale_reads: 1,
                windows: 20,
                windows_served: 3,
            }],
            ..GroupConsistency::default()
        };
        let groups = vec![("R=1 W=1".to_string(), &data)];
        let svg = VisibilityChart::of(&groups).svg();
        assert!(svg.contains("R=1 W=1"), "{svg}");
        let pacelc = PacelcChart {
            points: vec![("R=1 W=1".into(), Some(0.03), Some(2.0), Some(2.5))],
        };
        assert!(pacelc.svg().contains("stale"));
        let sides = SidesChart::of(&groups, true);
        assert_eq!(sides.counts, vec![[3, 1, 0]]);
        // Each bar names its sample size; the two charts say what they count.
        assert_eq!(sides.labels, ["side n1 | R=1 W=1 (n = 4 reads)"]);
        assert!(sides.svg().contains("during the partition only"));
        assert!(pacelc.svg().contains("over the whole run"));
        assert_eq!(thousands(11_780), "11,780");
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert!(tables(&groups).contains("97.00%"));
    }
}
