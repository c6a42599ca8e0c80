//! Metric names in words, with their units, for axes and captions: a
//! chart says "replication lag at n2 (ms)", never `replication_lag_ms_server1`.
//!
//! Known metrics have their phrase here; any other name is read by rule
//! (underscores are spaces, a `_ms` or `_pct` ending is the unit, a
//! `_server<i>` ending is the server's name, n<i+1>), so a new protocol's
//! metric reads sensibly before anyone adds it.

/// Known metrics: (name, words with the unit).
const KNOWN: [(&str, &str); 37] = [
    ("commit_latency_ms", "commit latency (ms)"),
    ("throughput_per_s", "throughput (commits/s)"),
    ("abort_percent", "transactions aborted (%)"),
    ("lock_wait_ms", "wait for locks (ms)"),
    (
        "prepared_hold_ms",
        "time a prepared transaction held its keys (ms)",
    ),
    ("versions_kept", "versions kept"),
    ("lost_acked_writes", "lost acknowledged writes per failover"),
    (
        "lost_acked_pct",
        "lost acknowledged writes per failover (% of those acknowledged)",
    ),
    (
        "lost_acked_writes_at_rejoin",
        "acknowledged writes lost when the old primary rejoined",
    ),
    (
        "time_without_primary_ms",
        "time without a primary after a crash (ms)",
    ),
    (
        "replication_lag_entries",
        "replication lag (entries behind)",
    ),
    ("replication_lag_ms", "replication lag (ms)"),
    (
        "degraded_ms",
        "time the primary answered without a backup (ms)",
    ),
    (
        "leaderless_ms",
        "time without a leader after the crash (ms)",
    ),
    (
        "first_round_split",
        "first election round split (1 = split, 0 = not)",
    ),
    ("election_ms", "election time (ms)"),
    ("home_keys_per_server", "keys homed per server"),
    (
        "key_load_max_over_mean_pct",
        "busiest server's keys over the mean (%)",
    ),
    ("saga_ms", "saga duration (ms)"),
    ("uncertain_ms", "time a participant was uncertain (ms)"),
    ("acked_writes", "acknowledged writes"),
    ("election_messages", "messages per election"),
    ("lag", "replication lag"),
    ("lag_ms", "replication lag (ms)"),
    ("lag_entries", "replication lag (entries behind)"),
    ("acquire_latency_ms", "time to acquire the lock (ms)"),
    (
        "unavailable_after_crash_ms",
        "lock unavailable after its holder crashed (ms)",
    ),
    ("zombie_writes_per_run", "zombie writes accepted per run"),
    (
        "critical_sections_per_s",
        "critical sections completed (per s)",
    ),
    (
        "writes_lost_to_lww_per_run",
        "committed writes lost to last-writer-wins per run",
    ),
    ("conflicts_per_run", "concurrent writes to a key per run"),
    (
        "applied_before_dependencies_per_run",
        "writes applied before a write they depend on, per run",
    ),
    (
        "replicated_everywhere_ms",
        "time until every region has a write (ms)",
    ),
    ("writes_committed", "writes committed"),
    ("conflicts_per_s", "concurrent writes to a key (per s)"),
    ("conflicts_per_key", "concurrent writes per key"),
    (
        "writes_not_yet_everywhere",
        "committed writes some region still lacks",
    ),
];

/// `metric` in words, with its unit.
pub fn metric_words(metric: &str) -> String {
    if let Some((_, words)) = KNOWN.iter().find(|(name, _)| *name == metric) {
        return (*words).to_string();
    }
    // A per-server metric: the metric's words, at the server's name.
    if let Some((base, index)) = metric.rsplit_once("_server") {
        if let Ok(index) = index.parse::<u32>() {
            let words = metric_words(base);
            let at = format!(" at n{}", index + 1);
            return match words.rfind(" (") {
                Some(unit) => format!("{}{at}{}", &words[..unit], &words[unit..]),
                None => format!("{words}{at}"),
            };
        }
    }
    let mut words = metric.replace('_', " ");
    for (ending, unit) in [(" ms", " (ms)"), (" pct", " (%)"), (" s", " (s)")] {
        if let Some(stem) = words.strip_suffix(ending) {
            words = format!("{stem}{unit}");
            break;
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_read_as_words_with_their_units() {
        assert_eq!(metric_words("commit_latency_ms"), "commit latency (ms)");
        assert_eq!(
            metric_words("replication_lag_ms_server1"),
            "replication lag at n2 (ms)"
        );
        assert_eq!(
            metric_words("lost_acked_writes"),
            "lost acknowledged writes per failover"
        );
        // Unknown names by rule.
        assert_eq!(metric_words("queue_wait_ms"), "queue wait (ms)");
        assert_eq!(metric_words("hit_pct"), "hit (%)");
        assert_eq!(metric_words("vote_messages"), "vote messages");
        assert_eq!(metric_words("depth_server0"), "depth at n1");
    }
}
