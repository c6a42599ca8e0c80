//! Memory sizes as scenario files write them ("512MiB"). They live in
//! sim-core, so that protocols' params and checks use them too.

pub use sim_core::bytes::Bytes;
