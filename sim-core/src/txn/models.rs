//! Consistency models, the anomalies each proscribes, and which models a
//! history is still consistent with.
//!
//! The mapping follows the published definitions:
//! - Adya, "Weak Consistency: A Generalized Theory and Optimistic
//!   Implementations for Distributed Transactions" (MIT, 1999): PL-1
//!   (read-uncommitted) proscribes G0; PL-2 (read-committed) G1a, G1b and
//!   G1c; PL-SI (snapshot isolation) G1 and G-single (and, as Elle reads
//!   generalized SI, G-nonadjacent); PL-3 (serializable) G1 and G2.
//! - Elle (Kingsbury & Alvaro, VLDB 2020; `elle.consistency-model`): the
//!   `-process` cycles for strong session serializability (Daudjee &
//!   Salem) and the `-realtime` ones for strict serializability; dirty
//!   updates, duplicate elements and incompatible orders.
//! - Cerone, Bernardi & Gotsman, "A Framework for Transactional Consistency
//!   Models with Atomic Visibility" (CONCUR 2015): read atomic and causal
//!   consistency; checked as Biswas & Enea (OOPSLA 2019) state them, with
//!   a client's transactions in session order (`saturation`).
//!
//! - Berenson et al., "A Critique of ANSI SQL Isolation Levels" (SIGMOD
//!   1995): snapshot isolation forbids lost updates (P4), which a
//!   register history shows as two committed read-modify-writes of one
//!   version (`lost-update`).
//! - Daudjee & Salem, "Lazy Database Replication with Snapshot Isolation"
//!   (VLDB 2006): strong snapshot isolation, whose snapshots respect real
//!   time (the `-realtime` cycles that snapshot isolation forbids).
//!
//! Implications (stronger first): strict-serializable ⇒
//! strong-session-serializable ⇒ serializable ⇒ snapshot-isolation ⇒
//! read-committed ⇒ read-uncommitted, strong-session-serializable ⇒
//! causal ⇒ read-atomic ⇒ read-committed, and strict-serializable ⇒
//! strong-snapshot-isolation ⇒ snapshot-isolation. A history that shows an anomaly
//! rules out every model that proscribes it and every model stronger than
//! those.

use serde::Serialize;

/// The models faultline judges transactional histories against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    ReadUncommitted,
    ReadCommitted,
    ReadAtomic,
    Causal,
    SnapshotIsolation,
    Serializable,
    StrongSessionSerializable,
    StrictSerializable,
    /// Snapshot isolation whose snapshots respect real time: a transaction
    /// sees every one that committed before it began (Daudjee & Salem's
    /// strong SI; what Spanner's commit-wait buys snapshot reads).
    StrongSnapshotIsolation,
}

pub const ALL_MODELS: [Model; 9] = [
    Model::ReadUncommitted,
    Model::ReadCommitted,
    Model::ReadAtomic,
    Model::Causal,
    Model::SnapshotIsolation,
    Model::StrongSnapshotIsolation,
    Model::Serializable,
    Model::StrongSessionSerializable,
    Model::StrictSerializable,
];

impl Model {
    pub fn name(self) -> &'static str {
        match self {
            Model::ReadUncommitted => "read-uncommitted",
            Model::ReadCommitted => "read-committed",
            Model::ReadAtomic => "read-atomic",
            Model::Causal => "causal",
            Model::SnapshotIsolation => "snapshot-isolation",
            Model::Serializable => "serializable",
            Model::StrongSessionSerializable => "strong-session-serializable",
            Model::StrictSerializable => "strict-serializable",
            Model::StrongSnapshotIsolation => "strong-snapshot-isolation",
        }
    }

    pub fn parse(name: &str) -> Option<Model> {
        ALL_MODELS.into_iter().find(|m| m.name() == name)
    }

    /// The models this one directly implies.
    pub fn implies(self) -> &'static [Model] {
        match self {
            Model::ReadUncommitted => &[],
            Model::ReadCommitted => &[Model::ReadUncommitted],
            Model::ReadAtomic => &[Model::ReadCommitted],
            Model::Causal => &[Model::ReadAtomic],
            Model::SnapshotIsolation => &[Model::ReadCommitted],
            Model::Serializable => &[Model::SnapshotIsolation],
            Model::StrongSessionSerializable => &[Model::Serializable, Model::Causal],
            Model::StrictSerializable => &[
                Model::StrongSessionSerializable,
                Model::StrongSnapshotIsolation,
            ],
            Model::StrongSnapshotIsolation => &[Model::SnapshotIsolation],
        }
    }

    /// The anomalies this model adds to those of the models it implies.
    pub fn proscribes(self) -> &'static [&'static str] {
        match self {
            Model::ReadUncommitted => &[
                "G0",
                "duplicate-elements",
                "incompatible-order",
                "garbage-read",
                "future-read",
            ],
            Model::ReadCommitted => &[
                "G1a",
                "G1b",
                "G1c",
                "dirty-update",
                "read-committed-violation",
            ],
            Model::ReadAtomic => &["internal", "read-atomic-violation"],
            Model::Causal => &["causal-violation"],
            Model::SnapshotIsolation => &["internal", "G-single", "G-nonadjacent", "lost-update"],
            Model::Serializable => &["G2-item"],
            Model::StrongSessionSerializable => &[
                "G0-process",
                "G1c-process",
                "G-single-process",
                "G-nonadjacent-process",
                "G2-item-process",
            ],
            Model::StrictSerializable => &[
                "G0-realtime",
                "G1c-realtime",
                "G-single-realtime",
                "G-nonadjacent-realtime",
                "G2-item-realtime",
            ],
            Model::StrongSnapshotIsolation => &[
                "G0-realtime",
                "G1c-realtime",
                "G-single-realtime",
                "G-nonadjacent-realtime",
            ],
        }
    }

    /// Every model this one implies, itself included.
    pub fn closure(self) -> Vec<Model> {
        let mut out = vec![self];
        let mut i = 0;
        while i < out.len() {
            for &m in out[i].implies() {
                if !out.contains(&m) {
                    out.push(m);
                }
            }
            i += 1;
        }
        out.sort();
        out
    }

    /// Every anomaly this model forbids, through the models it implies.
    pub fn all_proscribed(self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = self
            .closure()
            .into_iter()
            .flat_map(|m| m.proscribes().iter().copied())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Where a history stands with one model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Consistent,
    RuledOut,
    Unknown,
}

/// Each model's standing, given the anomalies found and those the budget
/// left undecided.
pub fn standings(found: &[String], undecided: &[String]) -> Vec<(Model, Standing)> {
    ALL_MODELS
        .iter()
        .map(|&model| {
            let forbidden = model.all_proscribed();
            let standing = if found.iter().any(|a| forbidden.contains(&a.as_str())) {
                Standing::RuledOut
            } else if undecided.iter().any(|a| forbidden.contains(&a.as_str())) {
                Standing::Unknown
            } else {
                Standing::Consistent
            };
            (model, standing)
        })
        .collect()
}

/// Of the consistent models, those no other consistent model implies.
pub fn strongest(consistent: &[Model]) -> Vec<Model> {
    consistent
        .iter()
        .copied()
        .filter(|&m| {
            !consistent
                .iter()
                .any(|&other| other != m && other.closure().contains(&m))
        })
        .collect()
}

/// For one anomaly, the weakest models it rules out (the others it rules
/// out are stronger than these).
pub fn weakest_ruled_out(anomaly: &str) -> Vec<Model> {
    let out: Vec<Model> = ALL_MODELS
        .iter()
        .copied()
        .filter(|m| m.all_proscribed().contains(&anomaly))
        .collect();
    out.iter()
        .copied()
        .filter(|&m| {
            !out.iter()
                .any(|&other| other != m && m.closure().contains(&other))
        })
        .collect()
}
