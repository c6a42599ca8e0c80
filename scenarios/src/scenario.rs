//! A scenario: one experiment, as a `.ron` file writes it. Its parts are in
//! `schema.rs`; its protocol is any registered plug-in (`protocol.rs`).
//!
//! Architecture Invariant: this is the only file of the schema that knows
//! protocols, so the parts (and the engine drive, which reads them through
//! a `Plan`) import nothing that leads back here.

use crate::duration::Dur;
use crate::names::{server_names, CLIENT_PREFIX};
use crate::protocol::ProtocolSpec;
use crate::schema::*;
use serde::{Deserialize, Serialize};

/// One experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// What the scenario teaches, in a sentence or three: the reports show
    /// it at the top, above the charts that bear it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson: Option<String>,
    /// The seed `run` uses unless `--seed` overrides it.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The seeds `sweep` uses unless `--seeds` overrides them, as "start..end".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeds: Option<String>,
    /// Simulated time the run lasts.
    pub duration: Dur,
    pub nodes: Nodes,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<RegionSpec>,
    #[serde(default)]
    pub network: NetworkSpec,
    #[serde(default)]
    pub clocks: ClocksSpec,
    #[serde(default)]
    pub disks: DisksSpec,
    pub protocol: ProtocolSpec,
    #[serde(default)]
    pub workload: WorkloadSpec,
    #[serde(default)]
    pub faults: FaultsSpec,
    /// Checker and invariant names; empty means every one that applies.
    #[serde(default)]
    pub checks: Vec<String>,
    #[serde(default)]
    pub outputs: OutputsSpec,
    /// What the run may use; reaching a limit ends it as inconclusive.
    #[serde(default)]
    pub limits: LimitsSpec,
    #[serde(default)]
    pub expect: Expect,
    /// Parameter sweep axes: each lists values for one field path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sweep: Vec<SweepAxis>,
}

impl Scenario {
    /// A scenario with everything else at its default: no clients, no
    /// faults, 1-10 ms links, perfect clocks. Set fields directly to change it.
    pub fn new(name: &str, duration: Dur, nodes: Nodes, protocol: ProtocolSpec) -> Scenario {
        Scenario {
            name: name.to_string(),
            description: String::new(),
            lesson: None,
            seed: default_seed(),
            seeds: None,
            duration,
            nodes,
            regions: Vec::new(),
            network: NetworkSpec::default(),
            clocks: ClocksSpec::default(),
            disks: DisksSpec::default(),
            protocol,
            workload: WorkloadSpec::default(),
            faults: FaultsSpec::default(),
            checks: Vec::new(),
            outputs: OutputsSpec::default(),
            limits: LimitsSpec::default(),
            expect: Expect::default(),
            sweep: Vec::new(),
        }
    }

    /// What the protocol sees of the scenario besides its params.
    pub fn protocol_setup(&self) -> protocols::plugin::Setup {
        protocols::plugin::Setup::new(
            server_names(&self.nodes).len(),
            self.workload.keys,
            self.limits.memory.0,
        )
    }

    /// What theory predicts for the protocol's sample metrics here (see
    /// `Plugin::theory`).
    pub fn theory(&self) -> Vec<protocols::plugin::Theory> {
        self.protocol.theory(&self.protocol_setup())
    }
}

fn default_seed() -> u64 {
    1
}

/// Every node's name in id order: servers, then clients.
pub fn all_node_names(scenario: &Scenario) -> Vec<String> {
    let mut names = server_names(&scenario.nodes);
    let clients = scenario
        .workload
        .clients
        .min(protocols::workload::CLIENTS_MAX);
    names.extend((1..=clients).map(|i| format!("{CLIENT_PREFIX}{i}")));
    names
}
