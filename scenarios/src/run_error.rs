//! Why a run could not go on: input the validator cannot judge ahead of
//! the run, as one type a library user can match on. The CLI maps every
//! variant to its `Run` error kind (exit 2); the texts are those the run
//! always gave, each naming the field it is about.

/// An input error found while running (a protocol bug panics instead).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The scenario's settings, converted for the engine, were refused:
    /// a topology, link, clock or disk the engine cannot build, or a fault
    /// it cannot schedule. The text starts with the field's path.
    #[error("{0}")]
    Config(String),
    /// A fault that names nodes bound at run time ("@leader",
    /// "@followerK") could not be applied when its time came; `index` is
    /// its place in `faults.schedule`.
    #[error("{message}")]
    Binding { index: usize, message: String },
}

impl From<String> for RunError {
    /// A conversion's error text, which names its field.
    fn from(message: String) -> RunError {
        RunError::Config(message)
    }
}

impl From<sim_core::error::SimError> for RunError {
    /// The engine refused the converted settings (validation passed them).
    fn from(error: sim_core::error::SimError) -> RunError {
        RunError::Config(error.to_string())
    }
}
