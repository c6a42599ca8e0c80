//! The registered protocols: the built-in list (one line each), the ones a
//! user's crate adds with `register`, and reading `protocol: Name(...)` by
//! name, with "did you mean" for a misspelled one.
//!
//! Adding a protocol: implement `protocols::plugin::Plugin` in its folder
//! and add one line to `BUILTIN` (ARCHITECTURE.md, "How to add a protocol").

use crate::protocol::{ProtocolEntry, ProtocolSpec, Registered};
use protocols::plugin::Plugin;
use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, VariantAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::sync::Mutex;

/// The built-in protocols, in the order `faultline list` shows them.
static BUILTIN: &[&dyn ProtocolEntry] = &[
    Registered::<protocols::pingpong::PingPongPlugin>::ENTRY,
    Registered::<protocols::kv_single::KvSinglePlugin>::ENTRY,
    Registered::<protocols::raft::plugin::RaftPlugin>::ENTRY,
    Registered::<protocols::ring::plugin::RingPlugin>::ENTRY,
    Registered::<protocols::bully::plugin::BullyPlugin>::ENTRY,
    Registered::<protocols::commit::plugin::TwoPhasePlugin>::ENTRY,
    Registered::<protocols::commit::plugin::ThreePhasePlugin>::ENTRY,
    Registered::<protocols::saga::plugin::SagaPlugin>::ENTRY,
    Registered::<protocols::primary_backup::plugin::PrimaryBackupPlugin>::ENTRY,
    Registered::<protocols::quorum::plugin::QuorumPlugin>::ENTRY,
    Registered::<protocols::txn_store::plugin::TxnStorePlugin>::ENTRY,
    Registered::<protocols::lock::plugin::LockPlugin>::ENTRY,
    Registered::<protocols::multi_leader::plugin::MultiLeaderPlugin>::ENTRY,
];

/// Protocols registered at run time by a user's crate, and the names of
/// all (built in first) as serde's error messages want them: a leaked
/// slice, rebuilt at each registration (a handful per process).
struct Added {
    entries: Vec<&'static dyn ProtocolEntry>,
    names: Option<&'static [&'static str]>,
}

static ADDED: Mutex<Added> = Mutex::new(Added {
    entries: Vec::new(),
    names: None,
});

/// Why a protocol could not be registered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// Its name is a built-in protocol's or one registered before.
    #[error("a protocol named {0} is already registered")]
    NameTaken(&'static str),
}

/// Registers protocol `P`, so that scenarios can name it. Its name must be
/// new. Register before loading scenarios that use it.
pub fn register<P: Plugin>() -> Result<(), RegisterError> {
    let mut added = ADDED.lock().unwrap_or_else(|e| e.into_inner());
    let taken = BUILTIN
        .iter()
        .chain(&added.entries)
        .any(|e| e.name() == P::NAME);
    if taken {
        return Err(RegisterError::NameTaken(P::NAME));
    }
    added.entries.push(Registered::<P>::ENTRY);
    added.names = None;
    Ok(())
}

/// Every registered protocol: the built-in ones, then the added ones.
pub fn entries() -> Vec<&'static dyn ProtocolEntry> {
    let added = ADDED.lock().unwrap_or_else(|e| e.into_inner());
    BUILTIN
        .iter()
        .copied()
        .chain(added.entries.iter().copied())
        .collect()
}

/// The protocol called `name`.
pub fn find(name: &str) -> Option<&'static dyn ProtocolEntry> {
    entries().into_iter().find(|e| e.name() == name)
}

/// Every registered protocol's name.
pub fn names() -> &'static [&'static str] {
    let mut added = ADDED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(names) = added.names {
        return names;
    }
    let all: Vec<&'static str> = BUILTIN
        .iter()
        .chain(&added.entries)
        .map(|e| e.name())
        .collect();
    let leaked: &'static [&'static str] = Box::leak(all.into_boxed_slice());
    added.names = Some(leaked);
    leaked
}

/// Read as the enum a derived `enum ProtocolSpec { Raft(RaftParams), .. }`
/// would be, so files, `--set` paths and error messages read as before;
/// the variants are the registered protocols.
impl<'de> Deserialize<'de> for ProtocolSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_enum("ProtocolSpec", names(), SpecVisitor)
    }
}

struct SpecVisitor;

impl<'de> Visitor<'de> for SpecVisitor {
    type Value = ProtocolSpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a protocol, such as Raft(read_mode: ReadIndex)")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<ProtocolSpec, A::Error> {
        let (entry, variant) = data.variant_seed(NameSeed)?;
        variant.newtype_variant_seed(ParamsSeed(entry))
    }
}

/// Reads a protocol's name into its entry.
struct NameSeed;

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = &'static dyn ProtocolEntry;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_identifier(NameSeed)
    }
}

impl Visitor<'_> for NameSeed {
    type Value = &'static dyn ProtocolEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a protocol's name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        find(name).ok_or_else(|| E::unknown_variant(name, names()))
    }

    fn visit_bytes<E: de::Error>(self, name: &[u8]) -> Result<Self::Value, E> {
        self.visit_str(&String::from_utf8_lossy(name))
    }
}

/// Reads one protocol's params, through its entry.
struct ParamsSeed(&'static dyn ProtocolEntry);

impl<'de> DeserializeSeed<'de> for ParamsSeed {
    type Value = ProtocolSpec;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ProtocolSpec, D::Error> {
        let mut erased = <dyn erased_serde::Deserializer>::erase(deserializer);
        self.0.deserialize(&mut erased).map_err(de::Error::custom)
    }
}
