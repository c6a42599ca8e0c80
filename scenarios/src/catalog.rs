//! The names a scenario can use besides protocols: the history checkers
//! (`checks`, `expect`) and the fault kinds of a schedule, with their
//! meanings, for validation and `faultline list`.

/// History checkers a scenario can name in `checks` and `expect`.
pub const CHECKERS: &[(&str, &str)] = &[
    (
        "linearizability",
        "the client history is linearizable (key-value model, per key)",
    ),
    (
        "sequential",
        "the client history is sequentially consistent (each client's order, not real time)",
    ),
    ("session", "the four session guarantees below, per client"),
    (
        "read-your-writes",
        "a client's reads see its own earlier writes",
    ),
    (
        "monotonic-reads",
        "a client never reads an older version than it read before",
    ),
    (
        "monotonic-writes",
        "whoever sees a client's write also sees its earlier writes",
    ),
    (
        "writes-follow-reads",
        "whoever sees a write also sees what its writer had read before it",
    ),
    (
        "fresh-reads",
        "no read misses a write that completed before it began (a regular register; what a strict quorum with R + W > N gives); run only when named",
    ),
    (
        "eventual",
        "after faults heal and the system is quiet, live replicas hold the same data",
    ),
    (
        "list-append",
        "transactions of appends and list reads (mix: (txn: ..), transactions: (kind: ListAppend)) hold the models named in workload.transactions.models (default strict-serializable); Elle's anomalies, explained",
    ),
    (
        "rw-register",
        "transactions of register writes and reads (transactions: (kind: RwRegister)) hold the models named; the version order where it can be inferred",
    ),
    (
        "bank",
        "every audit (mix: (transfer: .., audit: ..)) reads the money the accounts started with, and no balance is negative (Jepsen's bank)",
    ),
    (
        "mutex",
        "a lock's own acquires and releases, as its clients saw them, are linearizable against a lock (Knossos's mutex model): no two clients held it at once; the run writes them as mutex.edn for `faultline check --model mutex`",
    ),
    (
        "invariants",
        "every invariant of the protocol (each can also be named alone)",
    ),
    (
        "panic",
        "no protocol handler panicked (always on: a panic ends the run as a failure)",
    ),
];

/// The fault kinds a schedule can use.
pub const FAULT_KINDS: &[(&str, &str)] = &[
    (
        "Crash(node)",
        "process crash: volatile state lost, storage kept",
    ),
    (
        "PowerLoss(node)",
        "machine crash: also loses writes not yet synced",
    ),
    (
        "Restart(node)",
        "start a crashed node; it recovers from storage",
    ),
    (
        "Pause(node, duration)",
        "stop-the-world pause; inputs wait, timers fire late",
    ),
    ("Resume(node)", "end a pause early"),
    (
        "Partition([[a, b], [c]])",
        "symmetric groups; unlisted nodes form one more group",
    ),
    (
        "OneWay(from: [..], to: [..])",
        "messages from -> to are dropped",
    ),
    ("Isolate(node)", "the node talks to no one"),
    (
        "Bridge(left: [..], right: [..], bridge: node)",
        "sides cut apart, the bridge sees both",
    ),
    ("Heal", "remove every partition"),
    (
        "Clog(from, to)",
        "hold messages on a link (\"*\" = any node) until Release",
    ),
    ("Release(from, to)", "deliver what a clog held"),
    ("ClockJump(node, \"-300ms\")", "step a node's clock"),
    (
        "DiskSlow(node, 10.0, \"2s\")",
        "a server's syncs take 10 times as long for 2 s",
    ),
    (
        "DiskStall(node, \"500ms\")",
        "no sync of a server completes for 500 ms (a hung fsync)",
    ),
    ("SetLoss(p)", "every link loses messages with probability p"),
    ("RestoreLoss", "links go back to their own loss"),
];
