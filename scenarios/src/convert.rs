//! Converting scenario specs into the engine's types. Each function returns
//! a message (without the field path; the caller adds it) on bad input.

use crate::duration::Dur;
use crate::names::CLIENT_PREFIX;
use crate::schema::*;
use protocols::workload::{Arrival, KeyDistribution, OpMix, WorkloadConfig};
use sim_core::link::check_probability;
use sim_core::{Fault, Latency, LinkConfig, LinkOrder, NodeId, Partition};
use std::collections::BTreeMap;

pub fn latency(spec: &LatencySpec) -> Latency {
    match spec {
        LatencySpec::Constant(d) => Latency::Constant(d.0),
        LatencySpec::Uniform { min, max } => Latency::Uniform {
            min: min.0,
            max: max.0,
        },
        LatencySpec::Normal { mean, std_dev } => Latency::Normal {
            mean: mean.0,
            std_dev: std_dev.0,
        },
        LatencySpec::LogNormal { median, sigma } => Latency::LogNormal {
            median: median.0,
            sigma: *sigma,
        },
        LatencySpec::Exponential { mean } => Latency::Exponential { mean: mean.0 },
        LatencySpec::Pareto { scale, alpha } => Latency::Pareto {
            scale: scale.0,
            alpha: *alpha,
        },
        LatencySpec::Shifted { by, latency: inner } => Latency::Shifted {
            by: by.0,
            latency: Box::new(latency(inner)),
        },
        LatencySpec::Mixture(parts) => {
            Latency::Mixture(parts.iter().map(|(w, l)| (*w, latency(l))).collect())
        }
    }
}

/// A disk, checked.
pub fn disk(spec: &DiskSpec) -> Result<sim_core::DiskConfig, String> {
    let disk = sim_core::DiskConfig {
        sync_latency: latency(&spec.sync_latency),
        bytes_per_second: spec.bytes_per_second,
    };
    disk.validate()?;
    Ok(disk)
}

/// The engine's link; `kinds` names the protocol's kinds of message
/// (`Protocol::message_kinds`), which a link's `kinds` may name.
pub fn link(spec: &LinkSpec, kinds: &[&str]) -> Result<LinkConfig, String> {
    let mut kind_latency = Vec::new();
    for (index, own) in spec.kinds.iter().enumerate() {
        let Some(kind) = kinds.iter().position(|k| *k == own.kind) else {
            return Err(format!(
                "kinds[{index}].kind: the protocol sends no message of kind \"{}\"; {}",
                own.kind,
                crate::error::suggestion(&own.kind, kinds)
            ));
        };
        if kind_latency.len() <= kind {
            kind_latency.resize(kind + 1, None);
        }
        if kind_latency[kind].is_some() {
            return Err(format!(
                "kinds[{index}].kind: \"{}\" is given a latency twice",
                own.kind
            ));
        }
        kind_latency[kind] = Some(latency(&own.latency));
    }
    let link = LinkConfig {
        latency: latency(&spec.latency),
        loss: spec.loss,
        duplicate: spec.duplicate,
        order: match spec.order {
            Order::Unordered => LinkOrder::Unordered,
            Order::Fifo => LinkOrder::Fifo,
        },
        kind_latency,
    };
    link.validate()?;
    Ok(link)
}

/// The resolved workload; `duration` supplies the default stop time.
pub fn workload(spec: &WorkloadSpec, duration: Dur) -> Result<WorkloadConfig, String> {
    let arrival = match &spec.arrival {
        ArrivalSpec::Closed { think } => Arrival::Closed {
            think: latency(think),
        },
        ArrivalSpec::Open { rate_per_s } => Arrival::Open {
            rate_per_s: *rate_per_s,
        },
    };
    let key_distribution = match spec.key_distribution {
        KeyDistributionSpec::Uniform => KeyDistribution::Uniform,
        KeyDistributionSpec::Zipf { exponent } => KeyDistribution::Zipf { exponent },
    };
    let op_mix = |mix: &MixSpec| OpMix {
        read: mix.read,
        write: mix.write,
        cas: mix.cas,
        append: mix.append,
        transfer: mix.transfer,
        order: mix.order,
        txn: mix.txn,
        audit: mix.audit,
    };
    let mut client_mixes = BTreeMap::new();
    for (index, entry) in spec.client_mixes.iter().enumerate() {
        let client = entry
            .client
            .strip_prefix(CLIENT_PREFIX)
            .and_then(|k| k.parse::<u64>().ok())
            .filter(|k| (1..=u64::from(spec.clients)).contains(k))
            .ok_or_else(|| {
                format!(
                    "client_mixes[{index}].client: \"{}\" is not a client; clients are client1..client{}",
                    entry.client, spec.clients
                )
            })?;
        let mix = op_mix(&entry.mix);
        mix.validate()
            .map_err(|e| format!("client_mixes[{index}].mix: {e}"))?;
        if client_mixes.insert(client - 1, mix).is_some() {
            return Err(format!(
                "client_mixes[{index}].client: \"{}\" has a mix already; give each client one",
                entry.client
            ));
        }
    }
    let config = WorkloadConfig {
        clients: spec.clients,
        arrival,
        mix: op_mix(&spec.mix),
        client_mixes,
        keys: spec.keys,
        key_distribution,
        attempt_timeout: spec.attempt_timeout.0,
        op_timeout: spec.op_timeout.0,
        backoff_base: spec.backoff_base.0,
        backoff_max: spec.backoff_max.0,
        stop_after: spec
            .stop_after
            .map(|d| d.0)
            .unwrap_or(default_stop_after(duration).0),
        ops_per_client_max: spec.ops_per_client_max.unwrap_or(u64::MAX),
        transfer_amount_max: spec
            .transfer_amount_max
            .unwrap_or(DEFAULT_TRANSFER_AMOUNT_MAX),
        transactions: {
            let t = spec.transactions.clone().unwrap_or_default();
            protocols::workload::TxnShape {
                lists: t.kind == crate::schema::TxnKindSpec::ListAppend,
                mops_max: t.mops_max,
                read_share: t.read_share,
                pattern: match t.pattern {
                    crate::schema::TxnPatternSpec::Random => {
                        protocols::workload::TxnPattern::Random
                    }
                    crate::schema::TxnPatternSpec::ReadModifyWrite => {
                        protocols::workload::TxnPattern::ReadModifyWrite
                    }
                    crate::schema::TxnPatternSpec::WriteSkew => {
                        protocols::workload::TxnPattern::WriteSkew
                    }
                },
            }
        },
    };
    config.validate()?;
    Ok(config)
}

/// What a transfer moves at most, unless the workload says.
pub const DEFAULT_TRANSFER_AMOUNT_MAX: u64 = 10;

/// Clients stop at 90% of the run so that the end is quiet.
pub fn default_stop_after(duration: Dur) -> Dur {
    Dur(sim_core::SimDuration::from_nanos(
        duration.0.as_nanos() / 10 * 9,
    ))
}

/// Looks up node names; `lookup` maps a name to its id or an error message.
pub fn fault(
    spec: &FaultSpec,
    lookup: &dyn Fn(&str) -> Result<NodeId, String>,
) -> Result<Fault, String> {
    let many = |names: &[String]| {
        names
            .iter()
            .map(|n| lookup(n))
            .collect::<Result<Vec<_>, _>>()
    };
    let any = |name: &str| {
        if name == "*" {
            Ok(None)
        } else {
            lookup(name).map(Some)
        }
    };
    Ok(match spec {
        FaultSpec::Crash(n) => Fault::Crash {
            node: lookup(n)?,
            lose_unsynced: false,
        },
        FaultSpec::PowerLoss(n) => Fault::Crash {
            node: lookup(n)?,
            lose_unsynced: true,
        },
        FaultSpec::Restart(n) => Fault::Restart(lookup(n)?),
        FaultSpec::Pause(n, d) => {
            if d.0 == sim_core::SimDuration::ZERO {
                return Err("a pause must last longer than 0s".into());
            }
            Fault::Pause {
                node: lookup(n)?,
                duration: Some(d.0),
            }
        }
        FaultSpec::Resume(n) => Fault::Resume(lookup(n)?),
        FaultSpec::Partition(groups) => {
            let mut seen = std::collections::BTreeSet::new();
            for group in groups {
                for name in group {
                    if !seen.insert(name.as_str()) {
                        return Err(format!("node \"{name}\" is in more than one group; partition groups must not overlap"));
                    }
                }
            }
            Fault::Partition(Partition::Groups(
                groups.iter().map(|g| many(g)).collect::<Result<_, _>>()?,
            ))
        }
        FaultSpec::OneWay { from, to } => Fault::Partition(Partition::OneWay {
            from: many(from)?,
            to: many(to)?,
        }),
        FaultSpec::Isolate(n) => Fault::Partition(Partition::Isolate(lookup(n)?)),
        FaultSpec::Bridge {
            left,
            right,
            bridge,
        } => Fault::Partition(Partition::Bridge {
            left: many(left)?,
            right: many(right)?,
            bridge: lookup(bridge)?,
        }),
        FaultSpec::Heal => Fault::Heal,
        FaultSpec::Clog(from, to) => Fault::Clog {
            from: any(from)?,
            to: any(to)?,
        },
        FaultSpec::Release(from, to) => Fault::Release {
            from: any(from)?,
            to: any(to)?,
        },
        FaultSpec::ClockJump(n, delta) => Fault::ClockJump {
            node: lookup(n)?,
            delta_ns: delta.0,
        },
        FaultSpec::SetLoss(p) => {
            check_probability("loss", *p)?;
            Fault::SetLoss(Some(*p))
        }
        FaultSpec::RestoreLoss => Fault::SetLoss(None),
        FaultSpec::DiskSlow(n, factor, duration) => {
            check_slow_factor(*factor)?;
            Fault::DiskSlow {
                node: lookup(n)?,
                factor: *factor,
                duration: duration.0,
            }
        }
        FaultSpec::DiskStall(n, duration) => Fault::DiskStall {
            node: lookup(n)?,
            duration: duration.0,
        },
    })
}

/// Whether every name in the fault must be a different node: a partition,
/// a one-way cut or a bridge.
pub fn names_must_differ(spec: &FaultSpec) -> bool {
    matches!(
        spec,
        FaultSpec::Partition(_) | FaultSpec::OneWay { .. } | FaultSpec::Bridge { .. }
    )
}

/// Every node name a fault mentions, in order.
pub fn fault_names(spec: &FaultSpec) -> Vec<String> {
    let names = std::cell::RefCell::new(Vec::new());
    let probe = |name: &str| {
        names.borrow_mut().push(name.to_string());
        Ok(NodeId(0))
    };
    let _ = fault(spec, &probe);
    names.into_inner()
}

/// A disk slow-down factor is finite, above 0 and at most
/// `sim_core::disk::SLOW_FACTOR_MAX`; the error says so, with the value.
pub fn check_slow_factor(factor: f64) -> Result<(), String> {
    if factor.is_finite() && factor > 0.0 && factor <= sim_core::disk::SLOW_FACTOR_MAX {
        Ok(())
    } else {
        Err(format!(
            "a disk slow-down factor is above 0 and at most {}, got {factor}",
            sim_core::disk::SLOW_FACTOR_MAX
        ))
    }
}
