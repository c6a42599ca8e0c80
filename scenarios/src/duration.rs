//! Durations as scenario files write them: strings with units ("150ms",
//! "2s"). They live in sim-core, so that protocols' params use them too.

pub use sim_core::duration::{Dur, SignedDur};
