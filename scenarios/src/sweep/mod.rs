//! Sweeps in the library: a scenario and its axes become groups, each a
//! scenario of its own, run over a range of seeds.
//!
//! `groups.rs` plans the groups from the scenario's own `sweep` section and
//! the caller's extra assignments (the CLI's `--set`), validates each, and
//! says in a typed error which axis is wrong and where it came from. The
//! CLI's `sweep` command and `validate` both plan through it, so a file
//! that validates also plans.

pub mod groups;

pub use groups::{plan_groups, AxisSource, Group, PlanError};
