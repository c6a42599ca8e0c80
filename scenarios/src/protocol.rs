//! A scenario's protocol: any plug-in (`protocols::plugin::Plugin`) with its
//! params, behind one type that a `Scenario` can hold, compare, clone,
//! write out and run.
//!
//! `Registered<P>` turns a typed plug-in into a `ProtocolEntry` object;
//! `ProtocolSpec` pairs an entry with that protocol's params. The list of
//! registered protocols, and reading a spec by name, are in `registry.rs`.
//!
//! Why an object here and generics below: a scenario names its protocol at
//! run time, but the engine drive is generic over the protocol's service,
//! so that the event loop is monomorphised (ARCHITECTURE.md, "speed").
//! `Registered<P>::run` is where the one becomes the other.

use crate::drive::{drive, Driven};
use crate::outcome::RunWatcher;
use crate::plan::Plan;
use crate::run_error::RunError;
use protocols::cluster::Service;
use protocols::invariant::Monitor;
use protocols::plugin::{Capabilities, Clients, Invalid, Plugin, Setup, Theory};
use serde::{Serialize, Serializer};
use sim_core::SimConfig;
use std::any::Any;
use std::fmt;
use std::marker::PhantomData;

/// What the scenario layer asks of a registered protocol, for any protocol.
pub trait ProtocolEntry: Send + Sync {
    fn name(&self) -> &'static str;
    fn summary(&self) -> &'static str;
    /// What it offers a scenario (`Plugin::CAPABILITIES`).
    fn capabilities(&self) -> Capabilities;
    fn clients(&self) -> Clients {
        self.capabilities().clients
    }
    fn has_leader(&self) -> bool {
        self.capabilities().has_leader
    }
    /// The kinds of message its runs send, for per-kind link latencies:
    /// "Request" and "Response" between clients and servers, then its
    /// service's own (`Service::MESSAGE_KINDS`).
    fn message_kinds(&self) -> Vec<&'static str>;
    /// The invariants its monitor checks as the run goes.
    fn invariants(&self) -> &'static [&'static str];
    /// Its params with every field at its default.
    fn default_spec(&self) -> ProtocolSpec;
    /// The params' JSON schema, with each field's doc comment (for `list`).
    fn schema(&self) -> schemars::Schema;
    /// Reads the params (the part inside `Raft(...)`).
    fn deserialize(
        &self,
        deserializer: &mut dyn erased_serde::Deserializer<'_>,
    ) -> Result<ProtocolSpec, erased_serde::Error>;
}

/// A typed plug-in as an entry. A zero-sized value: `Registered::<P>::ENTRY`.
pub struct Registered<P>(PhantomData<fn() -> P>);

impl<P: Plugin> Registered<P> {
    pub const ENTRY: &'static Registered<P> = &Registered(PhantomData);
}

impl<P: Plugin> ProtocolEntry for Registered<P> {
    fn name(&self) -> &'static str {
        P::NAME
    }
    fn summary(&self) -> &'static str {
        P::SUMMARY
    }
    fn capabilities(&self) -> Capabilities {
        P::CAPABILITIES
    }
    fn message_kinds(&self) -> Vec<&'static str> {
        <protocols::cluster::Cluster<P::Service> as sim_core::Protocol>::message_kinds()
    }
    fn invariants(&self) -> &'static [&'static str] {
        <<P::Service as Service>::Monitor as Monitor<<P::Service as Service>::Event>>::INVARIANTS
    }
    fn default_spec(&self) -> ProtocolSpec {
        ProtocolSpec::new::<P>(P::Params::default())
    }
    fn schema(&self) -> schemars::Schema {
        schemars::schema_for!(P::Params)
    }
    fn deserialize(
        &self,
        deserializer: &mut dyn erased_serde::Deserializer<'_>,
    ) -> Result<ProtocolSpec, erased_serde::Error> {
        erased_serde::deserialize::<P::Params>(deserializer).map(ProtocolSpec::new::<P>)
    }
}

/// One protocol's params, erased (see `WithParams`).
trait Configured: Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe {
    fn entry(&self) -> &'static dyn ProtocolEntry;
    fn params(&self) -> &dyn erased_serde::Serialize;
    fn params_debug(&self) -> &dyn fmt::Debug;
    fn as_any(&self) -> &dyn Any;
    fn clone_box(&self) -> Box<dyn Configured>;
    fn same(&self, other: &dyn Configured) -> bool;
    fn validate(&self, setup: &Setup) -> Result<(), Invalid>;
    fn resolve(&mut self, setup: &Setup, seed: u64);
    fn without_server(&mut self, index: usize);
    fn theory(&self, setup: &Setup) -> Vec<Theory>;
    fn bank_total(&self, setup: &Setup) -> Option<i64>;
    fn run(
        &self,
        plan: &Plan<'_>,
        config: SimConfig,
        watcher: &mut dyn RunWatcher,
    ) -> Result<Driven, RunError>;
}

struct WithParams<P: Plugin> {
    params: P::Params,
}

impl<P: Plugin> Configured for WithParams<P> {
    fn entry(&self) -> &'static dyn ProtocolEntry {
        Registered::<P>::ENTRY
    }
    fn params(&self) -> &dyn erased_serde::Serialize {
        &self.params
    }
    fn params_debug(&self) -> &dyn fmt::Debug {
        &self.params
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn clone_box(&self) -> Box<dyn Configured> {
        Box::new(WithParams::<P> {
            params: self.params.clone(),
        })
    }
    fn same(&self, other: &dyn Configured) -> bool {
        other
            .as_any()
            .downcast_ref::<WithParams<P>>()
            .is_some_and(|other| other.params == self.params)
    }
    fn validate(&self, setup: &Setup) -> Result<(), Invalid> {
        P::validate(&self.params, setup)
    }
    fn resolve(&mut self, setup: &Setup, seed: u64) {
        P::resolve(&mut self.params, setup, seed)
    }
    fn without_server(&mut self, index: usize) {
        P::without_server(&mut self.params, index)
    }
    fn theory(&self, setup: &Setup) -> Vec<Theory> {
        P::theory(&self.params, setup)
    }
    fn bank_total(&self, setup: &Setup) -> Option<i64> {
        P::bank_total(&self.params, setup)
    }
    fn run(
        &self,
        plan: &Plan<'_>,
        config: SimConfig,
        watcher: &mut dyn RunWatcher,
    ) -> Result<Driven, RunError> {
        let servers = P::servers(&self.params, &plan.setup);
        let agents = P::client_agents(&self.params, &plan.setup);
        let routing = P::client_routing(&self.params);
        drive::<P::Service>(plan, config, watcher, servers, agents, routing)
    }
}

/// A protocol and its params: `Raft(read_mode: ReadIndex)` in a scenario.
pub struct ProtocolSpec(Box<dyn Configured>);

impl ProtocolSpec {
    /// Protocol `P` with `params`.
    pub fn new<P: Plugin>(params: P::Params) -> ProtocolSpec {
        ProtocolSpec(Box::new(WithParams::<P> { params }))
    }

    /// The registered protocol this spec runs.
    pub fn entry(&self) -> &'static dyn ProtocolEntry {
        self.0.entry()
    }

    pub fn name(&self) -> &'static str {
        self.entry().name()
    }

    /// The params, if this is protocol `P`.
    pub fn params<P: Plugin>(&self) -> Option<&P::Params> {
        let with = self.0.as_any().downcast_ref::<WithParams<P>>()?;
        Some(&with.params)
    }

    /// What the protocol offers a scenario.
    pub fn capabilities(&self) -> Capabilities {
        self.entry().capabilities()
    }

    pub fn clients(&self) -> Clients {
        self.capabilities().clients
    }

    /// Whether clients read and write registers, so that the history
    /// checkers (linearizability, session, convergence) apply.
    pub fn serves_registers(&self) -> bool {
        self.clients() == Clients::Registers
    }

    /// Whether clients send bank transfers (and nothing else).
    pub fn serves_transfers(&self) -> bool {
        self.clients() == Clients::Transfers
    }

    /// Whether clients place orders (and read stock).
    pub fn serves_orders(&self) -> bool {
        self.clients() == Clients::Orders
    }

    pub fn serves_clients(&self) -> bool {
        self.clients() != Clients::None
    }

    /// Whether clients may compare-and-set and append (`Capabilities::conditional_writes`).
    pub fn serves_conditional_writes(&self) -> bool {
        self.capabilities().conditional_writes
    }

    /// Whether it serves transactions of micro-ops (`mix: (txn: 1.0)`).
    pub fn serves_transactions(&self) -> bool {
        self.capabilities().transactions
    }

    /// Whether its monitor records a lock's acquires and releases (the
    /// `mutex` check).
    pub fn has_lock_history(&self) -> bool {
        self.capabilities().lock_history
    }

    /// Whether the protocol elects a leader, so faults may name "@leader".
    pub fn has_leader(&self) -> bool {
        self.capabilities().has_leader
    }

    /// The invariant names this protocol checks as the run goes.
    pub fn invariants(&self) -> &'static [&'static str] {
        self.entry().invariants()
    }

    pub fn validate(&self, setup: &Setup) -> Result<(), Invalid> {
        self.0.validate(setup)
    }

    /// What theory predicts for the protocol's sample metrics.
    pub fn theory(&self, setup: &Setup) -> Vec<Theory> {
        self.0.theory(setup)
    }

    /// A bank's total at the start (`Plugin::bank_total`).
    pub fn bank_total(&self, setup: &Setup) -> Option<i64> {
        self.0.bank_total(setup)
    }

    /// Writes out what `seed` decides in the params.
    pub fn resolve(&mut self, setup: &Setup, seed: u64) {
        self.0.resolve(setup, seed)
    }

    /// The params for the cluster without server `index` (see
    /// `Plugin::without_server`).
    pub fn without_server(&mut self, index: usize) {
        self.0.without_server(index)
    }

    /// Runs the engine through `plan` with this protocol's servers.
    pub(crate) fn drive(
        &self,
        plan: &Plan<'_>,
        config: SimConfig,
        watcher: &mut dyn RunWatcher,
    ) -> Result<Driven, RunError> {
        self.0.run(plan, config, watcher)
    }
}

impl Clone for ProtocolSpec {
    fn clone(&self) -> Self {
        ProtocolSpec(self.0.clone_box())
    }
}

impl PartialEq for ProtocolSpec {
    fn eq(&self, other: &Self) -> bool {
        self.0.same(other.0.as_ref())
    }
}

impl fmt::Debug for ProtocolSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple(self.name())
            .field(self.0.params_debug())
            .finish()
    }
}

/// Written as an enum's newtype variant, `Raft(...)`, as a derived enum of
/// all protocols would be; `registry.rs` reads it back.
impl Serialize for ProtocolSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_variant("ProtocolSpec", 0, self.name(), self.0.params())
    }
}
