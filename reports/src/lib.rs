//! Charts and HTML reports.
//!
//! - `series.rs`: the data behind each run chart (latency points with
//!   their thinning rule, per-window quantiles and outcome counts, CDFs),
//!   apart from drawing so that tests check it exactly.
//! - `bands.rs`: fault intervals from a resolved schedule, for the shaded
//!   bands.
//! - `charts.rs`: the run charts, as SVG and PNG (plotters, with the font
//!   shipped in `assets/`).
//! - `run_report.rs`: `report.html` of a run, one self-contained page.
//! - `timeline.rs`: the counterexample timeline of a history that is not
//!   linearizable.

pub mod bands;
pub mod charts;
pub mod run_report;
pub mod series;
pub mod timeline;
