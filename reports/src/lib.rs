//! Charts and HTML reports.
//!
//! - `series.rs`: the data behind each run chart (latency points with
//!   their thinning rule, per-window quantiles and outcome counts, CDFs),
//!   apart from drawing so that tests check it exactly.
//! - `bands.rs`: fault intervals from a resolved schedule, for the shaded
//!   bands.
//! - `charts.rs`: the run charts, as SVG and PNG (plotters, with the font
//!   shipped in `assets/`).
//! - `lamport.rs`: the space-time diagram of a window of a run, from a
//!   replay of it (`scenarios::replay`).
//! - `run_report.rs`: `report.html` of a run, one self-contained page.
//! - `protocol_series.rs`: a protocol's metrics over time (replication
//!   lag per backup), one chart per metric.
//! - `sides.rs`: availability per side of each partition that named
//!   clients (CAP's choice, side by side).
//! - `sweep_series.rs`: the data behind a sweep's charts (verdicts per
//!   group, each metric's samples per run, bootstrap intervals).
//! - `sweep_report.rs`: a sweep's charts (each metric's CDF per group, the
//!   Raft paper's Figure 16 among them; each group's mean with its
//!   interval; verdicts) and its `report.html`.
//! - `timeline.rs`: the counterexample timeline of a history that is not
//!   linearizable.

pub mod bands;
pub mod charts;
pub mod consistency;
pub mod cycle;
pub mod error;
pub mod html;
pub(crate) mod key;
pub mod lamport;
pub mod protocol_series;
pub mod run_report;
pub mod says;
pub mod series;
pub mod sides;
pub(crate) mod style;
pub mod sweep_report;
pub mod sweep_series;
pub mod timeline;
pub mod words;
