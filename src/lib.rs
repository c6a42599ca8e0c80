//! The `faultline` command-line interface, as a library so that end-to-end
//! tests can drive it in-process.

pub mod bench;
pub mod cli;
