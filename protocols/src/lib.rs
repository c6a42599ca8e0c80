//! Protocols for faultline. Each is a sans-IO state machine: it reacts to
//! inputs and acts only through its context (ARCHITECTURE.md, invariant 1).
//!
//! Shared machinery lives beside them: `kv` (the key-value state machine with
//! exactly-once deduplication), `client` (leader discovery, retries, backoff,
//! history events), `workload` (what clients ask for) and `cluster` (servers
//! and clients of one service as one engine protocol).

pub mod bully;
pub mod client;
pub mod cluster;
pub mod commit;
pub mod durable_log;
pub mod election;
pub mod heap;
pub mod invariant;
pub mod kv;
pub mod kv_single;
pub mod pingpong;
pub mod plugin;
pub mod raft;
pub mod request_tags;
pub mod ring;
pub mod saga;
pub mod testkit;
pub mod workload;
