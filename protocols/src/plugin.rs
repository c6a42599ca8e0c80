//! The protocol plug-in boundary: everything a scenario needs to know of a
//! protocol, in one trait that each protocol's folder implements.
//!
//! A protocol gives its name and summary, its params as one serde type
//! (with `Default` for every field left out, and doc comments that
//! `faultline list` reads through its JSON schema), how to check those
//! params, what the seed decides in them, which clients it serves (and so
//! which history checks apply), and how to build a server. Its invariant
//! monitor is its `Service::Monitor`.
//!
//! The scenario layer registers the built-in protocols in one list
//! (`scenarios::registry`); a protocol in a user's own crate implements
//! this trait and registers with `scenarios::register::<P>()`.
//!
//! Why a trait of associated types and functions, with no `self`: a
//! protocol is a kind, not a value; its params are the value, and the
//! scenario layer erases `Plugin` behind its own object to store params of
//! any protocol in one `Scenario`.

use crate::client::ClientRouting;
use crate::cluster::Service;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sim_core::NodeId;
use std::fmt::Debug;

/// What a protocol's clients ask for. It decides which workload mixes a
/// scenario may use and which history checks apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Clients {
    /// No clients: the protocol runs among its servers (elections, pings).
    None,
    /// Reads, writes, compare-and-sets and appends on keys: the history
    /// checks (linearizability, sequential, session, eventual) apply.
    Registers,
    /// Bank transfers between accounts (the workload's keys).
    Transfers,
    /// Orders of items (the workload's keys), and reads of their stock.
    Orders,
}

/// What a protocol offers a scenario, in one value (`Plugin::CAPABILITIES`):
/// the scenario layer reads it for validation, listing and reports, so a
/// new capability is one field here, with a default, and the plug-ins that
/// have it say so. Built with `Capabilities::serving` and the `with_*`
/// methods, never field by field: the struct is `#[non_exhaustive]`, so a
/// new field breaks no plug-in, in this tree or out of it.
///
/// What depends on the params (client routing, theory, a bank's total)
/// stays a `Plugin` function with a default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// What its clients ask for.
    pub clients: Clients,
    /// Whether a server can lead, so that faults may name "@leader".
    pub has_leader: bool,
    /// Whether it serves compare-and-set and append (with `Clients::Registers`).
    /// Both read a key's current value and write after it, which needs one
    /// order of the key's writes; a leaderless store has none, so it serves
    /// reads and blind writes only, and a scenario may not mix in the others.
    pub conditional_writes: bool,
    /// Whether it serves transactions of micro-ops (`KvOp::Txn`), applying
    /// each all at once through one log (with `Clients::Registers`). The
    /// list-append and rw-register checks then judge the history.
    pub transactions: bool,
    /// Two of its sample metrics whose trade-off a sweep report draws, one
    /// point per group: (x, drawn by its mean over runs; y, drawn by its
    /// p99). Primary-backup: lost acknowledged writes against commit latency.
    pub tradeoff: Option<(&'static str, &'static str)>,
    /// Whether its monitor records a lock's acquires and releases
    /// (`ProtocolMetrics::mutex_history`): the `mutex` check then judges
    /// them against a lock, and a run writes them as `mutex.edn`.
    pub lock_history: bool,
}

impl Capabilities {
    /// A protocol whose clients ask for `clients`, with no leader, serving
    /// conditional writes (where it serves registers) and no transactions.
    pub const fn serving(clients: Clients) -> Capabilities {
        Capabilities {
            clients,
            has_leader: false,
            conditional_writes: true,
            transactions: false,
            tradeoff: None,
            lock_history: false,
        }
    }

    /// A server leads (or coordinates), so faults may name "@leader".
    pub const fn with_leader(self) -> Capabilities {
        Capabilities {
            has_leader: true,
            ..self
        }
    }

    /// Reads and blind writes only (see `conditional_writes`).
    pub const fn without_conditional_writes(self) -> Capabilities {
        Capabilities {
            conditional_writes: false,
            ..self
        }
    }

    /// Transactions of micro-ops (see `transactions`).
    pub const fn with_transactions(self) -> Capabilities {
        Capabilities {
            transactions: true,
            ..self
        }
    }

    /// A lock's own history of acquires and releases (see `lock_history`).
    pub const fn with_lock_history(self) -> Capabilities {
        Capabilities {
            lock_history: true,
            ..self
        }
    }

    /// The trade-off a sweep report draws (see `tradeoff`).
    pub const fn with_tradeoff(self, x: &'static str, y: &'static str) -> Capabilities {
        Capabilities {
            tradeoff: Some((x, y)),
            ..self
        }
    }
}

/// The parts of a scenario a protocol may need besides its params.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Setup {
    /// Servers in the cluster (node ids 0..servers).
    pub servers: usize,
    /// The workload's keys (accounts, items).
    pub keys: u32,
    /// The run's memory budget in bytes (`limits.memory`).
    pub memory_bytes: u64,
}

impl Setup {
    pub fn new(servers: usize, keys: u32, memory_bytes: u64) -> Setup {
        Setup {
            servers,
            keys,
            memory_bytes,
        }
    }
}

/// What theory predicts for one of a protocol's sample metrics in one
/// setting: a sweep report draws it beside the measured means, so a
/// reader sees how far a run is from the textbook.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Theory {
    /// The sample metric it predicts (`election_messages`).
    pub metric: String,
    /// The formula and its assumptions, as the chart's legend shows it.
    pub label: String,
    /// The predicted mean of the metric.
    pub value: f64,
}

impl Theory {
    pub fn new(metric: &str, label: String, value: f64) -> Theory {
        Theory {
            metric: metric.to_string(),
            label,
            value,
        }
    }
}

/// Why a protocol's params do not fit the scenario: a message that says
/// what to change, at a param (`protocol.Raft.election_timeout`) or at a
/// path of the scenario itself (`nodes`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Invalid {
    pub at: InvalidAt,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvalidAt {
    /// A field of the params, as the scenario writes it.
    Param(String),
    /// A path of the scenario outside the params (`nodes`).
    Scenario(String),
}

impl Invalid {
    /// A param's problem, from the protocols' "field: what is wrong" text.
    pub fn from_text(text: &str) -> Invalid {
        let (field, message) = text.split_once(": ").unwrap_or(("", text));
        Invalid {
            at: InvalidAt::Param(field.to_string()),
            message: message.to_string(),
        }
    }

    /// A param's problem: `field` as the scenario writes it, and what to change.
    pub fn param(field: &str, message: &str) -> Invalid {
        Invalid {
            at: InvalidAt::Param(field.to_string()),
            message: message.to_string(),
        }
    }

    /// A problem with the scenario's server count (`nodes`).
    pub fn nodes(message: String) -> Invalid {
        Invalid {
            at: InvalidAt::Scenario("nodes".to_string()),
            message,
        }
    }
}

/// A protocol, as a scenario names it: `protocol: Raft(read_mode: Lease)`.
pub trait Plugin: 'static {
    /// The name a scenario writes (`Raft`); unique among registered protocols.
    const NAME: &'static str;
    /// One line for `faultline list`.
    const SUMMARY: &'static str;
    /// What it offers a scenario (`Capabilities`).
    const CAPABILITIES: Capabilities;

    /// The params as a scenario writes them. Every field has a default
    /// (`#[serde(default)]` on the struct), unknown fields are refused
    /// (`deny_unknown_fields`), and each field's doc comment is what
    /// `faultline list` prints; a doc comment that starts "BUG SWITCH"
    /// marks a known-broken variant.
    type Params: Serialize
        + DeserializeOwned
        + schemars::JsonSchema
        + Default
        + Clone
        + Debug
        + PartialEq
        + Send
        + Sync
        + std::panic::UnwindSafe
        + std::panic::RefUnwindSafe
        + 'static;
    type Service: Service;

    /// Checks the params against the scenario; the message says how to fix them.
    fn validate(params: &Self::Params, setup: &Setup) -> Result<(), Invalid>;

    /// Writes out what the seed decides in the params (random ids, say),
    /// so that the resolved scenario runs the same without the seed's help.
    /// Draw from a stream named after the protocol (`sim_core::rng::stream`).
    fn resolve(params: &mut Self::Params, setup: &Setup, seed: u64) {
        let _ = (params, setup, seed);
    }

    /// The params for the same cluster without server `index` (0-based), as
    /// a shrinker proposes: drop whatever is per server (an explicit id,
    /// say). Nothing by default; the result is validated like any input.
    fn without_server(params: &mut Self::Params, index: usize) {
        let _ = (params, index);
    }

    /// What theory predicts for this protocol's sample metrics with these
    /// (valid) params; nothing by default. Only predictions that hold for
    /// the params alone belong here: a sweep report draws them against
    /// every group, whatever its faults.
    fn theory(params: &Self::Params, setup: &Setup) -> Vec<Theory> {
        let _ = (params, setup);
        Vec::new()
    }

    /// For a bank (`Clients::Transfers`): the money in all accounts at the
    /// start, which every audit must read (the `bank` check).
    fn bank_total(params: &Self::Params, setup: &Setup) -> Option<i64> {
        let _ = (params, setup);
        None
    }

    /// How this protocol's clients address reads and whether they carry a
    /// session (`ClientRouting`); by default every operation goes to the
    /// server the client believes leads.
    fn client_routing(params: &Self::Params) -> ClientRouting {
        let _ = params;
        ClientRouting::default()
    }

    /// What makes each server of a run (resolved, valid params).
    fn servers(params: &Self::Params, setup: &Setup) -> Box<dyn FnMut(NodeId) -> Self::Service>;

    /// What makes each client node's agent, for a protocol whose clients
    /// do part of its work themselves (`cluster.rs`: TxnStore's clients
    /// that coordinate their own transactions); none by default.
    fn client_agents(
        params: &Self::Params,
        setup: &Setup,
    ) -> Option<crate::cluster::MakeAgent<Self::Service>> {
        let _ = (params, setup);
        None
    }
}
