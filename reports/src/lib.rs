//! Charts and HTML reports (latency and availability over time, timelines).
//!
//! Not built yet: this crate is a placeholder in the fixed layout and exports
//! nothing. It is filled when runs produce histories and metrics to draw.
