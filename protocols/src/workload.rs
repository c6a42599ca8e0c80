//! What clients do: how often they call, which operations, on which keys.
//!
//! Shared by every protocol that serves a key-value workload. Written values
//! are unique (`<client>.<seq>`), so a checker can tell every write apart;
//! a compare-and-set expects the value its client last saw for the key, so
//! it succeeds often enough to matter.

use crate::kv::KvOp;
use rand::Rng;
use rand_distr::{Distribution, Zipf};
use sim_core::{Latency, SimDuration};
use std::collections::BTreeMap;

/// When a client starts its next operation.
#[derive(Clone, Debug, PartialEq)]
pub enum Arrival {
    /// One operation at a time; the next starts `think` after the last completes.
    Closed { think: Latency },
    /// Operations arrive as a Poisson process of `rate_per_s` per client,
    /// whatever the system does. An arrival while the client's previous
    /// operation is still running is shed and counted, not queued, so the
    /// history keeps one operation per process at a time.
    Open { rate_per_s: f64 },
}

/// Relative weights of the operation kinds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OpMix {
    pub read: f64,
    pub write: f64,
    pub cas: f64,
    pub append: f64,
    /// Bank transfers between two distinct accounts (the keys).
    pub transfer: f64,
    /// Orders of 1 to `ORDER_QUANTITY_MAX` of one item (a key), run as sagas.
    pub order: f64,
    /// Transactions of micro-ops (`WorkloadConfig::transactions`).
    pub txn: f64,
    /// Audits: reads of every account's balance as one transaction, for
    /// the atomic-commit protocols (with transfers).
    pub audit: f64,
}

/// The shape of the transactions a workload draws.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TxnShape {
    /// Lists (appends, list reads) or registers (writes, reads).
    pub lists: bool,
    /// Micro-ops per transaction: 1 to this, uniformly.
    pub mops_max: u32,
    /// The chance that a micro-op is a read (`TxnPattern::Random` only).
    pub read_share: f64,
    /// What each transaction does.
    pub pattern: TxnPattern,
}

/// What a transaction of the workload does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TxnPattern {
    /// 1 to `mops_max` micro-ops, each a read with `read_share`'s chance,
    /// on keys drawn with the key distribution.
    #[default]
    Random,
    /// Read a key, then write it (a counter's increment, a balance's
    /// update): two of these on one version lose an update unless the
    /// store prevents it.
    ReadModifyWrite,
    /// Read two keys, then write one of them (the on-call doctors: each
    /// checks that the other is on call, then leaves). Two of these on
    /// one pair, each writing a different key, are a write skew.
    WriteSkew,
}

/// Micro-ops in one transaction at most (each gets its own value slot).
pub const TXN_MOPS_MAX: u32 = 16;

/// An order asks for between 1 and this many of its item.
pub const ORDER_QUANTITY_MAX: u64 = 3;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KeyDistribution {
    Uniform,
    /// Key rank r is chosen with probability proportional to 1 / r^exponent.
    Zipf {
        exponent: f64,
    },
}

impl OpMix {
    pub fn validate(&self) -> Result<(), String> {
        let weights = [
            self.read,
            self.write,
            self.cas,
            self.append,
            self.transfer,
            self.order,
            self.txn,
            self.audit,
        ];
        if weights.iter().any(|w| !w.is_finite() || *w < 0.0) || weights.iter().sum::<f64>() <= 0.0
        {
            return Err("weights must be finite, non-negative and not all zero".into());
        }
        Ok(())
    }
}

/// A resolved workload (see the scenario schema for the user-facing form).
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadConfig {
    pub clients: u32,
    pub arrival: Arrival,
    pub mix: OpMix,
    /// Clients (by index) that draw from their own mix instead of `mix`,
    /// e.g. a reader beside a partitioned leader and writers elsewhere.
    pub client_mixes: BTreeMap<u64, OpMix>,
    pub keys: u32,
    pub key_distribution: KeyDistribution,
    /// How long a client waits for one attempt's reply before retrying.
    pub attempt_timeout: SimDuration,
    /// How long a client keeps retrying one operation before giving up.
    pub op_timeout: SimDuration,
    pub backoff_base: SimDuration,
    pub backoff_max: SimDuration,
    /// Clients start no operation after this (local) time, so the system can quiesce.
    pub stop_after: SimDuration,
    /// Operations per client at most.
    pub ops_per_client_max: u64,
    /// A transfer moves between 1 and this much money.
    pub transfer_amount_max: u64,
    /// What a transaction (`mix.txn`) looks like.
    pub transactions: TxnShape,
}

/// Clients in one run at most.
pub const CLIENTS_MAX: u32 = 10_000;
/// Keys in a workload at most.
pub const KEYS_MAX: u32 = 1_000_000;

impl WorkloadConfig {
    /// Checks parameters; errors name the field (relative to the workload).
    pub fn validate(&self) -> Result<(), String> {
        if self.clients > CLIENTS_MAX {
            return Err(format!(
                "clients: at most {CLIENTS_MAX}, got {}",
                self.clients
            ));
        }
        if !(1..=KEYS_MAX).contains(&self.keys) {
            return Err(format!(
                "keys: must be between 1 and {KEYS_MAX}, got {}",
                self.keys
            ));
        }
        self.mix.validate().map_err(|e| format!("mix: {e}"))?;
        let shape = self.transactions;
        if !(1..=TXN_MOPS_MAX).contains(&shape.mops_max) {
            return Err(format!(
                "transactions.mops_max: must be between 1 and {TXN_MOPS_MAX}, got {}",
                shape.mops_max
            ));
        }
        if shape.pattern == TxnPattern::WriteSkew && self.keys < 2 {
            return Err(format!(
                "transactions.pattern: WriteSkew reads two keys; give the workload at least 2 keys, got {}",
                self.keys
            ));
        }
        if !(shape.read_share.is_finite() && (0.0..=1.0).contains(&shape.read_share)) {
            return Err(format!(
                "transactions.read_share: must be between 0 and 1, got {}",
                shape.read_share
            ));
        }
        for (client, mix) in &self.client_mixes {
            if *client >= u64::from(self.clients) {
                return Err(format!(
                    "client_mixes: client index {client} is not below clients ({})",
                    self.clients
                ));
            }
            mix.validate()
                .map_err(|e| format!("client_mixes: client{}: {e}", client + 1))?;
        }
        match &self.arrival {
            Arrival::Closed { think } => think
                .validate()
                .map_err(|e| format!("arrival.think: {e}"))?,
            Arrival::Open { rate_per_s } => {
                if !(rate_per_s.is_finite() && *rate_per_s > 0.0 && *rate_per_s <= 1e6) {
                    return Err(format!(
                        "arrival.rate_per_s: must be in (0, 1000000], got {rate_per_s}"
                    ));
                }
            }
        }
        let transfers =
            self.mix.transfer > 0.0 || self.client_mixes.values().any(|m| m.transfer > 0.0);
        if transfers && self.keys < 2 {
            return Err(format!(
                "keys: a transfer needs two accounts, so keys must be at least 2, got {}",
                self.keys
            ));
        }
        if transfers && !(1..=1_000_000_000).contains(&self.transfer_amount_max) {
            return Err(format!(
                "transfer_amount_max: must be between 1 and 1000000000, got {}",
                self.transfer_amount_max
            ));
        }
        if let KeyDistribution::Zipf { exponent } = self.key_distribution {
            if !(exponent.is_finite() && exponent > 0.0 && exponent <= 10.0) {
                return Err(format!(
                    "key_distribution: Zipf exponent must be in (0, 10], got {exponent}"
                ));
            }
        }
        if self.attempt_timeout == SimDuration::ZERO || self.op_timeout < self.attempt_timeout {
            return Err(
                "op_timeout must be at least attempt_timeout, and attempt_timeout above 0".into(),
            );
        }
        if self.backoff_base > self.backoff_max {
            return Err("backoff_base must not exceed backoff_max".into());
        }
        Ok(())
    }
}

/// Draws a client's operations.
#[derive(Debug)]
pub struct OpGenerator {
    /// The last value this client saw per key: what its next cas expects.
    last_seen: BTreeMap<String, String>,
}

impl OpGenerator {
    /// Heap bytes of the values last seen (for the run's memory budget).
    pub fn heap_bytes(&self) -> usize {
        crate::heap::string_map_bytes(&self.last_seen)
    }

    pub fn new() -> Self {
        OpGenerator {
            last_seen: BTreeMap::new(),
        }
    }

    /// Records a value the client observed (a read, or its own write).
    pub fn saw(&mut self, key: &str, value: &str) {
        self.last_seen.insert(key.to_string(), value.to_string());
    }

    pub fn next(
        &mut self,
        config: &WorkloadConfig,
        client: u64,
        seq: u64,
        rng: &mut impl Rng,
    ) -> KvOp {
        let key_index = Self::key_index(config, rng);
        let key = format!("k{key_index}");
        let value = format!("{client}.{seq}");
        let mix = config
            .client_mixes
            .get(&client)
            .copied()
            .unwrap_or(config.mix);
        if mix.txn > 0.0 {
            // Validated: a transactional mix is transactions only.
            return Self::txn(config, client, seq, rng);
        }
        let total =
            mix.read + mix.write + mix.cas + mix.append + mix.transfer + mix.order + mix.audit;
        let mut draw = rng.random::<f64>() * total;
        let mut pick = |weight: f64| {
            let hit = draw < weight;
            draw -= weight;
            hit
        };
        if pick(mix.read) {
            KvOp::Get { key }
        } else if pick(mix.write) {
            KvOp::Put {
                key,
                value,
                context: crate::kv::CausalContext::NONE,
            }
        } else if pick(mix.cas) {
            let expected = self.last_seen.get(&key).cloned().unwrap_or_default();
            KvOp::Cas {
                key,
                expected,
                new: value,
            }
        } else if pick(mix.append) || (mix.append > 0.0 && mix.transfer + mix.order == 0.0) {
            // The separator keeps appended values apart when read back.
            // (Rounding may leave `draw` past every weight: then the last
            // kind with weight is taken.)
            KvOp::Append {
                key,
                value: format!("{value};"),
            }
        } else if pick(mix.transfer) || (mix.transfer > 0.0 && mix.order + mix.audit == 0.0) {
            let from = key_index;
            // Uniform over the other accounts, in one draw.
            let keys = u64::from(config.keys);
            debug_assert!(keys >= 2, "validated: a transfer needs two accounts");
            let to = (from + 1 + rng.random_range(0..keys - 1)) % keys;
            KvOp::Transfer {
                from: format!("k{from}"),
                to: format!("k{to}"),
                amount: rng.random_range(1..=config.transfer_amount_max),
            }
        } else if pick(mix.audit) || (mix.audit > 0.0 && mix.order == 0.0) {
            KvOp::Audit
        } else if mix.order > 0.0 {
            KvOp::Order {
                item: key,
                quantity: rng.random_range(1..=ORDER_QUANTITY_MAX),
            }
        } else {
            KvOp::Get { key }
        }
    }

    /// A transaction of 1 to `mops_max` micro-ops on keys drawn as for any
    /// operation. Values are unique per key across the run: the
    /// operation's sequence number and the micro-op's place, times the
    /// clients, plus the client (a retry repeats the same values).
    fn txn(config: &WorkloadConfig, client: u64, seq: u64, rng: &mut impl Rng) -> KvOp {
        let shape = config.transactions;
        debug_assert!((1..=TXN_MOPS_MAX).contains(&shape.mops_max));
        debug_assert!(client < u64::from(CLIENTS_MAX));
        let clients = u64::from(config.clients.max(1));
        let value =
            |i: u32| (seq * u64::from(shape.mops_max) + u64::from(i)) * clients + client + 1;
        let mops: Vec<crate::kv::TxnMop> = match shape.pattern {
            TxnPattern::Random => {
                let count = rng.random_range(1..=shape.mops_max);
                (0..count)
                    .map(|i| {
                        let key = Self::key_index(config, rng) as u32;
                        let read = rng.random::<f64>() < shape.read_share;
                        crate::kv::TxnMop {
                            read,
                            key,
                            value: value(i),
                        }
                    })
                    .collect()
            }
            TxnPattern::ReadModifyWrite => {
                let key = Self::key_index(config, rng) as u32;
                vec![
                    crate::kv::TxnMop {
                        read: true,
                        key,
                        value: 0,
                    },
                    crate::kv::TxnMop {
                        read: false,
                        key,
                        value: value(0),
                    },
                ]
            }
            TxnPattern::WriteSkew => {
                // Validated: at least two keys and mops_max of at least 2.
                let first = Self::key_index(config, rng) as u32;
                let mut second = Self::key_index(config, rng) as u32;
                if second == first {
                    second = (first + 1) % config.keys;
                }
                let written = if rng.random::<bool>() { first } else { second };
                let read = |key| crate::kv::TxnMop {
                    read: true,
                    key,
                    value: 0,
                };
                vec![
                    read(first),
                    read(second),
                    crate::kv::TxnMop {
                        read: false,
                        key: written,
                        value: value(0),
                    },
                ]
            }
        };
        KvOp::Txn {
            mops: mops.into(),
            lists: shape.lists,
        }
    }

    fn key_index(config: &WorkloadConfig, rng: &mut impl Rng) -> u64 {
        match config.key_distribution {
            KeyDistribution::Uniform => rng.random_range(0..config.keys as u64),
            KeyDistribution::Zipf { exponent } => {
                let zipf = Zipf::new(config.keys as f64, exponent).expect("validated");
                (zipf.sample(rng) as u64)
                    .saturating_sub(1)
                    .min(config.keys as u64 - 1)
            }
        }
    }
}

impl Default for OpGenerator {
    fn default() -> Self {
        Self::new()
    }
}
