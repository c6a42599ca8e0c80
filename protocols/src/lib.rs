//! Protocols for faultline. Each module is one protocol, written as a sans-IO
//! state machine against `sim_core::Protocol`.

pub mod pingpong;
