//! The `faultline` command-line interface, as a library so that end-to-end
//! tests can drive it in-process.

pub mod bench;
pub mod cli;
pub mod distribution;
pub mod panic_capture;
pub mod progress;
pub mod run_output;
pub mod shrinking;
pub mod sweep;
/// The sweep's consistency tables, now the library's (`scenarios::sweep`).
pub use sweep::{consistency, unit_consistency};
pub mod sweep_report;
