//! The scenario schema and loader (RON files describing a cluster, network,
//! clocks, protocol, workload, faults and checks).
//!
//! Not built yet: this crate is a placeholder in the fixed layout and exports
//! nothing. The scenario issue fills it; until then, runs are built in Rust
//! with `sim_core::SimConfig` (see the pingpong benchmark in `src/bench.rs`).
