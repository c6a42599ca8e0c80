//! The `faultline` command-line interface, as a library so that end-to-end
//! tests can drive it in-process.

pub mod bench;
pub mod cli;
pub mod consistency;
pub mod distribution;
pub mod panic_capture;
pub mod progress;
pub mod run_output;
pub mod shrinking;
pub mod sweep;
pub mod sweep_report;
pub mod unit_consistency;
