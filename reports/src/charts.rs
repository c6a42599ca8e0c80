//! The run charts, drawn with plotters from the data in `series.rs` and
//! `bands.rs`: `latency` (every operation, log scale), `latency-quantiles`
//! (p50, p95, p99 and max per window) and `availability` (operations per
//! window by outcome, and the fraction that succeeded), each with the
//! fault intervals shaded and labelled. It also holds what the run, sweep
//! and side charts share: the palette, categorical axes and stacked bars by
//! outcome.
//!
//! Every chart is drawn twice from the same code: as SVG (text, byte for
//! byte the same for the same input) and as PNG (through plotters' bitmap
//! backend, with the font shipped in `assets/`, so that no system font is
//! needed and every machine draws the same picture).

use crate::bands::{BandKind, FaultBand};
use crate::key::{Key, Mark};
use crate::series::{LatencyPoints, Window};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ColorType, ImageEncoder};
use plotters::coord::Shift;
use plotters::prelude::*;
use sim_core::history::{Function, Outcome};
use std::path::Path;

/// Every chart's size in pixels.
pub const SIZE: (u32, u32) = (1200, 520);

/// The font every chart uses, shipped with the project (DejaVu Sans; its
/// license is beside it).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
pub(crate) use crate::style::FAMILY;

/// Registers the shipped font under the family the charts name. Drawing
/// text needs it: plotters measures and draws text with it alone.
pub(crate) fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_err() {
            panic!("the shipped font does not parse");
        }
    });
}

/// `text` cut to `chars_max` characters, the last an ellipsis when cut.
pub(crate) fn shorten(text: &str, chars_max: usize) -> String {
    if text.chars().count() <= chars_max {
        text.to_string()
    } else {
        let head: String = text.chars().take(chars_max - 1).collect();
        format!("{head}…")
    }
}

pub(crate) use crate::style::Drawn;

/// A picture drawn the same way on any backend.
pub trait Drawable {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB>;

    /// The picture's size in pixels.
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    /// As SVG text: byte for byte the same for the same input.
    fn svg(&self) -> String {
        register_font();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size()).into_drawing_area();
            root.fill(&WHITE).expect("an SVG string takes any drawing");
            self.draw(&root).expect("an SVG string takes any drawing");
            root.present().expect("an SVG string is always written");
        }
        svg
    }

    /// As a PNG file at `path`, drawn with the shipped font. Encoded with
    /// zlib's default level and adaptive filters rather than plotters'
    /// fastest: a quarter of the bytes for the latency chart of a large
    /// run, for about 0.25 s more per report (BENCHMARKS.md).
    fn png(&self, path: &Path) -> Result<(), String> {
        register_font();
        let (width, height) = self.size();
        let mut pixels = vec![0u8; width as usize * height as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            self.draw(&root).map_err(|e| e.to_string())?;
            root.present().map_err(|e| e.to_string())?;
        }
        let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let encoder = PngEncoder::new_with_quality(
            std::io::BufWriter::new(file),
            CompressionType::Default,
            FilterType::Adaptive,
        );
        encoder
            .write_image(&pixels, width, height, ColorType::Rgb8)
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// A chart's input.
pub struct Chart<'a> {
    pub data: ChartData<'a>,
    /// The faults, shaded on every chart.
    pub bands: &'a [FaultBand],
    /// The run's end: the time axis runs from 0 to it.
    pub end_ms: f64,
}

/// What a run chart draws.
pub enum ChartData<'a> {
    Latency(&'a LatencyPoints),
    Quantiles(&'a [Window]),
    Availability(&'a [Window]),
}

impl Chart<'_> {
    /// The chart's file name, without extension.
    pub fn name(&self) -> &'static str {
        match self.data {
            ChartData::Latency(_) => "latency",
            ChartData::Quantiles(_) => "latency-quantiles",
            ChartData::Availability(_) => "availability",
        }
    }
}

impl Drawable for Chart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let (bands, end_ms) = (self.bands, self.end_ms);
        match self.data {
            ChartData::Latency(points) => latency(root, points, bands, end_ms),
            ChartData::Quantiles(windows) => quantiles(root, windows, bands, end_ms),
            ChartData::Availability(windows) => availability(root, windows, bands, end_ms),
        }
    }
}

pub(crate) fn outcome_colour(outcome: Outcome) -> RGBColor {
    match outcome {
        Outcome::Ok => RGBColor(31, 119, 180),
        Outcome::Fail => RGBColor(214, 39, 40),
        Outcome::Info => RGBColor(255, 127, 14),
    }
}

fn band_colour(kind: BandKind) -> RGBColor {
    match kind {
        BandKind::Partition => RGBColor(148, 103, 189),
        BandKind::Crash => RGBColor(214, 39, 40),
        BandKind::Pause => RGBColor(140, 86, 75),
        BandKind::Clog => RGBColor(227, 119, 194),
        BandKind::Loss => RGBColor(127, 127, 127),
        BandKind::ClockJump => RGBColor(23, 190, 207),
    }
}

/// Shades each band over `y` and writes its label at the top, one row per
/// overlapping band so that labels do not cover each other.
pub(crate) fn draw_bands<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    bands: &[FaultBand],
    (y_low, y_high): (f64, f64),
) -> Drawn<DB> {
    for (row, band) in bands.iter().enumerate() {
        let colour = band_colour(band.kind);
        // An instant is drawn one pixel wide.
        let width = (band.end_ms - band.start_ms).max(0.0);
        let end = band.start_ms + width;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(band.start_ms, y_low), (end, y_high)],
            colour.mix(if width == 0.0 { 0.8 } else { 0.15 }).filled(),
        )))?;
        let style = TextStyle::from((FAMILY, 12).into_font()).color(&colour);
        let label_row = (row % 4) as i32;
        chart.draw_series(std::iter::once(
            EmptyElement::at((band.start_ms, y_high))
                + Text::new(band.label.clone(), (3, 3 + 14 * label_row), style),
        ))?;
    }
    Ok(())
}

/// A log axis around `values`' positive ones: half the least to twice
/// the most (0.01 to 1 when there are none).
fn log_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values
        .filter(|v| *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(low, high), v| {
            (low.min(v), high.max(v))
        });
    if low.is_finite() {
        (low / 2.0, high * 2.0)
    } else {
        (0.01, 1.0)
    }
}

type LatencyAxes = Cartesian2d<
    plotters::coord::types::RangedCoordf64,
    plotters::coord::combinators::LogCoord<f64>,
>;

/// Latency (log scale) against time, with the fault bands drawn.
fn latency_over_time<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    caption: &str,
    end_ms: f64,
    (low, high): (f64, f64),
    bands: &[FaultBand],
) -> Result<ChartContext<'a, DB, LatencyAxes>, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FAMILY, 18))
        .margin(12)
        .margin_right(32)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..end_ms.max(1.0), (low..high).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("time (ms)")
        .y_desc("latency (ms)")
        .label_style((FAMILY, 12))
        .draw()?;
    draw_bands(&mut chart, bands, (low, high))?;
    Ok(chart)
}

fn latency<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &LatencyPoints,
    bands: &[FaultBand],
    end_ms: f64,
) -> Drawn<DB> {
    let (low, high) = log_range(data.points.iter().map(|p| p.latency_ms));
    let caption = if data.thinned {
        format!(
            "latency: {} of {} operations (thinned: failures and those above p99 first)",
            data.points.len(),
            data.operations
        )
    } else {
        format!("latency: {} operations", data.operations)
    };
    let grey = RGBColor(90, 90, 90);
    let mut key = Key::default();
    key.add("ok", outcome_colour(Outcome::Ok), Mark::Dot);
    key.add(
        "fail (refused, or a server's no)",
        outcome_colour(Outcome::Fail),
        Mark::Dot,
    );
    key.add(
        "unknown (drawn at the run's end)",
        outcome_colour(Outcome::Info),
        Mark::Dot,
    );
    key.add("read", grey, Mark::Dot);
    key.add("write", grey, Mark::Triangle);
    key.add("other (cas, append, transfer, order)", grey, Mark::Cross);
    let root = &key.split(root)?;
    let mut chart = latency_over_time(root, &caption, end_ms, (low, high), bands)?;
    for outcome in [Outcome::Ok, Outcome::Fail, Outcome::Info] {
        let colour = outcome_colour(outcome);
        let of = |p: &&crate::series::LatencyPoint| p.outcome == outcome;
        let at = |p: &crate::series::LatencyPoint| (p.at_ms, p.latency_ms.max(low));
        let reads = data
            .points
            .iter()
            .filter(of)
            .filter(|p| p.f == Function::Read);
        chart.draw_series(reads.map(|p| Circle::new(at(p), 2, colour.filled())))?;
        let writes = data
            .points
            .iter()
            .filter(of)
            .filter(|p| p.f == Function::Write);
        chart.draw_series(writes.map(|p| TriangleMarker::new(at(p), 3, colour.filled())))?;
        let others = data
            .points
            .iter()
            .filter(of)
            .filter(|p| !matches!(p.f, Function::Read | Function::Write));
        chart.draw_series(others.map(|p| Cross::new(at(p), 3, colour)))?;
    }
    Ok(())
}

/// One line of the quantiles chart: its name, colour and value.
type QuantileLine = (&'static str, RGBColor, fn(&crate::series::Quantiles) -> f64);

fn quantiles<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    windows: &[Window],
    bands: &[FaultBand],
    end_ms: f64,
) -> Drawn<DB> {
    let (low, high) = log_range(
        windows
            .iter()
            .filter_map(|w| w.quantiles)
            .flat_map(|q| [q.p50, q.max]),
    );
    let series: [QuantileLine; 4] = [
        ("p50", RGBColor(0, 114, 178), |q| q.p50),
        ("p95", RGBColor(0, 158, 115), |q| q.p95),
        ("p99", RGBColor(230, 159, 0), |q| q.p99),
        ("max", RGBColor(213, 94, 0), |q| q.max),
    ];
    let mut key = Key::default();
    for (name, colour, _) in &series {
        key.add(*name, *colour, Mark::Line);
    }
    let root = &key.split(root)?;
    let mut chart = latency_over_time(
        root,
        "latency quantiles of the operations begun in each window",
        end_ms,
        (low, high),
        bands,
    )?;
    for (_, colour, pick) in series {
        let runs = crate::series::runs(windows, |w| w.quantiles.map(|q| pick(&q).max(low)));
        for run in &runs {
            chart.draw_series(LineSeries::new(run.iter().copied(), colour.stroke_width(2)))?;
        }
    }
    Ok(())
}

fn availability<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    windows: &[Window],
    bands: &[FaultBand],
    end_ms: f64,
) -> Drawn<DB> {
    let stack: [Layer<crate::series::Window>; 4] = [
        ("ok", outcome_colour(Outcome::Ok), |w| w.counts.ok),
        ("answered no (served)", DECLINED, |w| w.counts.declined),
        ("gave up (refused)", outcome_colour(Outcome::Fail), |w| {
            w.counts.gave_up
        }),
        ("unknown (timed out)", outcome_colour(Outcome::Info), |w| {
            w.counts.info
        }),
    ];
    let mut key = Key::default();
    for (name, colour, _) in &stack {
        key.add(*name, *colour, Mark::Box);
    }
    key.add("share served", outcome_colour(Outcome::Ok), Mark::Line);
    let root = &key.split(root)?;
    let (upper, lower) = root.split_vertically(root.dim_in_pixel().1 * 3 / 5);
    let most = windows
        .iter()
        .map(|w| w.counts.begun())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let width = windows.first().map_or(1.0, |w| w.counts.width_ms);
    let mut counts = ChartBuilder::on(&upper)
        .caption(
            format!("requests begun per {width} ms window, by how they ended"),
            (FAMILY, 18),
        )
        .margin(12)
        .margin_right(32)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..end_ms.max(1.0), 0.0..most * 1.1)?;
    counts
        .configure_mesh()
        .y_desc("requests")
        .label_style((FAMILY, 12))
        .draw()?;
    draw_bands(&mut counts, bands, (0.0, most * 1.1))?;
    // Stacked bars, served at the bottom: ok, then a server's "no" (a
    // mismatched compare-and-set: served), then given up, then unknown.
    for (layer, (_, colour, own)) in stack.iter().enumerate() {
        let bars = windows.iter().map(|w| {
            let below: u64 = stack[..layer].iter().map(|(_, _, f)| f(w)).sum();
            Rectangle::new(
                [
                    (w.counts.start_ms, below as f64),
                    (
                        w.counts.start_ms + w.counts.width_ms,
                        (below + own(w)) as f64,
                    ),
                ],
                colour.filled(),
            )
        });
        counts.draw_series(bars)?;
    }
    let mut fraction = ChartBuilder::on(&lower)
        .margin(12)
        .margin_right(32)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..end_ms.max(1.0), 0.0..1.05)?;
    fraction
        .configure_mesh()
        .x_desc("time (ms)")
        .y_desc("share of open requests served")
        .label_style((FAMILY, 12))
        .draw()?;
    draw_bands(&mut fraction, bands, (0.0, 1.05))?;
    for run in crate::series::runs(windows, crate::series::Window::served_share) {
        fraction.draw_series(LineSeries::new(
            run,
            outcome_colour(Outcome::Ok).stroke_width(2),
        ))?;
    }
    Ok(())
}

/// One layer of stacked bars: its name, colour and each bar's count.
pub(crate) type Layer<T> = (&'static str, RGBColor, fn(&T) -> u64);

/// A server's "no" (served, took no effect): a lighter shade of ok.
const DECLINED: RGBColor = RGBColor(158, 202, 225);

/// One colour per group, in order (then around again): Okabe and Ito's
/// colour-blind-safe set, less its yellow (faint on white), then grey,
/// a dark olive, a purple and a brown (a ten-group sweep, such as
/// pacelc-latency's, gets ten colours). A sweep's group keeps its colour in every chart:
/// charts index this by the group's place in the sweep (`group_colour`),
/// never by its place among the lines a chart happens to draw.
pub(crate) const PALETTE: [RGBColor; 11] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(128, 128, 128),
    RGBColor(128, 128, 0),
    RGBColor(117, 80, 170),
    RGBColor(140, 70, 20),
];

/// The colour of the sweep's `index`th group.
pub(crate) fn group_colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// The label of the category at `x` on an axis of categories 0, 1, ...;
/// nothing between them.
pub(crate) fn category(labels: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() < 1e-6 && i >= 0.0 {
        labels.get(i as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

pub(crate) type Axes =
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>;

/// A chart with one category per group across (labelled with `labels`)
/// and `0..y_max` up.
pub(crate) fn categorical<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    caption: &str,
    labels: &[String],
    y_max: f64,
    y_desc: &str,
) -> Result<ChartContext<'a, DB, Axes>, DrawingAreaErrorKind<DB::ErrorType>> {
    categorical_over(root, caption, labels, 0.0..y_max, y_desc)
}

/// As `categorical`, with a logarithmic y axis from `y_min` to `y_max`
/// (values that span decades: a mean of minutes beside means of
/// milliseconds would flatten the others to zero on a linear axis).
pub(crate) fn categorical_log<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    caption: &str,
    labels: &[String],
    (y_min, y_max): (f64, f64),
    y_desc: &str,
) -> Result<ChartContext<'a, DB, LogAxes>, DrawingAreaErrorKind<DB::ErrorType>> {
    assert!(
        y_min > 0.0 && y_max > y_min,
        "a log axis over positive values"
    );
    let y_desc = format!("{y_desc} (log scale)");
    categorical_over(root, caption, labels, (y_min..y_max).log_scale(), &y_desc)
}

/// Categories across, a logarithmic axis up.
pub(crate) type LogAxes = Cartesian2d<plotters::coord::types::RangedCoordf64, LogCoord<f64>>;

/// Categories across, `Y`'s axis up.
type AxesOver<Y> = Cartesian2d<
    plotters::coord::types::RangedCoordf64,
    <Y as plotters::coord::ranged1d::AsRangedCoord>::CoordDescType,
>;

/// The categorical chart over any y axis.
fn categorical_over<'a, DB, Y>(
    root: &'a DrawingArea<DB, Shift>,
    caption: &str,
    labels: &[String],
    y: Y,
    y_desc: &str,
) -> Result<ChartContext<'a, DB, AxesOver<Y>>, DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend + 'a,
    Y: plotters::coord::ranged1d::AsRangedCoord<Value = f64>,
    Y::CoordDescType: plotters::coord::ranged1d::ValueFormatter<f64>,
{
    let n = labels.len().max(1);
    // Each label fits its category's width (about 7 px a character at 12
    // points), so that nine groups never overprint each other.
    let chars_max = crate::key::category_chars_max(n, root.dim_in_pixel().0);
    let fitted: Vec<String> = labels.iter().map(|l| shorten(l, chars_max)).collect();
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FAMILY, 18))
        .margin(12)
        .margin_right(32)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..n as f64 - 0.5, y)?;
    chart
        .configure_mesh()
        .x_labels(n)
        .x_label_formatter(&move |x| category(&fitted, *x))
        .y_desc(y_desc)
        .label_style((FAMILY, 12))
        .draw()?;
    Ok(chart)
}

/// The key of `stacked_outcomes`'s bars.
pub(crate) fn outcome_key(names: [&str; 3]) -> Key {
    let mut key = Key::default();
    for (name, outcome) in names
        .into_iter()
        .zip([Outcome::Ok, Outcome::Fail, Outcome::Info])
    {
        key.add(name, outcome_colour(outcome), Mark::Box);
    }
    key
}

/// Stacked bars of operations or runs by outcome, one bar per category
/// (`counts[i]` is [ok, fail, unknown]; their key is `outcome_key`).
pub(crate) fn stacked_outcomes<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Axes>,
    counts: &[[u64; 3]],
) -> Drawn<DB> {
    for (layer, outcome) in [Outcome::Ok, Outcome::Fail, Outcome::Info]
        .into_iter()
        .enumerate()
    {
        let colour = outcome_colour(outcome);
        let bars = counts.iter().enumerate().map(|(i, c)| {
            let below: u64 = c[..layer].iter().sum();
            let x = i as f64;
            Rectangle::new(
                [
                    (x - 0.3, below as f64),
                    (x + 0.3, (below + c[layer]) as f64),
                ],
                colour.filled(),
            )
        });
        chart.draw_series(bars)?;
    }
    Ok(())
}
