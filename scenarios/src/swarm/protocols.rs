//! Each protocol's correct variant as a generated scenario: its
//! parameters within their documented ranges, the environment its
//! assumptions allow, and every check it promises under what was drawn.

use super::environment::{self, ms, Allow, Draw, Timing};

/// The protocols a swarm covers (each in its correct variant: no bug
/// switch is ever drawn).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SwarmProtocol {
    KvSingle,
    Raft,
    PrimaryBackup,
    Quorum,
    TwoPhaseCommit,
    ThreePhaseCommit,
    Saga,
    RingElection,
    BullyElection,
    TxnStore,
    Lock,
    MultiLeader,
}

impl SwarmProtocol {
    pub const ALL: [SwarmProtocol; 12] = [
        SwarmProtocol::KvSingle,
        SwarmProtocol::Raft,
        SwarmProtocol::PrimaryBackup,
        SwarmProtocol::Quorum,
        SwarmProtocol::TwoPhaseCommit,
        SwarmProtocol::ThreePhaseCommit,
        SwarmProtocol::Saga,
        SwarmProtocol::RingElection,
        SwarmProtocol::BullyElection,
        SwarmProtocol::TxnStore,
        SwarmProtocol::Lock,
        SwarmProtocol::MultiLeader,
    ];

    /// The protocol's name in a scenario file.
    pub fn name(self) -> &'static str {
        match self {
            SwarmProtocol::KvSingle => "KvSingle",
            SwarmProtocol::Raft => "Raft",
            SwarmProtocol::PrimaryBackup => "PrimaryBackup",
            SwarmProtocol::Quorum => "Quorum",
            SwarmProtocol::TwoPhaseCommit => "TwoPhaseCommit",
            SwarmProtocol::ThreePhaseCommit => "ThreePhaseCommit",
            SwarmProtocol::Saga => "Saga",
            SwarmProtocol::RingElection => "RingElection",
            SwarmProtocol::BullyElection => "BullyElection",
            SwarmProtocol::TxnStore => "TxnStore",
            SwarmProtocol::Lock => "Lock",
            SwarmProtocol::MultiLeader => "MultiLeader",
        }
    }

    /// The protocol named `name` (as a scenario file writes it).
    pub fn parse(name: &str) -> Option<SwarmProtocol> {
        SwarmProtocol::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }
}

/// Every fault kind the nemesis has.
const ALL_KINDS: &[&str] = &[
    "Partition",
    "Crash",
    "PowerLoss",
    "Pause",
    "ClockJump",
    "Clog",
    "Loss",
    "DiskSlow",
    "DiskStall",
];
/// Crash-recovery faults only, for protocols that assume a perfect
/// failure detector and a synchronous network.
const CRASH_KINDS: &[&str] = &["Crash", "PowerLoss", "DiskSlow", "DiskStall"];

/// An asynchronous network: loss, duplication, reordering, heavy tails.
const ASYNC: Allow = Allow {
    loss: true,
    duplicate: true,
    heavy_tail: true,
    latency_mean_ms_max: 10.0,
    drift_ppm_max: 500.0,
    offset_ms_max: 200.0,
    reorder: true,
};

/// A synchronous network: reliable, bounded latency well under the
/// protocol's timeouts.
const SYNC: Allow = Allow {
    loss: false,
    duplicate: false,
    heavy_tail: false,
    latency_mean_ms_max: 4.0,
    drift_ppm_max: 200.0,
    offset_ms_max: 200.0,
    reorder: true,
};

/// The kinds without clock jumps: what a lease assumes (bounded drift,
/// no steps).
fn without_jumps(kinds: &[&'static str]) -> Vec<&'static str> {
    kinds
        .iter()
        .copied()
        .filter(|k| *k != "ClockJump")
        .collect()
}

/// What each protocol draws; the rest of a scenario file is the same for
/// every protocol (`assemble`).
struct Parts {
    /// How many servers: `Count(servers)`, unless `names` names them.
    servers: u64,
    names: Option<&'static str>,
    params: String,
    allow: Allow,
    workload: Option<String>,
    kinds: Vec<&'static str>,
    outages: bool,
    checks: Vec<&'static str>,
}

/// Assembles a scenario file.
fn assemble(
    d: &mut Draw,
    protocol: SwarmProtocol,
    index: u64,
    timing: Timing,
    parts: Parts,
) -> String {
    let network = environment::network(d, parts.allow);
    let disks = environment::disks(d);
    let clocks = environment::clocks(d, parts.allow);
    // A partition or a clog needs two servers to stand between.
    let kinds: Vec<&str> = parts
        .kinds
        .iter()
        .copied()
        .filter(|k| parts.servers >= 2 || !matches!(*k, "Partition" | "Clog"))
        .collect();
    let faults = environment::faults(d, timing, &kinds, parts.outages);
    let checks: Vec<String> = parts.checks.iter().map(|c| format!("\"{c}\"")).collect();
    let nodes = match parts.names {
        Some(names) => format!("Names([{names}])"),
        None => format!("Count({})", parts.servers),
    };
    format!(
        "Scenario(\n    name: \"swarm-{}-{}\",\n    duration: \"{}ms\",\n    nodes: {nodes},\n    {network}\n    {disks}\n    {clocks}\n    protocol: {}({}),\n    {}\n    {faults}\n    checks: [{}],\n)\n",
        protocol.name().to_lowercase(),
        index,
        timing.duration_ms,
        protocol.name(),
        parts.params,
        parts.workload.unwrap_or_default(),
        checks.join(", ")
    )
}

const REGISTER_MIX: &str = "(read: 0.4, write: 0.3, cas: 0.2, append: 0.1)";

pub fn scenario_text(protocol: SwarmProtocol, index: u64, d: &mut Draw) -> String {
    let timing = environment::timing(d);
    let parts = match protocol {
        SwarmProtocol::KvSingle => {
            let (mix, checks) =
                registers_or_transactions(d, &["linearizability", "session", "invariants"]);
            let workload = environment::workload(d, timing, &mix, 5, 6);
            let servers = d.int(1, 3);
            Parts {
                servers,
                names: None,
                params: format!("flush_interval: \"{}\"", ms(d.real(0.0, 10.0))),
                allow: ASYNC,
                workload: Some(workload),
                kinds: ALL_KINDS.to_vec(),
                outages: true,
                checks,
            }
        }
        SwarmProtocol::Raft => raft(d, timing),
        SwarmProtocol::PrimaryBackup => primary_backup(d, timing),
        SwarmProtocol::Quorum => quorum(d, timing),
        SwarmProtocol::TxnStore => txn_store(d, timing),
        SwarmProtocol::Lock => lock(d),
        SwarmProtocol::MultiLeader => multi_leader(d, timing),
        SwarmProtocol::TwoPhaseCommit | SwarmProtocol::ThreePhaseCommit => {
            commit(d, protocol, timing)
        }
        SwarmProtocol::Saga => {
            let keys = d.int(1, 6);
            let clients = d.int(1, 8);
            let style = *d.pick(&["Orchestration", "Choreography"]);
            let workload = format!(
                "workload: (clients: {clients}, arrival: Closed(think: Exponential(mean: \"{}\")), mix: (order: 1.0), keys: {keys}, attempt_timeout: \"{}\", op_timeout: \"3s\", stop_after: \"{}ms\"),",
                ms(d.real(2.0, 40.0)),
                ms(d.real(50.0, 300.0)),
                timing.stop_after_ms
            );
            Parts {
                servers: 4,
                names: Some("\"orders\", \"inventory\", \"payment\", \"shipping\""),
                params: format!(
                    "style: {style}, initial_stock: {}, initial_credit: {}, shipping_failure_probability: {:.2}, retry_interval: \"{}\", step_timeout: \"{}\"",
                    d.int(5, 500),
                    d.int(50, 3_000),
                    d.real(0.0, 0.5),
                    ms(d.real(10.0, 150.0)),
                    ms(d.real(300.0, 2_000.0))
                ),
                allow: ASYNC,
                workload: Some(workload),
                kinds: ALL_KINDS.to_vec(),
                outages: true,
                checks: vec!["invariants"],
            }
        }
        SwarmProtocol::RingElection => {
            // Chang-Roberts and LeLann assume a perfect failure detector:
            // crashes only, on a reliable, FIFO, bounded network.
            let variant = *d.pick(&["ChangRoberts", "LeLann"]);
            let servers = d.int(2, 12);
            let hop = d.real(20.0, 80.0);
            Parts {
                servers,
                names: None,
                params: format!(
                    "variant: {variant}, ids: {}, heartbeat_interval: \"{}\", failure_timeout: \"{}\", hop_timeout: \"{}\", election_timeout: \"{}\"",
                    d.pick(&["Increasing", "Decreasing", "Random"]),
                    ms(d.real(20.0, 80.0)),
                    ms(d.real(200.0, 400.0)),
                    ms(hop),
                    ms(2.0 * servers as f64 * hop + d.real(200.0, 1_000.0))
                ),
                allow: Allow {
                    reorder: false,
                    ..SYNC
                },
                workload: None,
                kinds: CRASH_KINDS.to_vec(),
                outages: false,
                checks: vec!["invariants"],
            }
        }
        SwarmProtocol::BullyElection => {
            // Bully assumes synchrony: an answer within `answer_timeout`.
            let servers = d.int(2, 9);
            Parts {
                servers,
                names: None,
                params: format!(
                    "ids: {}, first_election: {}, heartbeat_interval: \"{}\", failure_timeout: \"{}\", answer_timeout: \"{}\", coordinator_timeout: \"{}\"",
                    d.pick(&["Increasing", "Decreasing", "Random"]),
                    d.pick(&["All", "Lowest", "Highest"]),
                    ms(d.real(20.0, 80.0)),
                    ms(d.real(200.0, 400.0)),
                    ms(d.real(30.0, 100.0)),
                    ms(d.real(150.0, 400.0))
                ),
                allow: SYNC,
                workload: None,
                kinds: CRASH_KINDS.to_vec(),
                outages: false,
                checks: vec!["invariants"],
            }
        }
    };
    assemble(d, protocol, index, timing, parts)
}

fn raft(d: &mut Draw, timing: Timing) -> Parts {
    let low = d.real(20.0, 200.0);
    let high = low * d.real(1.5, 3.0);
    let read_mode = *d.pick(&["Log", "ReadIndex", "Lease"]);
    // A lease assumes drift within its bound and no clock steps.
    let kinds = if read_mode == "Lease" {
        without_jumps(ALL_KINDS)
    } else {
        ALL_KINDS.to_vec()
    };
    let (mix, checks) =
        registers_or_transactions(d, &["linearizability", "session", "invariants", "eventual"]);
    let workload = environment::workload(d, timing, &mix, 5, 6);
    let servers = d.int(1, 7);
    Parts {
        servers,
                names: None,
        params: format!(
            "election_timeout: (\"{}\", \"{}\"), pre_vote: {}, check_quorum: {}, read_mode: {read_mode}, batch_entries_max: {}, overlap_own_vote_write: {}, group_commit: {}, step_down_write_apart: {}",
            ms(low),
            ms(high),
            d.chance(0.5),
            d.chance(0.5),
            d.int(1, 64),
            d.chance(0.5),
            d.chance(0.5),
            d.chance(0.5)
        ),
        allow: ASYNC,
        workload: Some(workload),
        kinds,
        outages: true,
        checks,
    }
}

/// A register workload and the checks it promises, or, one time in
/// three, transactions (lists or registers, drawn shape) and their check.
fn registers_or_transactions(
    d: &mut Draw,
    register_checks: &[&'static str],
) -> (String, Vec<&'static str>) {
    if !d.chance(0.3) {
        return (REGISTER_MIX.to_string(), register_checks.to_vec());
    }
    let lists = d.chance(0.5);
    let mix = format!(
        "(txn: 1.0), transactions: (kind: {}, mops_max: {}, read_share: {:.2})",
        if lists { "ListAppend" } else { "RwRegister" },
        d.int(1, 6),
        d.real(0.0, 1.0)
    );
    let check = if lists { "list-append" } else { "rw-register" };
    (mix, vec![check, "invariants"])
}

/// The multi-leader store in any shape (regions, followers, topology,
/// resolution, causal delivery or not) under every fault kind on an
/// asynchronous network with skewed clocks: its invariants hold whatever
/// happens (last-writer-wins may lose a write to a concurrent one, and
/// only to one), and once the nemesis has stopped and the clients too,
/// the resends bring every region to the same data.
fn multi_leader(d: &mut Draw, timing: Timing) -> Parts {
    let regions = d.int(2, 5);
    let followers = d.int(0, 1);
    let resolution = *d.pick(&[
        "LastWriterWins",
        "VersionVectors",
        "Crdt(GCounter)",
        "Crdt(PnCounter)",
        "Crdt(OrSet)",
        "Crdt(LwwRegister)",
        "Crdt(MvRegister)",
    ]);
    let workload = environment::workload(d, timing, "(read: 0.4, write: 0.6)", 6, 8);
    Parts {
        servers: regions * (1 + followers),
        names: None,
        params: format!(
            "regions: {regions}, followers: {followers}, topology: {}, conflict_resolution: {resolution}, causal_delivery: {}, resend_interval: \"{}\", batch_max: {}",
            d.pick(&["AllToAll", "Ring", "Star"]),
            d.chance(0.5),
            // Two resends must fit in the quiet at the end (`eventual`).
            ms(d.real(10.0, 300.0)),
            d.pick(&[1, 4, 64]),
        ),
        allow: ASYNC,
        workload: Some(workload),
        kinds: ALL_KINDS.to_vec(),
        outages: true,
        checks: vec!["invariants", "eventual"],
    }
}

/// The lock in a design whose promise holds in the environment drawn: a
/// single node with fencing under every fault on an asynchronous network
/// (fencing needs no timing); Redlock, or a single node without fencing,
/// only where their timing assumptions hold: a synchronous network,
/// bounded drift, and crashes only (a pause, a clock step or a message
/// delayed past its timeout makes a zombie, which only fencing stops).
fn lock(d: &mut Draw) -> Parts {
    let clients = d.int(1, 6);
    let ttl_ms = d.real(100.0, 2_000.0);
    let work_ms = d.real(1.0, ttl_ms / 4.0);
    let timing = format!(
        "ttl: \"{}\", work_min: \"{}\", work_max: \"{}\", think_min: \"0ms\", think_max: \"{}\", request_timeout: \"{}\"",
        ms(ttl_ms),
        ms(work_ms / 2.0),
        ms(work_ms),
        ms(d.real(0.1, 100.0)),
        ms(d.real(10.0, 100.0)),
    );
    // The lock itself is a mutex only where timing holds; with fencing
    // under every fault only the resource is promised safe.
    let (servers, design, allow, kinds, checks) = match *d.pick(&[0u8, 1, 2, 3, 4]) {
        0 => (
            1,
            "SingleNode, fencing: true".to_string(),
            ASYNC,
            ALL_KINDS.to_vec(),
            vec!["invariants"],
        ),
        1 => {
            let instances = *d.pick(&[3u64, 5, 7]);
            let design = format!("Redlock, instances: {instances}");
            let checks = vec!["invariants", "mutex"];
            (instances, design, SYNC, CRASH_KINDS.to_vec(), checks)
        }
        2 => (
            1,
            "SingleNode".to_string(),
            SYNC,
            CRASH_KINDS.to_vec(),
            vec!["invariants", "mutex"],
        ),
        // Consensus: with fencing under every fault, and without it where
        // only crashes strike a synchronous network (a lease then ends on
        // the leader's timer after the client's validity, and a new
        // leader restarts it in full), where its history is a mutex's.
        choice => {
            let instances = *d.pick(&[3u64, 5]);
            let low = d.real(20.0, 200.0);
            let raft = format!(
                "raft: (election_timeout: (\"{}\", \"{}\"), pre_vote: {}, check_quorum: {})",
                ms(low),
                ms(low * d.real(1.5, 3.0)),
                d.chance(0.5),
                d.chance(0.5),
            );
            if choice == 3 {
                let design = format!("Consensus, instances: {instances}, fencing: true, {raft}");
                (
                    instances,
                    design,
                    ASYNC,
                    ALL_KINDS.to_vec(),
                    vec!["invariants"],
                )
            } else {
                let design = format!("Consensus, instances: {instances}, {raft}");
                let checks = vec!["invariants", "mutex"];
                (instances, design, SYNC, CRASH_KINDS.to_vec(), checks)
            }
        }
    };
    Parts {
        servers: servers + 1 + clients,
        names: None,
        params: format!("design: {design}, {timing}"),
        allow,
        workload: None,
        kinds,
        outages: false,
        checks,
    }
}

/// TxnStore under a drawn isolation level, judged against the model that
/// level promises: two-phase locking and OCC strict serializability,
/// snapshot isolation strong snapshot isolation (the oracle orders
/// snapshots in real time; local clocks do with a commit-wait above
/// their disagreement), read committed read committed.
fn txn_store(d: &mut Draw, timing: Timing) -> Parts {
    let isolation = *d.pick(&[
        "TwoPhaseLocking",
        "Occ",
        "SnapshotIsolation",
        "ReadCommitted",
    ]);
    let local_clocks = isolation == "SnapshotIsolation" && d.chance(0.5);
    // Local clocks: offsets of at most 20 ms each (so 40 ms apart), and
    // a commit-wait above that plus drift; no clock steps, which no
    // bound survives.
    let (timestamps, allow, kinds) = if local_clocks {
        let wait = d.real(50.0, 80.0);
        (
            format!("LocalClocks(commit_wait: \"{}\")", ms(wait)),
            Allow {
                offset_ms_max: 20.0,
                drift_ppm_max: 200.0,
                ..ASYNC
            },
            without_jumps(ALL_KINDS),
        )
    } else {
        ("Oracle".to_string(), ASYNC, ALL_KINDS.to_vec())
    };
    let model = match isolation {
        "TwoPhaseLocking" | "Occ" => "strict-serializable",
        "SnapshotIsolation" => "strong-snapshot-isolation",
        _ => "read-committed",
    };
    // Lists only: a register history shows its version order only in
    // part once a transaction's outcome is unknown (a fault makes some),
    // and its check then answers "unknown", a run wasted; the registers'
    // own anomalies (lost updates) are caught by the bug-switch tests.
    let pattern = *d.pick(&["Random", "Random", "ReadModifyWrite", "WriteSkew"]);
    let mix = format!(
        "(txn: 1.0), transactions: (kind: ListAppend, mops_max: {}, read_share: {:.2}, pattern: {pattern}, models: [\"{model}\"])",
        d.int(1, 6),
        d.real(0.0, 1.0)
    );
    // WriteSkew reads two keys.
    let workload = environment::workload_with(d, timing, &mix, 2, 8, 8, false);
    let mut params = format!(
        "isolation: {isolation}, deadlock: {}, timestamps: {timestamps}, sharding: {}, request_timeout: \"{}\"",
        d.pick(&["WoundWait", "WaitDie"]),
        d.pick(&["Hash", "Range"]),
        ms(d.real(200.0, 1_500.0))
    );
    // One time in three, each shard is a Raft group of 3 or 5 (its
    // election timeouts drawn too).
    let (shards, replicas) = if d.chance(1.0 / 3.0) {
        let replicas: u64 = *d.pick(&[3, 3, 5]);
        let low = d.real(20.0, 200.0);
        params += &format!(
            ", replicas: {replicas}, raft: (election_timeout: (\"{}\", \"{}\"), pre_vote: {}, check_quorum: {})",
            ms(low),
            ms(low * d.real(1.5, 3.0)),
            d.chance(0.5),
            d.chance(0.5)
        );
        (d.int(1, 3), replicas)
    } else {
        (d.int(1, 5), 1)
    };
    // One time in three, each client coordinates its own transactions.
    if d.chance(1.0 / 3.0) {
        params += ", coordinator: Client";
    }
    Parts {
        servers: shards * replicas,
        names: None,
        params,
        allow,
        workload: Some(workload),
        kinds,
        outages: true,
        checks: vec!["list-append", "invariants"],
    }
}

fn primary_backup(d: &mut Draw, timing: Timing) -> Parts {
    let servers = d.int(2, 9);
    let fallback_ms = d.real(100.0, 60_000.0);
    let (mode, never_degrades) = match d.int(0, 2) {
        0 => ("Sync".to_string(), true),
        1 => (
            format!(
                "SemiSync(acks: {}, fallback_timeout: \"{}\")",
                d.int(1, servers - 1),
                ms(fallback_ms)
            ),
            // A fallback later than the run's end never comes.
            fallback_ms > timing.duration_ms as f64,
        ),
        _ => (
            format!("Async(ship_interval: \"{}\")", ms(d.real(1.0, 100.0))),
            false,
        ),
    };
    let read_from = *d.pick(&["Primary", "Backup", "BackupWithSession"]);
    let heartbeat = d.real(5.0, 50.0);
    let lease = heartbeat * d.real(3.0, 10.0);
    let failover = lease * d.real(1.5, 3.0);
    // What each choice promises: every mode keeps its invariants (the
    // promised writes are Sync's and SemiSync's before a fallback);
    // linearizability needs a mode that never answers a write only its
    // primary holds (a fallback or Async loses answered writes by
    // design) and reads at the primary; sessions need the primary or
    // session positions.
    let mut checks = vec!["invariants"];
    match read_from {
        "Primary" if never_degrades => checks.extend(["linearizability", "session"]),
        "BackupWithSession" if never_degrades => {
            checks.extend(["read-your-writes", "monotonic-reads"])
        }
        _ => {}
    }
    let workload = environment::workload(d, timing, "(read: 0.5, write: 0.5)", 5, 6);
    Parts {
        servers,
                names: None,
        params: format!(
            "mode: {mode}, read_from: {read_from}, heartbeat_interval: \"{}\", failover_timeout: \"{}\", failover_jitter: \"{}\", lease: \"{}\", session_wait: \"{}\", batch_entries_max: {}",
            ms(heartbeat),
            ms(failover),
            ms(d.real(0.0, 200.0)),
            ms(lease),
            ms(d.real(20.0, 300.0)),
            d.int(1, 256)
        ),
        allow: ASYNC,
        workload: Some(workload),
        // The lease assumes bounded drift and no clock steps.
        kinds: without_jumps(ALL_KINDS),
        outages: true,
        checks,
    }
}

fn quorum(d: &mut Draw, timing: Timing) -> Parts {
    let servers = d.int(1, 7);
    let n = d.int(1, servers.min(5));
    let r = d.int(1, n);
    let w = d.int(1, n);
    let sloppy = d.chance(0.3);
    let vv = d.chance(0.5);
    let anti_entropy = if d.chance(0.5) {
        // A whole round over every peer must fit in the quiet at the end.
        format!(
            "Periodic(interval: \"{}\")",
            ms(d.real(20.0, 300.0 / servers as f64))
        )
    } else {
        "Off".to_string()
    };
    let mut checks = vec!["invariants"];
    // A strict quorum (R + W > N, no stand-ins) gives fresh reads when no
    // attempt of a write is stamped after its operation ended: one attempt
    // per operation (scenarios/README.md, "Which checks fail, and why");
    // anti-entropy, convergence once healed and quiet.
    let single_attempt = d.chance(0.5);
    if r + w > n && !sloppy && single_attempt {
        checks.push("fresh-reads");
    }
    if anti_entropy != "Off" {
        checks.push("eventual");
    }
    // Last-writer-wins orders by the coordinators' clocks: a clock behind
    // loses later writes by design (lww-clock-skew.ron), and writes within
    // one `lww_resolution` tie. So perfect clocks and a 1 ns resolution.
    let allow = if vv {
        ASYNC
    } else {
        Allow {
            drift_ppm_max: 0.0,
            ..ASYNC
        }
    };
    let kinds = if vv {
        ALL_KINDS.to_vec()
    } else {
        without_jumps(ALL_KINDS)
    };
    let workload = environment::workload_with(
        d,
        timing,
        "(read: 0.5, write: 0.5)",
        1,
        5,
        6,
        single_attempt,
    );
    Parts {
        servers,
                names: None,
        params: format!(
            "replicas: {n}, read_quorum: {r}, write_quorum: {w}, vnodes: {}, coordinator: {}, read_fanout: {}, write_fanout: {}, versioning: {}, lww_resolution: \"1ns\", read_repair: {}, sloppy_quorum: {sloppy}, handoff_interval: \"{}\", anti_entropy: {anti_entropy}, heartbeat_interval: \"{}\", down_after: \"{}\", request_timeout: \"{}\"",
            d.pick(&[1, 8, 64, 256]),
            d.pick(&["AnyServer", "FirstReplica", "RandomEachOperation"]),
            d.pick(&["All", "Quorum"]),
            d.pick(&["All", "Quorum"]),
            if vv { "VersionVectors" } else { "LastWriterWins" },
            d.pick(&["Off", "Async", "Blocking"]),
            ms(d.real(20.0, 150.0)),
            ms(d.real(10.0, 50.0)),
            ms(d.real(100.0, 300.0)),
            ms(d.real(50.0, 600.0))
        ),
        allow,
        workload: Some(workload),
        kinds,
        outages: true,
        checks,
    }
}

fn commit(d: &mut Draw, protocol: SwarmProtocol, timing: Timing) -> Parts {
    let shards = d.int(2, 6);
    let three_phase = protocol == SwarmProtocol::ThreePhaseCommit;
    let keys = d.int(shards, 30);
    let audits = d.chance(0.5);
    let mix = if audits {
        "(transfer: 0.9, audit: 0.1)"
    } else {
        "(transfer: 1.0)"
    };
    let workload = format!(
        "workload: (clients: {}, arrival: Closed(think: Exponential(mean: \"{}\")), mix: {mix}, keys: {keys}, attempt_timeout: \"{}\", op_timeout: \"3s\", stop_after: \"{}ms\"),",
        d.int(1, 8),
        ms(d.real(2.0, 30.0)),
        ms(d.real(100.0, 400.0)),
        timing.stop_after_ms
    );
    let round = d.real(60.0, 200.0);
    Parts {
        servers: shards + 1,
        names: None,
        params: format!(
            "initial_balance: {}, vote_timeout: \"{}\", decision_timeout: \"{}\", resend_interval: \"{}\", round_timeout: \"{}\", group_commit: {}, cooperative_termination: {}",
            d.int(10, 1_000),
            ms(d.real(60.0, 200.0)),
            ms(d.real(150.0, 500.0)),
            ms(d.real(30.0, 150.0)),
            ms(round),
            d.chance(0.5),
            !three_phase && d.chance(0.5)
        ),
        // 2PC is safe in an asynchronous network (it blocks); 3PC's
        // termination protocol assumes synchrony and crash faults only:
        // a partition splits its outcome by design (3pc-partition.ron).
        allow: if three_phase { SYNC } else { ASYNC },
        workload: Some(workload),
        kinds: if three_phase {
            vec!["Crash", "PowerLoss"]
        } else {
            ALL_KINDS.to_vec()
        },
        outages: !three_phase,
        checks: if audits {
            vec!["invariants", "bank"]
        } else {
            vec!["invariants"]
        },
    }
}
