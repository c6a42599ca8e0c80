//! The cluster's shape: named nodes grouped in regions, and which `LinkConfig`
//! applies to each directed pair of nodes.
//!
//! The topology is a petgraph graph whose vertices are regions and whose edges
//! carry the link defaults between them (a self-loop is the intra-region
//! default, for example LAN inside a region and WAN between regions).
//! Per-node-pair overrides come on top. A dense region-by-region table is built
//! from the graph, so finding a link is O(1) plus one ordered-map lookup when
//! overrides exist; nothing is ever N×N, so 100,000 nodes cost only their names.

use crate::ids::NodeId;
use crate::link::LinkConfig;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::BTreeMap;

/// At most this many regions (they index a dense table).
pub const REGIONS_MAX: usize = 1_024;
/// At most this many nodes (ids are u32; memory is the real bound).
pub const NODES_MAX: usize = 10_000_000;
/// At most this many per-pair link overrides.
pub const LINK_OVERRIDES_MAX: usize = 100_000;

/// A finished topology.
#[derive(Clone, Debug)]
pub struct Topology {
    node_names: Vec<String>,
    node_region: Vec<u16>,
    region_graph: DiGraph<String, usize>,
    region_count: usize,
    /// `region_link[from * region_count + to]` indexes `links`.
    region_link: Vec<u32>,
    links: Vec<LinkConfig>,
    overrides: BTreeMap<(NodeId, NodeId), u32>,
}

impl Topology {
    /// `count` nodes named `n1..=nN` in one region, all links `link`.
    pub fn uniform(count: usize, link: LinkConfig) -> Result<Topology, String> {
        let mut builder = TopologyBuilder::new(link);
        let region = builder.region("default")?;
        for index in 1..=count {
            builder.node(format!("n{index}"), region)?;
        }
        builder.build()
    }

    pub fn node_count(&self) -> usize {
        self.node_names.len()
    }
    pub fn node_name(&self, node: NodeId) -> &str {
        &self.node_names[node.index()]
    }
    pub fn node_names(&self) -> &[String] {
        &self.node_names
    }
    /// Finds a node by name (linear: for configuration, never on the hot path).
    pub fn node_by_name(&self, name: &str) -> Option<NodeId> {
        self.node_names
            .iter()
            .position(|n| n == name)
            .map(|i| NodeId(i as u32))
    }
    pub fn region_of(&self, node: NodeId) -> &str {
        &self.region_graph[NodeIndex::new(self.node_region[node.index()] as usize)]
    }
    pub fn region_names(&self) -> impl Iterator<Item = &str> {
        self.region_graph.node_weights().map(|s| s.as_str())
    }
    /// The region graph, for reports (vertices: regions; edges: index into link configs).
    pub fn region_graph(&self) -> &DiGraph<String, usize> {
        &self.region_graph
    }

    /// The link from `from` to `to`.
    #[inline]
    pub fn link(&self, from: NodeId, to: NodeId) -> &LinkConfig {
        if !self.overrides.is_empty() {
            if let Some(&index) = self.overrides.get(&(from, to)) {
                return &self.links[index as usize];
            }
        }
        // One region, one link: skip reading the destination's region, a
        // cache miss per send in a large cluster.
        if self.region_count == 1 {
            return &self.links[self.region_link[0] as usize];
        }
        let from_region = self.node_region[from.index()] as usize;
        let to_region = self.node_region[to.index()] as usize;
        &self.links[self.region_link[from_region * self.region_count + to_region] as usize]
    }
}

/// Builds a `Topology`; every method checks its input and says what is wrong.
#[derive(Debug)]
pub struct TopologyBuilder {
    default_link: LinkConfig,
    node_names: Vec<String>,
    node_region: Vec<u16>,
    names_seen: BTreeMap<String, NodeId>,
    region_graph: DiGraph<String, usize>,
    links: Vec<LinkConfig>,
    overrides: BTreeMap<(NodeId, NodeId), u32>,
}

/// A region's handle inside a builder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionId(u16);

impl TopologyBuilder {
    /// `default_link` applies to every pair no region edge or override covers.
    pub fn new(default_link: LinkConfig) -> Self {
        TopologyBuilder {
            default_link,
            node_names: Vec::new(),
            node_region: Vec::new(),
            names_seen: BTreeMap::new(),
            region_graph: DiGraph::new(),
            links: Vec::new(),
            overrides: BTreeMap::new(),
        }
    }

    pub fn region(&mut self, name: &str) -> Result<RegionId, String> {
        if self.region_graph.node_count() >= REGIONS_MAX {
            return Err(format!("at most {REGIONS_MAX} regions are supported"));
        }
        if self.region_graph.node_weights().any(|n| n == name) {
            return Err(format!("region {name:?} is declared twice"));
        }
        let index = self.region_graph.add_node(name.to_string());
        Ok(RegionId(index.index() as u16))
    }

    pub fn node(&mut self, name: String, region: RegionId) -> Result<NodeId, String> {
        if self.node_names.len() >= NODES_MAX {
            return Err(format!("at most {NODES_MAX} nodes are supported"));
        }
        if name.is_empty() {
            return Err("a node name must not be empty".into());
        }
        let id = NodeId(self.node_names.len() as u32);
        if self.names_seen.insert(name.clone(), id).is_some() {
            return Err(format!("node {name:?} is declared twice"));
        }
        self.node_names.push(name);
        self.node_region.push(region.0);
        Ok(id)
    }

    /// Sets the link default from region `from` to region `to` (one direction;
    /// `from == to` sets the intra-region default).
    pub fn region_link(
        &mut self,
        from: RegionId,
        to: RegionId,
        link: LinkConfig,
    ) -> Result<(), String> {
        link.validate()?;
        let index = self.links.len();
        self.links.push(link);
        let (a, b) = (
            NodeIndex::new(from.0 as usize),
            NodeIndex::new(to.0 as usize),
        );
        if let Some(edge) = self.region_graph.find_edge(a, b) {
            self.region_graph[edge] = index;
        } else {
            self.region_graph.add_edge(a, b, index);
        }
        Ok(())
    }

    /// Overrides the link from node `from` to node `to` (one direction).
    pub fn link_override(
        &mut self,
        from: NodeId,
        to: NodeId,
        link: LinkConfig,
    ) -> Result<(), String> {
        link.validate()?;
        if self.overrides.len() >= LINK_OVERRIDES_MAX {
            return Err(format!(
                "at most {LINK_OVERRIDES_MAX} link overrides are supported"
            ));
        }
        let index = self.links.len() as u32;
        self.links.push(link);
        self.overrides.insert((from, to), index);
        Ok(())
    }

    pub fn build(mut self) -> Result<Topology, String> {
        self.default_link.validate()?;
        if self.node_names.is_empty() {
            return Err("a cluster needs at least one node".into());
        }
        let region_count = self.region_graph.node_count();
        let default_index = self.links.len() as u32;
        self.links.push(self.default_link);
        let mut region_link = vec![default_index; region_count * region_count];
        for edge in self.region_graph.raw_edges() {
            let (from, to) = (edge.source().index(), edge.target().index());
            region_link[from * region_count + to] = edge.weight as u32;
        }
        Ok(Topology {
            node_names: self.node_names,
            node_region: self.node_region,
            region_graph: self.region_graph,
            region_count,
            region_link,
            links: self.links,
            overrides: self.overrides,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::Latency;

    #[test]
    fn region_defaults_and_overrides_resolve() {
        let lan = LinkConfig::with_latency(Latency::constant_ms(1));
        let wan = LinkConfig::with_latency(Latency::constant_ms(80));
        let special = LinkConfig::with_latency(Latency::constant_ms(500));
        let mut b = TopologyBuilder::new(LinkConfig::default());
        let eu = b.region("eu").unwrap();
        let us = b.region("us").unwrap();
        let a = b.node("a".into(), eu).unwrap();
        let c = b.node("c".into(), eu).unwrap();
        let d = b.node("d".into(), us).unwrap();
        b.region_link(eu, eu, lan.clone()).unwrap();
        b.region_link(eu, us, wan.clone()).unwrap();
        b.link_override(d, a, special.clone()).unwrap();
        let t = b.build().unwrap();
        assert_eq!(t.link(a, c), &lan);
        assert_eq!(t.link(a, d), &wan);
        assert_eq!(t.link(d, a), &special);
        assert_eq!(
            t.link(d, c),
            &LinkConfig::default(),
            "us->eu falls back to the default"
        );
        assert_eq!(t.region_of(d), "us");
    }

    #[test]
    fn duplicate_names_are_rejected() {
        let mut b = TopologyBuilder::new(LinkConfig::default());
        let r = b.region("r").unwrap();
        b.node("x".into(), r).unwrap();
        assert_eq!(
            b.node("x".into(), r).unwrap_err(),
            "node \"x\" is declared twice"
        );
        assert_eq!(b.region("r").unwrap_err(), "region \"r\" is declared twice");
    }
}
