//! Helpers for testing protocols and the engine: proptest strategies for
//! clusters, links and fault schedules, `Chatter`, a protocol that
//! exercises every engine feature (messages, timers, storage, recovery),
//! and `NodeHarness`, one node outside the engine for handler tests.
//!
//! CI users generate fault schedules for their own protocols with
//! `strategies::fault_schedule`.

pub mod chatter;
pub mod handler;
#[cfg(feature = "strategies")]
pub mod strategies;

pub use chatter::Chatter;
pub use handler::{Handled, NodeHarness};
pub mod histories;

/// The external corpus of histories with known verdicts, where the
/// environment variable `FAULTLINE_SHARED` names the folder that holds it
/// (`.ci/run` sets it to `../shared`); `None`, with a line on stderr saying
/// the test is skipped, where it is not set: a fresh clone has no corpus,
/// and the project's own tests use histories it makes itself
/// (`histories`). A variable that names a folder without `sub` is a
/// misconfigured CI, and panics.
pub fn shared_corpus(sub: &str) -> Option<std::path::PathBuf> {
    let Some(root) = std::env::var_os(SHARED_VAR) else {
        eprintln!("skipped: {SHARED_VAR} is not set, so the external corpus {sub} is not read");
        return None;
    };
    let path = std::path::PathBuf::from(root).join(sub);
    assert!(
        path.is_dir(),
        "{SHARED_VAR} is set but {} is not a folder",
        path.display()
    );
    Some(path)
}

/// The environment variable naming the external corpus's folder.
pub const SHARED_VAR: &str = "FAULTLINE_SHARED";
