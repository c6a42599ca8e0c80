//! Protocols for faultline. Each is a sans-IO state machine: it reacts to
//! inputs and acts only through its context (ARCHITECTURE.md, invariant 1).
//!
//! Shared machinery lives beside them: `kv` (the key-value state machine with
//! exactly-once deduplication), `client` (leader discovery, retries, backoff,
//! history events), `workload` (what clients ask for) and `cluster` (servers
//! and clients of one service as one engine protocol).
//!
//! # Code map
//!
//! `cluster.rs` turns a server-side `Service` plus client processes into one
//! engine `Protocol`: node ids `0..servers` are servers, the rest clients, and a
//! `ServerCtx` restricts a service to its peers. A client node may run an
//! agent too, an instance of the service its process hands attempts to
//! locally (`Plugin::client_agents`: TxnStore's client coordinators). `client.rs` is the client
//! process every key-value protocol reuses (leader hints, attempt timeouts,
//! retries with exponential backoff and full jitter, (client, seq) tags, the
//! ok/fail/info outcome rule); `workload.rs` draws its operations; `kv.rs` is the
//! key-value state machine with exactly-once deduplication; `invariant.rs` the
//! `Monitor` trait for invariants checked from protocol events as the run goes.
//! `durable_log.rs` is the write-ahead log on a node's storage (one key per
//! entry, synced when the protocol says so) that Raft, the commit coordinator
//! and the commit shards share. `two_phase/` is the two-phase-commit core
//! that `commit/` and `txn_store/` share: the vote tally under presumed
//! abort, the acknowledgements a decision waits for, and what a participant
//! in doubt does (with the `commit_on_timeout` bug switch). `Monitor`s also measure protocol metrics
//! (`ProtocolMetrics`) and hear of server crashes in time order.
//! Protocols: `pingpong` (the benchmark, also as a service), `kv_single` (a
//! single-copy store with group commit and the `ack_before_sync` bug switch) and
//! `raft/` (Figure 2 of the paper: `election.rs` with PreVote and CheckQuorum,
//! `replication.rs` with fast backtracking and the Figure 8 commit rule,
//! `reads.rs` with Log, ReadIndex, Lease and Follower reads, `monitor.rs` with
//! the four safety invariants and the leaderless-time and commit-latency
//! metrics, `params.rs` with the four bug switches) and `ring/` (Chang–Roberts
//! and LeLann on a one-way ring: per-hop acks so a crashed successor is
//! skipped, a leader heartbeat whose silence starts the next epoch, catch-up
//! for servers back from a crash, and a monitor for one leader per epoch, one
//! live leader at a time, and the largest live id leading at the end),
//! `bully/` (the Bully algorithm on a fully connected network: candidates ask
//! every larger id and declare after `answer_timeout` of silence, a restarted
//! larger id takes over, and a monitor for no smaller leader beside a larger
//! live one; the top-level `election.rs` holds the id checks and the end-of-run `max-id-leader` check it
//! shares with `ring/`), and
//! `commit/` (two- and three-phase commit of bank transfers: `coordinator.rs`
//! with its decision log and presumed abort, `participant.rs` with write-ahead
//! prepared records, no-wait locks, 2PC's blocking or cooperative termination
//! and 3PC's termination protocol, `monitor.rs` with atomicity,
//! commit-needs-all-yes, money-conserved and the blocking metrics). Transfers
//! ride on the shared client machinery as `KvOp::Transfer`; the history
//! records them as `Function::Transfer`, which the register checkers never
//! see (the plug-in's `Clients` decides which history checks apply).
//! `primary_backup/` replicates the store from one primary to its backups:
//! `replication.rs` (shipping, the Sync, SemiSync-with-fallback and Async
//! commit rules, backups taking appends), `failover.rs` (the tick, elections
//! among the backups, promotion), `reads.rs` (under the lease, from a
//! backup, or once a backup has the client's session position),
//! `monitor.rs` (one primary per epoch, backup logs matching their
//! primary's, no promised write lost; lost writes per failover, lag over
//! time, time without a primary, fallbacks). Its clients use the shared
//! client's routing and tokens (`ClientRouting`, `Token`).
//! `quorum/` is a leaderless Dynamo-style store: `ring.rs` (consistent
//! hashing with virtual nodes, preference lists), `versions.rs`
//! (last-writer-wins stamps and dotted version vectors, siblings),
//! `coordinator.rs` (N/R/W, read repair, sloppy targets), `replica.rs`
//! (writes, hints, handoff), `anti_entropy.rs` (bucket digests),
//! `monitor.rs` (no acknowledged write lost). Its clients carry a causal
//! context per key (`kv::CausalContext`).
//! `crdt/` holds state-based CRDTs (grow-only and PN counters, an
//! observed-remove set, last-writer-wins and multi-value registers), each
//! a join-semilattice whose merge laws are property-tested: the values a
//! multi-leader store merges instead of picking a winner.
//! `multi_leader/` holds the pure parts of multi-leader replication so
//! far: `topology.rs` (all-to-all, ring and star forwarding, each write
//! reaching every region once), `causal.rs` (causal delivery, bounded)
//! and `resolution.rs` (last writer wins, siblings, or a CRDT per key).
//! `raft/` is also a library: `Raft<A>` replicates any `RaftApp` through a
//! host's `RaftEnv` (the lock's `Consensus` design hosts it).
//! `request_tags.rs` maps a client retry to the transaction or saga it started (commit coordinator, both saga order services). `saga/` runs orders as sagas: `steps.rs` is the three step services
//! (inventory, payment, shipping) with durable, idempotent outcomes and
//! tombstones, shared by `orchestrator.rs` (a durable orchestrator with step
//! timeouts) and `choreography.rs` (services reacting to each other's events);
//! `outbox.rs` is at-least-once delivery with retries until acknowledged;
//! `monitor.rs` checks step-once, compensation-needs-step and
//! semantic-atomicity and counts reads that see a saga in the middle.
//!
//! Faults may name `"@leader"`, `"@old-leader"` and `"@followerK"`. The runner
//! binds these names when the fault happens: it stops the engine at that time
//! and asks each live server whether it leads (`Service::leader_term`). This
//! gives scenarios such as "crash the leader" without knowing in advance which
//! server leads.

pub mod bully;
pub mod client;
pub mod cluster;
pub mod commit;
pub mod crdt;
pub mod durable_log;
pub mod durable_outbox;
pub mod election;
pub mod heap;
pub mod invariant;
pub mod kv;
pub mod kv_single;
pub mod lock;
pub mod multi_leader;
pub mod pingpong;
pub mod plugin;
pub mod primary_backup;
pub mod quorum;
pub mod raft;
pub mod request_tags;
pub mod ring;
pub mod saga;
pub mod testkit;
pub mod two_phase;
pub mod txn_store;
pub mod workload;
