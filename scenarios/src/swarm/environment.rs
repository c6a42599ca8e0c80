//! Drawing a scenario's environment as scenario text: the network, the
//! disks, the clocks, the workload and the faults, within what the
//! protocol under test assumes (`Allow`).

use rand::Rng;
use sim_core::rng::{stream, SimRng};

/// The generator of one scenario: a ChaCha stream named for the protocol,
/// keyed by the scenario's index.
pub struct Draw {
    rng: SimRng,
}

impl Draw {
    pub fn new(protocol: &str, index: u64) -> Draw {
        Draw {
            rng: stream(index, &format!("swarm/{protocol}")),
        }
    }

    /// A whole number in `[low, high]`.
    pub fn int(&mut self, low: u64, high: u64) -> u64 {
        debug_assert!(low <= high);
        self.rng.random_range(low..=high)
    }

    /// A real number in `[low, high)`.
    pub fn real(&mut self, low: f64, high: f64) -> f64 {
        debug_assert!(low < high);
        self.rng.random_range(low..high)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        assert!(!items.is_empty());
        &items[self.rng.random_range(0..items.len())]
    }

    /// Each item with probability 1/2, at least one kept (swarm testing's
    /// feature omission).
    pub fn subset<T: Clone>(&mut self, items: &[T]) -> Vec<T> {
        assert!(!items.is_empty());
        let mut kept: Vec<T> = items.iter().filter(|_| self.chance(0.5)).cloned().collect();
        if kept.is_empty() {
            kept.push(self.pick(items).clone());
        }
        kept
    }
}

/// A duration in milliseconds as scenario text ("2.50ms").
pub fn ms(value: f64) -> String {
    format!("{value:.2}ms")
}

/// What the protocol under test allows its environment to do. Each field
/// is an assumption of the protocol: drawing past it would find failures
/// the protocol never promised to avoid.
#[derive(Clone, Copy, Debug)]
pub struct Allow {
    /// Message loss.
    pub loss: bool,
    /// Message duplication.
    pub duplicate: bool,
    /// Heavy-tailed latency (Pareto, wide log-normal): a message may take
    /// many times the median. Protocols that assume synchrony (3PC, Bully,
    /// ring election's hop timeout) get bounded latency.
    pub heavy_tail: bool,
    /// The latency's mean stays below this (ms).
    pub latency_mean_ms_max: f64,
    /// Clock offsets, and drift up to this (ppm); 0: perfect clocks.
    pub drift_ppm_max: f64,
    /// Clock offsets up to this (ms), each way.
    pub offset_ms_max: f64,
    /// Reordering of messages on a link (`Unordered`).
    pub reorder: bool,
}

/// `network: (...)`: one latency family for every link, with loss and
/// duplication where allowed.
pub fn network(d: &mut Draw, allow: Allow) -> String {
    let mean = d.real(0.2, allow.latency_mean_ms_max);
    let families: &[&str] = if allow.heavy_tail {
        &[
            "Constant",
            "Uniform",
            "Exponential",
            "LogNormal",
            "Pareto",
            "Shifted",
        ]
    } else {
        &["Constant", "Uniform", "Shifted"]
    };
    let latency = match *d.pick(families) {
        "Constant" => format!("Constant(\"{}\")", ms(mean)),
        "Uniform" => format!(
            "Uniform(min: \"{}\", max: \"{}\")",
            ms(mean * d.real(0.1, 0.9)),
            ms(mean * d.real(1.1, 1.9))
        ),
        "Exponential" => format!("Exponential(mean: \"{}\")", ms(mean)),
        "LogNormal" => format!(
            "LogNormal(median: \"{}\", sigma: {:.2})",
            ms(mean * 0.7),
            d.real(0.2, 1.5)
        ),
        "Pareto" => format!(
            "Pareto(scale: \"{}\", alpha: {:.2})",
            ms(mean * 0.4),
            d.real(1.5, 3.5)
        ),
        _ if allow.heavy_tail => format!(
            "Shifted(by: \"{}\", latency: Exponential(mean: \"{}\"))",
            ms(mean * 0.5),
            ms(mean * 0.5)
        ),
        _ => format!(
            "Shifted(by: \"{}\", latency: Uniform(min: \"0ms\", max: \"{}\"))",
            ms(mean * 0.5),
            ms(mean)
        ),
    };
    let loss = if allow.loss && d.chance(0.5) {
        d.real(0.001, 0.05)
    } else {
        0.0
    };
    let duplicate = if allow.duplicate && d.chance(0.5) {
        d.real(0.001, 0.1)
    } else {
        0.0
    };
    let order = if allow.reorder && d.chance(0.5) {
        "Unordered"
    } else {
        "Fifo"
    };
    format!(
        "network: (default: (latency: {latency}, loss: {loss:.3}, duplicate: {duplicate:.3}, order: {order})),"
    )
}

/// `disks: (...)`: sync latency from fast SSD to slow disk, and sometimes
/// a bounded throughput.
pub fn disks(d: &mut Draw) -> String {
    let sync = d.real(0.0, 8.0);
    let latency = if d.chance(0.5) {
        format!("Constant(\"{}\")", ms(sync))
    } else {
        format!(
            "Uniform(min: \"{}\", max: \"{}\")",
            ms(sync * 0.5),
            ms(sync * 1.5 + 0.01)
        )
    };
    let throughput = if d.chance(0.25) {
        format!(", bytes_per_second: {}", d.int(20_000, 50_000_000))
    } else {
        String::new()
    };
    format!("disks: (default: (sync_latency: {latency}{throughput})),")
}

/// `clocks: (...)`: random offsets and drift within the protocol's bound,
/// and, half the time, timers that fire up to a millisecond late (an OS
/// scheduler's wake-up delay).
pub fn clocks(d: &mut Draw, allow: Allow) -> String {
    let lateness = if d.chance(0.5) {
        format!(
            "timer_lateness: Uniform(min: \"0ms\", max: \"{}\"), ",
            ms(d.real(0.0, 1.0))
        )
    } else {
        String::new()
    };
    if allow.drift_ppm_max <= 0.0 || d.chance(0.25) {
        return if lateness.is_empty() {
            String::new()
        } else {
            format!("clocks: ({lateness}),")
        };
    }
    format!(
        "clocks: ({lateness}random: (offset_max: \"{}\", drift_ppm_max: {:.1})),",
        ms(d.real(0.0, allow.offset_ms_max)),
        d.real(0.0, allow.drift_ppm_max)
    )
}

/// Times every scenario shares: its length, when clients stop, when
/// faults stop (leaving the rest for recovery and repair).
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub duration_ms: u64,
    pub stop_after_ms: u64,
    pub faults_stop_ms: u64,
}

/// The end leaves a quiet spell of 0.8 to 2 s after the clients stop, so
/// that most runs give repair the time `eventual` asks of them (a run that
/// does not is judged "not applicable", never failed).
pub fn timing(d: &mut Draw) -> Timing {
    let duration_ms = d.int(3_000, 5_500);
    let stop_after_ms = duration_ms - d.int(800, 1_800);
    let faults_stop_ms = stop_after_ms - d.int(300, 700);
    Timing {
        duration_ms,
        stop_after_ms,
        faults_stop_ms,
    }
}

/// `workload: (...)` with `mix` (already scenario text, e.g.
/// `(read: 0.5, write: 0.5)`), up to `keys_max` keys and `clients_max`
/// clients.
pub fn workload(
    d: &mut Draw,
    timing: Timing,
    mix: &str,
    keys_max: u64,
    clients_max: u64,
) -> String {
    workload_with(d, timing, mix, 1, keys_max, clients_max, false)
}

/// `workload`, with one attempt per operation when `single_attempt` (the
/// attempt's timeout is the operation's: no retry is ever sent).
pub fn workload_with(
    d: &mut Draw,
    timing: Timing,
    mix: &str,
    keys_min: u64,
    keys_max: u64,
    clients_max: u64,
    single_attempt: bool,
) -> String {
    let keys = d.int(keys_min, keys_max);
    let clients = d.int(1, clients_max);
    let arrival = if d.chance(0.7) {
        format!(
            "Closed(think: Exponential(mean: \"{}\"))",
            ms(d.real(1.0, 30.0))
        )
    } else {
        format!("Closed(think: Constant(\"{}\"))", ms(d.real(0.5, 20.0)))
    };
    let attempt = d.real(20.0, 250.0);
    let op = if single_attempt {
        attempt
    } else {
        attempt * d.real(2.0, 10.0)
    };
    let distribution = if keys > 1 && d.chance(0.3) {
        ", key_distribution: Zipf(exponent: 1.0)"
    } else {
        ""
    };
    format!(
        "workload: (clients: {clients}, arrival: {arrival}, mix: {mix}, keys: {keys}{distribution}, attempt_timeout: \"{}\", op_timeout: \"{}\", stop_after: \"{}ms\"),",
        ms(attempt),
        ms(op),
        timing.stop_after_ms
    )
}

/// `faults: (...)`: a nemesis over a random subset of `kinds` (none when
/// `kinds` is empty), and, where `outages` allows, independent outages.
pub fn faults(d: &mut Draw, timing: Timing, kinds: &[&str], outages: bool) -> String {
    let mut parts = Vec::new();
    if !kinds.is_empty() && d.chance(0.85) {
        let chosen = d.subset(kinds).join(", ");
        let interval_min = d.real(20.0, 300.0);
        let fault_min = d.real(5.0, 200.0);
        parts.push(format!(
            "nemesis: (kinds: [{chosen}], swarm: {}, interval_min: \"{}\", interval_max: \"{}\", fault_min: \"{}\", fault_max: \"{}\", start: \"{}\", stop: \"{}ms\")",
            d.chance(0.5),
            ms(interval_min),
            ms(interval_min * d.real(1.0, 4.0)),
            ms(fault_min),
            ms(fault_min * d.real(1.0, 5.0)),
            ms(d.real(0.0, (timing.faults_stop_ms as f64 / 2.0).min(500.0))),
            timing.faults_stop_ms
        ));
    }
    if outages && d.chance(0.3) {
        parts.push(format!(
            "outages: (up_mean: \"{}\", down_mean: \"{}\", power_loss: {}, stop: \"{}ms\")",
            ms(d.real(200.0, 3_000.0)),
            ms(d.real(5.0, 500.0)),
            d.chance(0.5),
            timing.faults_stop_ms
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("faults: ({}),", parts.join(", "))
    }
}
