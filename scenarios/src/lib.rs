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

pub mod bytes;
pub mod catalog;
mod checks;
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
pub mod resolve;
pub mod run;
pub mod scenario;
pub mod schema;
pub mod set;
pub mod strategies;
mod syntax_hint;
pub mod topology;
pub mod validate;

pub use error::{Problem, ScenarioError};
pub use load::{load_file, load_str, parse_str, to_ron, to_ron_inline};
pub use protocol::ProtocolSpec;
pub use registry::register;
pub use resolve::resolve;
pub use run::{run, run_watched, RunOutcome, RunWatcher};
pub use scenario::Scenario;
