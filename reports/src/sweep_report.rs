//! A sweep's report: per group the verdict counts, per protocol metric the
//! CDF of each group (the Raft paper's Figure 16 is the CDF of
//! `leaderless_ms` per election-timeout range) and each group's mean with
//! its bootstrap 95% interval, percentile tables, and `report.html` with
//! all of it. Made from the sweep's results alone, so `faultline report`
//! on a merged sweep folder draws the same.

use crate::charts::{
    categorical, categorical_log, category, group_colour, register_font, shorten, Drawable, Drawn,
    FAMILY,
};
use crate::html::escape;
use crate::key::{Key, Mark};
use crate::sweep_series::{
    cdfs, group_name, heatmap, mean_with_interval, metrics, numeric_axis, percentiles,
    theory_lines, Estimate, GroupData, HeatValue, Heatmap,
};
use crate::words::metric_words;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A CDF spans more than this ratio of its largest to its smallest
/// positive value: its x axis is logarithmic.
const LOG_X_RATIO: f64 = 20.0;
/// Group labels on a categorical axis are cut to this many characters.
const LABEL_CHARS_MAX: usize = 40;

fn short(label: &str) -> String {
    shorten(label, LABEL_CHARS_MAX)
}

/// How a CDF's x axis is scaled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scale {
    /// Logarithmic when the values are positive and span more than
    /// `LOG_X_RATIO`, else linear.
    #[default]
    Auto,
    Linear,
    /// Logarithmic when every value is positive (a log axis cannot show
    /// zero), else linear.
    Log,
}

/// What a sweep report may be asked to do differently.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepOptions {
    /// The CDFs' x axis.
    pub cdf_x: Scale,
    /// Two metrics to draw against each other, one point per group: (x by
    /// its mean over runs, y by its p99); from the protocol.
    pub tradeoff: Option<(String, String)>,
    /// A warning the page opens with: runs missing from the results.
    pub missing: Option<String>,
    /// What the page opens with: the scenario's description, and its
    /// lesson when it has one.
    pub description: String,
    pub lesson: Option<String>,
    /// The charts to draw (`outputs.charts`; empty: every chart).
    pub charts: Vec<String>,
}

/// One group's point on a trade-off chart.
#[derive(Clone, Debug, PartialEq)]
pub struct TradeoffPoint {
    pub group: String,
    /// The group's place in the sweep, which picks its colour.
    pub index: usize,
    /// The x metric's mean over runs, with its bootstrap 95% interval.
    pub x: Estimate,
    /// The y metric's p99 over the group's samples.
    pub y_p99: f64,
}

/// Each group's p99 of one metric against its mean of another: a
/// protocol's trade-off (what a mode pays against what it loses).
pub struct TradeoffChart<'a> {
    pub x_metric: &'a str,
    pub y_metric: &'a str,
    pub points: Vec<TradeoffPoint>,
}

impl TradeoffChart<'_> {
    /// The points of every group that measured both metrics.
    pub fn of<'a>(groups: &[GroupData], x_metric: &'a str, y_metric: &'a str) -> TradeoffChart<'a> {
        let points = groups
            .iter()
            .enumerate()
            .filter_map(|(index, g)| {
                let x = mean_with_interval(g.samples.get(x_metric)?)?;
                let y_p99 = percentiles(&g.pooled(y_metric))?.p99;
                Some(TradeoffPoint {
                    group: group_name(g),
                    index,
                    x,
                    y_p99,
                })
            })
            .collect();
        TradeoffChart {
            x_metric,
            y_metric,
            points,
        }
    }
}

impl Drawable for TradeoffChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let x_high = self
            .points
            .iter()
            .map(|p| p.x.high)
            .fold(0.0f64, f64::max)
            .max(1.0);
        let y_high = self
            .points
            .iter()
            .map(|p| p.y_p99)
            .fold(0.0f64, f64::max)
            .max(1e-9);
        let (x_words, y_words) = (metric_words(self.x_metric), metric_words(self.y_metric));
        let mut key = Key::default();
        for point in &self.points {
            key.add(point.group.clone(), group_colour(point.index), Mark::Dot);
        }
        let root = &key.split(root)?;
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("each group's p99 {y_words} against its mean {x_words}"),
                (FAMILY, 18),
            )
            .margin(12)
            .margin_right(32)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(-x_high * 0.05..x_high * 1.15, 0.0..y_high * 1.15)?;
        mesh(
            &mut chart,
            &format!("mean {x_words}, 95% interval"),
            &format!("p99 {y_words}"),
        )?;
        for point in &self.points {
            let colour = group_colour(point.index);
            let y = point.y_p99;
            chart.draw_series(std::iter::once(ErrorBar::new_horizontal(
                y,
                point.x.low,
                point.x.mean,
                point.x.high,
                colour.filled(),
                10,
            )))?;
            chart.draw_series(std::iter::once(Circle::new(
                (point.x.mean, y),
                6,
                colour.filled(),
            )))?;
        }
        Ok(())
    }
}

/// Each group's CDF of one metric, one line each.
pub struct CdfChart<'a> {
    pub metric: &'a str,
    pub lines: Vec<(String, Vec<(f64, f64)>)>,
    pub scale: Scale,
    /// Groups in which no run measured the metric (no line to draw).
    pub absent: Vec<String>,
}

impl CdfChart<'_> {
    /// Whether the x axis is logarithmic (see `Scale`).
    pub fn log_x(&self) -> bool {
        let (low, high) = self.x_range();
        match self.scale {
            Scale::Auto => low > 0.0 && high / low > LOG_X_RATIO,
            Scale::Linear => false,
            Scale::Log => low > 0.0,
        }
    }

    fn x_range(&self) -> (f64, f64) {
        let values = self
            .lines
            .iter()
            .flat_map(|(_, steps)| steps.iter().map(|s| s.0));
        let low = values.clone().fold(f64::INFINITY, f64::min);
        let high = values.fold(f64::NEG_INFINITY, f64::max);
        if low.is_finite() {
            (low, high.max(low + 1e-9))
        } else {
            (0.0, 1.0)
        }
    }
}

impl Drawable for CdfChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let (low, high) = self.x_range();
        let words = metric_words(self.metric);
        let caption = format!("{words}: the share of samples at or below each value, per group");
        // The key names every group that drew a line, with its dash; those
        // that measured nothing are named after it, not in the caption,
        // where a long list was cut at the picture's edge.
        let mut key = Key::default();
        for (i, (label, steps)) in self.lines.iter().enumerate() {
            if !steps.is_empty() {
                let mark = if i % 2 == 1 { Mark::Dashed } else { Mark::Line };
                key.add(label.clone(), group_colour(i), mark);
            }
        }
        if !self.absent.is_empty() {
            key.add(
                format!("no samples: {}", self.absent.join(", ")),
                RGBColor(150, 150, 150),
                Mark::Cross,
            );
        }
        let root = &key.split(root)?;
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(caption, (FAMILY, 18))
            .margin(12)
            .margin_right(32)
            .x_label_area_size(40)
            .y_label_area_size(60);
        let y_desc = "fraction of samples at or below";
        if self.log_x() {
            let mut chart =
                builder.build_cartesian_2d((low * 0.9..high * 1.1).log_scale(), 0.0..1.0)?;
            chart
                .configure_mesh()
                .x_desc(format!("{words}, log scale"))
                .y_desc(y_desc)
                .label_style((FAMILY, 12))
                .draw()?;
            cdf_lines(chart, &self.lines)
        } else {
            let mut chart = builder.build_cartesian_2d(low.min(0.0)..high * 1.05, 0.0..1.0)?;
            chart
                .configure_mesh()
                .x_desc(words.as_str())
                .y_desc(y_desc)
                .label_style((FAMILY, 12))
                .draw()?;
            cdf_lines(chart, &self.lines)
        }
    }
}

/// Draws each group's CDF as a staircase on `chart`, with its legend.
fn cdf_lines<'a, DB: DrawingBackend + 'a, X: Ranged<ValueType = f64>>(
    mut chart: ChartContext<'a, DB, Cartesian2d<X, plotters::coord::types::RangedCoordf64>>,
    lines: &[(String, Vec<(f64, f64)>)],
) -> Drawn<DB> {
    // Each line is a staircase: up at each value to its fraction.
    let stairs = |steps: &[(f64, f64)]| {
        let mut points = Vec::with_capacity(steps.len() * 2);
        let mut previous = 0.0;
        for &(x, fraction) in steps {
            points.push((x, previous));
            points.push((x, fraction));
            previous = fraction;
        }
        points
    };
    for (i, (_, steps)) in lines.iter().enumerate() {
        if steps.is_empty() {
            continue; // The group measured nothing; its colour stays its own.
        }
        let colour = group_colour(i);
        let points = stairs(steps);
        // Every other group dashed, so lines that lie on each other stay
        // apart even to a reader who cannot tell the colours apart.
        if i % 2 == 1 {
            chart.draw_series(DashedLineSeries::new(points, 7, 4, colour.stroke_width(2)))?;
        } else {
            chart.draw_series(LineSeries::new(points, colour.stroke_width(2)))?;
        }
    }
    Ok(())
}

/// Where a metric chart places its groups across.
#[derive(Clone, Debug, PartialEq)]
pub enum Across {
    /// At the value of the sweep's one numeric axis (per group), on a log
    /// axis when the values span more than `LOG_X_RATIO`.
    Values { axis: String, values: Vec<f64> },
    /// One category per group, labelled.
    Categories(Vec<String>),
}

impl Across {
    pub fn of(groups: &[GroupData]) -> Across {
        match numeric_axis(groups) {
            Some((axis, values)) => Across::Values { axis, values },
            None => Across::Categories(groups.iter().map(group_name).collect()),
        }
    }

    fn x(&self, group: usize) -> f64 {
        match self {
            Across::Values { values, .. } => values[group],
            Across::Categories(_) => group as f64,
        }
    }
}

/// One group's mean of a metric with its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanBar {
    pub group: usize,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

/// Each group's mean of one metric with its 95% interval, against the
/// swept value where there is one, with what theory predicts beside it.
pub struct MeanChart<'a> {
    pub metric: &'a str,
    pub across: Across,
    pub bars: Vec<MeanBar>,
    /// Theory lines: a label and (group, predicted value) points.
    pub theory: Vec<(String, Vec<(usize, f64)>)>,
}

impl MeanChart<'_> {
    fn y_values(&self) -> impl Iterator<Item = f64> + '_ {
        self.bars
            .iter()
            .flat_map(|b| [b.low, b.high])
            .chain(self.theory.iter().flat_map(|(_, p)| p.iter().map(|p| p.1)))
    }

    /// Whether the x axis is logarithmic: swept values, all positive,
    /// spanning more than `LOG_X_RATIO`.
    pub fn log_x(&self) -> bool {
        match &self.across {
            Across::Values { values, .. } => spans_decades(values.iter().copied()),
            Across::Categories(_) => false,
        }
    }

    /// Whether the y axis is logarithmic: with a log x axis, when the
    /// values are all positive and span more than `LOG_X_RATIO` (a power
    /// law is then a straight line).
    pub fn log_y(&self) -> bool {
        match self.across {
            Across::Values { .. } => self.log_x() && spans_decades(self.y_values()),
            // Groups whose means lie decades apart (Figure 16's 150-150 ms
            // in minutes beside the others in milliseconds): on a linear
            // axis all but the largest would sit on zero.
            Across::Categories(_) => spans_decades(self.y_values()),
        }
    }
}

/// All positive, and the largest over the smallest above `LOG_X_RATIO`.
fn spans_decades(values: impl Iterator<Item = f64>) -> bool {
    let (mut low, mut high) = (f64::INFINITY, 0.0f64);
    for v in values {
        if v <= 0.0 {
            return false;
        }
        low = low.min(v);
        high = high.max(v);
    }
    low.is_finite() && high / low > LOG_X_RATIO
}

impl Drawable for MeanChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let y_high = self.y_values().fold(0.0f64, f64::max).max(1e-9);
        let y_low = self.y_values().fold(f64::INFINITY, f64::min);
        let words = metric_words(self.metric);
        let caption = format!("mean {words} per group, with bootstrap 95% intervals");
        let mut key = Key::default();
        key.add(
            "measured mean, 95% interval (the group's colour)",
            RGBColor(60, 60, 60),
            Mark::Dot,
        );
        for (i, (label, _)) in self.theory.iter().enumerate() {
            key.add(label.clone(), theory_colour(i), Mark::Dashed);
        }
        let categories = match &self.across {
            Across::Categories(labels) => key.categories(labels, root.dim_in_pixel().0),
            Across::Values { .. } => Vec::new(),
        };
        let root = &key.split(root)?;
        let metric = words.as_str();
        match &self.across {
            Across::Categories(_) if self.log_y() => {
                let range = (y_low / 1.5, y_high * 1.5);
                let chart = categorical_log(root, &caption, &categories, range, metric)?;
                self.series(chart)
            }
            Across::Categories(_) => {
                let labels = &categories;
                let chart = categorical(root, &caption, labels, y_high * 1.1, metric)?;
                self.series(chart)
            }
            Across::Values { axis, values } => {
                let x_low = values.iter().copied().fold(f64::INFINITY, f64::min);
                let x_high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let name = axis.rsplit('.').next().unwrap_or(axis);
                let mut builder = ChartBuilder::on(root);
                builder
                    .caption(caption, (FAMILY, 18))
                    .margin(12)
                    .margin_right(32)
                    .x_label_area_size(50)
                    .y_label_area_size(70);
                let span = (x_high - x_low).max(1e-9);
                match (self.log_x(), self.log_y()) {
                    (true, true) => {
                        let mut chart = builder.build_cartesian_2d(
                            (x_low / 1.3..x_high * 1.3).log_scale(),
                            (y_low / 1.5..y_high * 1.5).log_scale(),
                        )?;
                        mesh(
                            &mut chart,
                            &format!("{name} (log scale)"),
                            &format!("{metric} (log scale)"),
                        )?;
                        self.series(chart)
                    }
                    (true, false) => {
                        let mut chart = builder.build_cartesian_2d(
                            (x_low / 1.3..x_high * 1.3).log_scale(),
                            0.0..y_high * 1.1,
                        )?;
                        mesh(&mut chart, &format!("{name} (log scale)"), metric)?;
                        self.series(chart)
                    }
                    _ => {
                        let mut chart = builder.build_cartesian_2d(
                            x_low - span * 0.05..x_high + span * 0.05,
                            0.0..y_high * 1.1,
                        )?;
                        mesh(&mut chart, name, self.metric)?;
                        self.series(chart)
                    }
                }
            }
        }
    }
}

/// Draws a metric chart's axes and grid.
fn mesh<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
) -> Drawn<DB>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FAMILY, 12))
        .draw()
}

impl MeanChart<'_> {
    /// The means with their intervals, then each theory line, then the legend.
    fn series<
        'a,
        DB: DrawingBackend + 'a,
        X: Ranged<ValueType = f64>,
        Y: Ranged<ValueType = f64>,
    >(
        &self,
        mut chart: ChartContext<'a, DB, Cartesian2d<X, Y>>,
    ) -> Drawn<DB> {
        let x = |group: usize| self.across.x(group);
        chart.draw_series(self.bars.iter().map(|b| {
            let colour = group_colour(b.group);
            ErrorBar::new_vertical(x(b.group), b.low, b.mean, b.high, colour.filled(), 12)
        }))?;
        chart.draw_series(
            self.bars
                .iter()
                .map(|b| Circle::new((x(b.group), b.mean), 4, group_colour(b.group).filled())),
        )?;
        for (i, (_, points)) in self.theory.iter().enumerate() {
            let colour = theory_colour(i);
            let line: Vec<(f64, f64)> = points.iter().map(|&(g, v)| (x(g), v)).collect();
            chart.draw_series(DashedLineSeries::new(
                line.clone(),
                8,
                4,
                colour.stroke_width(2),
            ))?;
            chart.draw_series(
                line.iter()
                    .map(|&p| Cross::new(p, 5, colour.stroke_width(2))),
            )?;
        }
        Ok(())
    }
}

/// Theory lines' colours: greys and black, apart from every group's.
fn theory_colour(i: usize) -> RGBColor {
    [
        RGBColor(0, 0, 0),
        RGBColor(110, 110, 110),
        RGBColor(170, 170, 170),
    ][i % 3]
}

/// The colour of runs that failed as their group expects.
const EXPECTED: RGBColor = RGBColor(120, 144, 156);

pub struct VerdictChart<'a> {
    pub groups: &'a [GroupData],
}

impl Drawable for VerdictChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let most = self
            .groups
            .iter()
            .map(GroupData::runs)
            .max()
            .unwrap_or(1)
            .max(1) as f64;
        let labels: Vec<String> = self.groups.iter().map(group_name).collect();
        // A group that expects a violation and shows it is the lesson
        // working: "expected", blue-grey, never a red failure.
        let layers: [crate::charts::Layer<GroupData>; 4] = [
            (
                "pass",
                crate::charts::outcome_colour(sim_core::history::Outcome::Ok),
                |g| g.passed,
            ),
            ("expected violation", EXPECTED, |g| g.failed_as_expected),
            (
                "unexpected failure",
                crate::charts::outcome_colour(sim_core::history::Outcome::Fail),
                |g| g.failed - g.failed_as_expected.min(g.failed),
            ),
            (
                "unknown (cut short or out of budget)",
                crate::charts::outcome_colour(sim_core::history::Outcome::Info),
                |g| g.unknown,
            ),
        ];
        let mut key = Key::default();
        for (name, colour, _) in &layers {
            key.add(*name, *colour, Mark::Box);
        }
        let labels = key.categories(&labels, root.dim_in_pixel().0);
        let root = &key.split(root)?;
        let mut chart = categorical(
            root,
            "runs per group by verdict",
            &labels,
            most * 1.1,
            "runs",
        )?;
        for (layer, (_, colour, count)) in layers.iter().enumerate() {
            let colour = *colour;
            let bars = self.groups.iter().enumerate().map(|(i, g)| {
                let below: u64 = layers[..layer].iter().map(|(_, _, f)| f(g)).sum();
                let x = i as f64;
                Rectangle::new(
                    [
                        (x - 0.3, below as f64),
                        (x + 0.3, (below + count(g)) as f64),
                    ],
                    colour.filled(),
                )
            });
            chart.draw_series(bars)?;
        }
        Ok(())
    }
}

/// A two-axis sweep's pass rates, or one metric's means, one cell per pair
/// of values.
pub struct HeatmapChart<'a> {
    pub map: &'a Heatmap,
}

impl Drawable for HeatmapChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let map = self.map;
        let (nx, ny) = (map.x_values.len().max(1), map.y_values.len().max(1));
        let xs: Vec<String> = map.x_values.iter().map(|v| short(v)).collect();
        let ys: Vec<String> = map.y_values.iter().map(|v| short(v)).collect();
        let name = |path: &str| path.rsplit('.').next().unwrap_or(path).to_string();
        let caption = match &map.value {
            HeatValue::PassRate => "pass rate per pair of values".to_string(),
            HeatValue::Mean(metric) => format!("mean {} per pair of values", metric_words(metric)),
        };
        // A metric's cells run from its smallest mean (blue) to its
        // largest (orange); pass rates from none (red) to all (green).
        let present = map.cells.iter().flatten().flatten().copied();
        let low = present.clone().fold(f64::INFINITY, f64::min);
        let high = present.fold(f64::NEG_INFINITY, f64::max);
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FAMILY, 18))
            .margin(12)
            .margin_right(32)
            .x_label_area_size(50)
            .y_label_area_size(120)
            .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nx)
            .y_labels(ny)
            .x_label_formatter(&|v| category(&xs, *v))
            .y_label_formatter(&|v| category(&ys, *v))
            .x_desc(name(&map.axes.0))
            .y_desc(name(&map.axes.1))
            .label_style((FAMILY, 12))
            .draw()?;
        for (yi, row) in map.cells.iter().enumerate() {
            for (xi, cell) in row.iter().enumerate() {
                let (x, y) = (xi as f64, yi as f64);
                let (colour, text) = match (cell, &map.value) {
                    (Some(rate), HeatValue::PassRate) => (
                        RGBColor(
                            (214.0 - 170.0 * rate) as u8,
                            (39.0 + 121.0 * rate) as u8,
                            (40.0 + 4.0 * rate) as u8,
                        ),
                        format!("{:.0}%", rate * 100.0),
                    ),
                    (Some(mean), HeatValue::Mean(_)) => {
                        let f = if high > low {
                            (mean - low) / (high - low)
                        } else {
                            0.5
                        };
                        (
                            RGBColor(
                                (31.0 + 224.0 * f) as u8,
                                (119.0 + 8.0 * f) as u8,
                                (180.0 - 166.0 * f) as u8,
                            ),
                            format!("{mean:.3}"),
                        )
                    }
                    (None, HeatValue::PassRate) => (RGBColor(220, 220, 220), "no runs".to_string()),
                    (None, HeatValue::Mean(_)) => {
                        (RGBColor(220, 220, 220), "no samples".to_string())
                    }
                };
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.48, y - 0.48), (x + 0.48, y + 0.48)],
                    colour.filled(),
                )))?;
                chart.draw_series(std::iter::once(Text::new(
                    text,
                    (x - 0.1, y),
                    (FAMILY, 14).into_font().color(&WHITE),
                )))?;
            }
        }
        Ok(())
    }
}

/// Writes `chart` into `dir` as NAME.svg and NAME.png, and keeps its SVG
/// for the page.
fn save(
    charts: &[String],
    dir: &Path,
    name: &str,
    chart: &impl Drawable,
    figures: &mut Vec<(String, String)>,
) -> Result<(), String> {
    if !scenarios::schema::chart_listed(charts, name) {
        return Ok(()); // The scenario's `outputs.charts` leaves it out.
    }
    let svg = chart.svg();
    chart.png(&dir.join(format!("{name}.png")))?;
    std::fs::write(dir.join(format!("{name}.svg")), &svg).map_err(|e| e.to_string())?;
    figures.push((name.to_string(), svg));
    Ok(())
}

/// The consistency pictures of the groups with judged reads (see
/// `consistency.rs`), and their tables' HTML.
fn consistency_figures(
    dir: &Path,
    groups: &[(String, &crate::consistency::GroupConsistency)],
    figures: &mut Vec<(String, String)>,
    says: &mut std::collections::BTreeMap<String, String>,
    charts: &[String],
) -> Result<String, String> {
    use crate::consistency::{tables, PacelcChart, SidesChart, VisibilityChart};
    if groups.iter().all(|(_, c)| c.reads == 0) {
        return Ok(String::new());
    }
    let visibility = VisibilityChart::of(groups);
    if visibility
        .lines
        .iter()
        .any(|(_, points)| !points.is_empty())
    {
        save(charts, dir, "t-visibility", &visibility, figures)?;
        let at_zero: Vec<(String, f64)> = groups
            .iter()
            .filter_map(|(label, c)| Some((label.clone(), c.at_zero()?.0)))
            .collect();
        let from: Vec<(String, &str)> = groups
            .iter()
            .filter(|(_, c)| c.reads > 0)
            .map(|(label, c)| (label.clone(), c.visibility_from()))
            .collect();
        let sentence = crate::says::visibility(&at_zero) + &crate::says::visibility_from(&from);
        says.insert("t-visibility".into(), sentence);
    }
    let pacelc = PacelcChart {
        points: groups
            .iter()
            .map(|(label, c)| {
                (
                    label.clone(),
                    c.stale_share(),
                    c.read_ms().map(|l| l.1),
                    c.write_ms().map(|l| l.1),
                )
            })
            .collect(),
    };
    save(charts, dir, "latency-vs-staleness", &pacelc, figures)?;
    let stale: Vec<(String, f64, Option<f64>)> = pacelc
        .points
        .iter()
        .filter_map(|(label, stale, read, _)| Some((label.clone(), (*stale)?, *read)))
        .collect();
    says.insert(
        "latency-vs-staleness".into(),
        crate::says::staleness(&stale),
    );
    if groups.iter().any(|(_, c)| !c.sides.is_empty()) {
        save(
            charts,
            dir,
            "sides-availability",
            &SidesChart::of(groups, false),
            figures,
        )?;
        let sides: Vec<(String, f64, u64)> = groups
            .iter()
            .flat_map(|(label, c)| {
                c.sides.iter().filter_map(move |s| {
                    Some((
                        format!("side {} of {label}", s.side.replace('+', " ")),
                        s.availability()?,
                        s.total(),
                    ))
                })
            })
            .collect();
        says.insert(
            "sides-availability".into(),
            crate::says::sweep_sides(&sides),
        );
        save(
            charts,
            dir,
            "sides-consistency",
            &SidesChart::of(groups, true),
            figures,
        )?;
    }
    Ok(tables(groups))
}

/// Writes the sweep's charts (SVG and PNG) and `report.html` into `dir`;
/// returns the page's path. `title` names the sweep.
pub fn write(
    dir: &Path,
    title: &str,
    groups: &[GroupData],
    options: &SweepOptions,
) -> Result<PathBuf, crate::error::ReportError> {
    write_page(dir, title, groups, options).map_err(|message| crate::error::ReportError::Write {
        dir: dir.to_path_buf(),
        message,
    })
}

fn write_page(
    dir: &Path,
    title: &str,
    groups: &[GroupData],
    options: &SweepOptions,
) -> Result<PathBuf, String> {
    register_font();
    let charts = options.charts.as_slice();
    let mut figures: Vec<(String, String)> = Vec::new();
    // What to notice in each chart, from its data.
    let mut says: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    save(
        charts,
        dir,
        "verdicts",
        &VerdictChart { groups },
        &mut figures,
    )?;
    says.insert("verdicts".into(), crate::says::verdicts(groups));
    if let Some(map) = heatmap(groups, &HeatValue::PassRate) {
        save(
            charts,
            dir,
            "pass-rate",
            &HeatmapChart { map: &map },
            &mut figures,
        )?;
    }
    let names = metrics(groups);
    if let Some((x, y)) = &options.tradeoff {
        let chart = TradeoffChart::of(groups, x, y);
        if !chart.points.is_empty() {
            save(
                charts,
                dir,
                &format!("tradeoff-{x}-{y}"),
                &chart,
                &mut figures,
            )?;
            let points: Vec<(String, f64, f64)> = chart
                .points
                .iter()
                .map(|p| (p.group.clone(), p.x.mean, p.y_p99))
                .collect();
            says.insert(
                format!("tradeoff-{x}-{y}"),
                crate::says::tradeoff(&metric_words(x), &metric_words(y), &points),
            );
        }
    }
    // Every group, those without judged reads as empty, so that each keeps
    // its place, and so its colour, in the consistency charts too.
    let none = crate::consistency::GroupConsistency::default();
    let with_reads: Vec<(String, &crate::consistency::GroupConsistency)> = groups
        .iter()
        .map(|g| {
            let c = g.consistency.as_ref().filter(|c| c.reads > 0);
            (group_name(g), c.unwrap_or(&none))
        })
        .collect();
    let consistency_tables =
        consistency_figures(dir, &with_reads, &mut figures, &mut says, charts)?;
    let mut tables = String::new();
    for metric in &names {
        // One bootstrap per group and metric, for the chart and the table.
        let estimates: Vec<Option<Estimate>> = groups
            .iter()
            .map(|g| {
                g.samples
                    .get(metric)
                    .and_then(|runs| mean_with_interval(runs))
            })
            .collect();
        let cdf = CdfChart {
            metric,
            lines: cdfs(groups, metric),
            scale: options.cdf_x,
            absent: groups
                .iter()
                .filter(|g| g.pooled(metric).is_empty())
                .map(group_name)
                .collect(),
        };
        // A metric with one value in every sample of every group shows
        // nothing a chart could (keys homed per server in a partition
        // lesson): its table row stays, its charts go unless listed.
        let (low, high) = groups
            .iter()
            .flat_map(|g| g.pooled(metric))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(v), h.max(v))
            });
        let listed = |name: &str| charts.iter().any(|c| c == name);
        let constant = low == high;
        let drawn = |name: String| (!constant || listed(&name)).then_some(name);
        if let Some(name) = drawn(format!("cdf-{metric}")) {
            save(charts, dir, &name, &cdf, &mut figures)?;
        }
        says.insert(
            format!("cdf-{metric}"),
            crate::says::cdf(&metric_words(metric), &cdf.lines),
        );
        let bars = estimates
            .iter()
            .enumerate()
            .filter_map(|(group, e)| {
                e.map(|e| MeanBar {
                    group,
                    mean: e.mean,
                    low: e.low,
                    high: e.high,
                })
            })
            .collect();
        let mean = MeanChart {
            metric,
            across: Across::of(groups),
            bars,
            theory: theory_lines(groups, metric),
        };
        if let Some(name) = drawn(format!("mean-{metric}")) {
            save(charts, dir, &name, &mean, &mut figures)?;
        }
        let means: Vec<(String, f64)> = groups
            .iter()
            .zip(&estimates)
            .filter_map(|(g, e)| Some((group_name(g), e.as_ref()?.mean)))
            .collect();
        says.insert(
            format!("mean-{metric}"),
            crate::says::means(&metric_words(metric), &means),
        );
        let value = HeatValue::Mean(metric.clone());
        if let (Some(map), Some(name)) =
            (heatmap(groups, &value), drawn(format!("heatmap-{metric}")))
        {
            save(
                charts,
                dir,
                &name,
                &HeatmapChart { map: &map },
                &mut figures,
            )?;
        }
        let _ = writeln!(
            tables,
            "<h3>{}</h3>\n<table>\n<tr><th>group</th><th>runs</th><th>samples</th><th>min</th><th>median</th><th>p90</th><th>p99</th><th>max</th><th>mean (95% interval)</th></tr>",
            escape(metric)
        );
        for (g, estimate) in groups.iter().zip(&estimates) {
            let runs = g.samples.get(metric).map_or(0, Vec::len);
            let row = match (percentiles(&g.pooled(metric)), estimate) {
                (Some(p), Some(e)) => format!(
                    "<td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3} ({:.3} to {:.3})</td>",
                    p.samples, p.min, p.p50, p.p90, p.p99, p.max, e.mean, e.low, e.high
                ),
                _ => "<td>0</td><td colspan=\"6\">no samples</td>".to_string(),
            };
            let _ = writeln!(
                tables,
                "<tr><td>{}</td><td>{runs}</td>{row}</tr>",
                escape(&g.label)
            );
        }
        tables.push_str("</table>\n");
    }
    let mut out = String::new();
    out.push_str(&crate::html::head(title));
    out.push_str(&crate::html::lesson(
        &options.description,
        options.lesson.as_deref(),
    ));
    if let Some(missing) = &options.missing {
        let _ = writeln!(
            out,
            "<p style=\"border:2px solid #b00;padding:0.5em\"><strong>Incomplete:</strong> {}</p>",
            escape(missing)
        );
    }
    out.push_str("<h2>Groups</h2>\n<p>Each group, what it expects of its runs, and what they did. Expected: runs that failed only checks their group expects to fail (the lesson working); unexpected: any other failure, or a panic; unknown: runs cut short or out of budget.</p>\n<table>\n<tr><th>group</th><th>expects</th><th>outcome</th><th>runs</th><th>pass</th><th>expected</th><th>unexpected</th><th>unknown</th></tr>\n");
    for g in groups {
        let unexpected = g.failed - g.failed_as_expected.min(g.failed);
        let outcome = match g.met() {
            Some(true) => "as expected",
            Some(false) => "NOT as expected",
            None => "undecided",
        };
        let _ = writeln!(
            out,
            "<tr{}><td>{}</td><td>{}</td><td>{outcome}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if g.met() == Some(false) { " class=\"fail\"" } else { "" },
            escape(&group_name(g)),
            escape(&g.expectation()),
            g.runs(),
            g.passed,
            g.failed_as_expected,
            unexpected,
            g.unknown
        );
    }
    out.push_str("</table>\n<h2>Charts</h2>\n");
    for (name, svg) in &figures {
        out.push_str(&crate::html::figure(
            name,
            svg,
            says.get(name).map(String::as_str),
        ));
    }
    out.push_str(&consistency_tables);
    if !names.is_empty() {
        out.push_str("<h2>Percentiles</h2>\n<p>Intervals: the mean of the runs' means, percentile bootstrap over runs (2,000 resamples, fixed seed).</p>\n");
        out.push_str(&tables);
    }
    out.push_str("<h2>Files</h2>\n<ul>\n<li><a href=\"results.jsonl\">results.jsonl</a></li>\n<li><a href=\"summary.json\">summary.json</a></li>\n<li><a href=\"distribution.csv\">distribution.csv</a></li>\n</ul>\n</body>\n</html>\n");
    let path = dir.join("report.html");
    std::fs::write(&path, out).map_err(|e| e.to_string())?;
    Ok(path)
}

#[cfg(test)]
mod mean_chart_tests {
    use super::{Across, MeanBar, MeanChart};
    use plotters::prelude::IntoDrawingArea;

    fn chart(means: &[f64]) -> MeanChart<'static> {
        MeanChart {
            metric: "leaderless_ms",
            across: Across::Categories(means.iter().map(|m| format!("g{m}")).collect()),
            bars: (means.iter().enumerate())
                .map(|(group, &mean)| MeanBar {
                    group,
                    mean,
                    low: mean * 0.9,
                    high: mean * 1.1,
                })
                .collect(),
            theory: Vec::new(),
        }
    }

    /// Figure 16's means: 150-150 ms in minutes beside the others in
    /// milliseconds. On a linear axis every other group sat on zero; the
    /// axis turns logarithmic when the means span decades, and stays
    /// linear when they do not or when one is zero.
    #[test]
    fn group_means_that_span_decades_get_a_log_axis() {
        assert!(chart(&[121_298.0, 754.0, 22.0]).log_y());
        assert!(!chart(&[138.0, 167.0, 62.0]).log_y());
        assert!(
            !chart(&[0.0, 0.5, 1.0]).log_y(),
            "a zero cannot go on a log axis"
        );
        assert!(
            !chart(&[121_298.0, 22.0]).log_x(),
            "categories have no log x"
        );
        // It draws either way.
        crate::charts::register_font();
        for means in [&[121_298.0, 754.0, 22.0][..], &[138.0, 167.0][..]] {
            let mut svg = String::new();
            {
                let root = plotters::prelude::SVGBackend::with_string(&mut svg, (800, 400))
                    .into_drawing_area();
                crate::charts::Drawable::draw(&chart(means), &root).unwrap();
            }
            assert!(svg.contains("leader"), "captioned");
        }
    }
}
