//! Charts and HTML reports. Today: the counterexample timeline of a history
//! that is not linearizable. Latency and availability charts are still to
//! come.

pub mod timeline;
