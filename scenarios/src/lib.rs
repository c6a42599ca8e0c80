//! faultline's scenarios: the RON schema, the loader with positioned errors,
//! validation with field paths, resolution of everything drawn from the
//! seed, and the runner that turns a resolved scenario into verdicts,
//! metrics, a history and a trace hash.
//!
//! ```no_run
//! let scenario = scenarios::load_file(std::path::Path::new("scenarios/quickstart.ron")).unwrap();
//! let outcome = scenarios::run(&scenarios::resolve(&scenario, 7)).unwrap();
//! assert!(outcome.passed());
//! ```
//!
//! # Code map
//!
//! The stages: load → validate
//! → resolve → plan → drive → check → outputs. `schema.rs` holds the parts of
//! a `.ron` file and `scenario.rs` the top-level `Scenario`, the one part that
//! names a protocol; `dialect.rs` the RON options every parser shares;
//! `names.rs` servers', clients' and bindings' names; `load.rs` parsing with
//! positions and hints (`syntax_hint.rs` turns the parser's "expected ..."
//! into an example of the right shape); `validate.rs` semantic checks with
//! field paths; `resolve.rs` everything the seed decides written out;
//! `set.rs` `--set path=value`. Protocols come in through `protocol.rs`
//! (`ProtocolSpec`: any registered plug-in with its params, erased behind one
//! type that a scenario holds) and `registry.rs` (the built-in list, one line
//! per protocol, user registration, and reading `Name(...)` by name);
//! `protocol_info.rs` reads `faultline list`'s text off each params type;
//! `catalog.rs` lists the checks and fault kinds. A run is `run.rs`: it builds
//! a `Plan` (`plan.rs`: what a run reads, converted once) and the engine's
//! configuration (`topology.rs`), hands both to the protocol, whose plug-in
//! calls `drive.rs` (the engine loop, generic over the protocol's service,
//! binding "@leader" as faults come and feeding `recorder.rs`, the history,
//! and the monitor, and judging convergence with `convergence.rs` while the
//! servers exist), then `checks.rs` judges the history and `metrics.rs`
//! measures it; `outcome.rs` holds the result types. `swarm/` generates
//! valid scenarios of each protocol that draw its configuration as well as
//! its faults, and runs them through every check it promises. `shrink/` turns a
//! failing resolved scenario into the smallest one found that fails the same
//! check, running candidates through `run`. `strategies.rs` has
//! proptest fault schedules by node name. The curated `*.ron` files live
//! beside it, documented in `scenarios/README.md`; `tests/golden/` pins their
//! trace hashes for seeds 0..20.

pub mod availability;
pub mod bytes;
pub mod catalog;
mod checks;
mod convergence;
pub mod convert;
pub mod dialect;
mod drive;
pub mod duration;
pub mod error;
pub mod load;
pub mod metrics;
pub mod names;
pub mod outcome;
pub mod plan;
pub mod protocol;
pub mod protocol_info;
mod recorder;
pub mod registry;
pub mod replay;
pub mod reproduce;
pub mod resolve;
pub mod run;
pub mod run_error;
pub mod scenario;
pub mod schema;
pub mod set;
pub mod shrink;
pub mod side_counts;
#[cfg(feature = "strategies")]
pub mod strategies;
pub mod swarm;
pub mod sweep;
mod syntax_hint;
pub mod topology;
pub mod validate;

pub use error::{Problem, ScenarioError};
pub use load::{load_file, load_str, parse_str, to_ron, to_ron_inline};
pub use protocol::ProtocolSpec;
pub use protocols::plugin::Theory;
pub use registry::register;
pub use resolve::resolve;
pub use run::{run, run_watched, RunOutcome, RunWatcher};
pub use scenario::Scenario;
