//! Sweeps in the library: a scenario and its axes become groups, each a
//! scenario of its own, run over a range of seeds.
//!
//! `groups.rs` plans the groups from the scenario's own `sweep` section and
//! the caller's extra assignments (the CLI's `--set`), validates each, and
//! says in a typed error which axis is wrong and where it came from. The
//! CLI's `sweep` command and `validate` both plan through it, so a file
//! that validates also plans. `results.rs` holds the records a sweep
//! writes (a header, one `UnitResult` per run), `summary.rs` summarises
//! and judges them (per group), `consistency.rs` and `unit_consistency.rs`
//! the consistency and availability tables, and `run.rs` runs every
//! (group, seed) in parallel into records. A Rust user's sweep is
//! `plan_groups`, `run_all`, `Header::new` and `summarise`; the CLI adds
//! the results file (appended as runs finish, resumable, shardable),
//! timing, `--timeout` and progress (`src/sweep.rs`).

pub mod consistency;
pub mod groups;
pub mod results;
pub mod run;
pub mod summary;
pub mod unit_consistency;

pub use groups::{plan_groups, AxisSource, Group, PlanError};
pub use results::{parse_shard, subsample, GroupHeader, Header, UnitResult, SAMPLES_PER_RUN_MAX};
pub use run::{run_all, run_unit};
pub use summary::{
    summarise, Failure, GroupSummary, Slow, SweepSummary, Timing, Undecided, FAILURES_LISTED_MAX,
};
