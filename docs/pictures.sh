#!/usr/bin/env sh
# Regenerates the pictures in docs/pictures/ (shown in README.md) from
# curated scenarios. Run from the repository root:
#   sh docs/pictures.sh
# Set FAULTLINE to a built binary to skip `cargo run`.
set -eu
FAULTLINE="${FAULTLINE:-cargo run --quiet --release --}"
out="$(mktemp -d)"
$FAULTLINE run raft-leader-crash --seed 1 --out "$out/raft" > /dev/null
$FAULTLINE run 2pc-coordinator-crash --seed 1 --out "$out/2pc" > /dev/null || true
$FAULTLINE sweep raft-election --seeds 0..1000 --out "$out/election" > /dev/null
$FAULTLINE run bully-split-brain --seed 1 --from 1.1s --to 1.31s --out "$out/bully" > /dev/null || true
$FAULTLINE sweep ring-theory --seeds 0..1000 --out "$out/ring" > /dev/null
$FAULTLINE sweep replication-modes --seeds 0..500 --out "$out/modes" > /dev/null
$FAULTLINE run replication-modes --seed 1 --set 'protocol.PrimaryBackup.mode={"Async":{"ship_interval":"50ms"}}' --out "$out/async" > /dev/null || true
$FAULTLINE run split-brain-no-fencing --seed 3 --out "$out/fenced" > /dev/null
$FAULTLINE run split-brain-no-fencing --seed 3 --set protocol.PrimaryBackup.no_fencing=true --out "$out/unfenced" > /dev/null || true
$FAULTLINE sweep cap-partition --seeds 0..100 --out "$out/cap" > /dev/null
$FAULTLINE sweep pacelc-latency --seeds 0..100 --out "$out/pacelc" > /dev/null
$FAULTLINE sweep lww-clock-skew --seeds 0..100 --out "$out/skew" > /dev/null
$FAULTLINE sweep pbs-wars --seeds 0..10 --out "$out/pbs" > /dev/null
$FAULTLINE sweep quorum-repair --seeds 0..100 --out "$out/repair" > /dev/null
$FAULTLINE sweep isolation-levels --seeds 0..20 --out "$out/iso" > /dev/null
$FAULTLINE run write-skew --seed 1 --out "$out/skewrun" > /dev/null || true
$FAULTLINE sweep clock-skew-si --seeds 0..20 --out "$out/clockskew" > /dev/null
$FAULTLINE run txn-coordinator-crash --seed 1 --out "$out/tcc" > /dev/null
$FAULTLINE run txn-shard-failover --seed 1 --set protocol.TxnStore.replicas=1 --out "$out/tsf1" > /dev/null
$FAULTLINE run txn-shard-failover --seed 1 --set protocol.TxnStore.replicas=3 --out "$out/tsf3" > /dev/null
$FAULTLINE sweep lock-gc-pause --seeds 0..100 --out "$out/gcpause" > /dev/null
$FAULTLINE run lock-gc-pause --seed 0 --from 2.15s --to 2.21s --out "$out/zombie" > /dev/null || true
$FAULTLINE sweep redlock-clock-jump --seeds 0..100 --out "$out/redlock" > /dev/null
$FAULTLINE sweep lock-failover --seeds 0..100 --out "$out/failover" > /dev/null
$FAULTLINE sweep lock-ttl-tradeoff --seeds 0..100 --out "$out/ttl" > /dev/null
$FAULTLINE sweep multi-leader-conflicts --seeds 0..500 --out "$out/mlconflicts" > /dev/null
$FAULTLINE sweep multi-leader-causality --seeds 0..500 --out "$out/mlcausal" > /dev/null
$FAULTLINE sweep multi-leader-topologies --seeds 0..500 --out "$out/mltopo" > /dev/null
$FAULTLINE run multi-leader-topologies --seed 1 --set 'protocol.MultiLeader.topology="Ring"' --out "$out/mlring" > /dev/null || true
$FAULTLINE sweep crdt-counter --seeds 0..500 --out "$out/crdt" > /dev/null
$FAULTLINE run multi-leader-conflicts --seed 1 --out "$out/mlconflictrun" > /dev/null
cp "$out/raft/availability.png" docs/pictures/raft-leader-crash-availability.png
cp "$out/raft/latency.png" docs/pictures/raft-leader-crash-latency.png
cp "$out/2pc/availability.png" docs/pictures/2pc-coordinator-crash-availability.png
cp "$out/2pc/latency.png" docs/pictures/2pc-coordinator-crash-latency.png
cp "$out/election/cdf-leaderless_ms.png" docs/pictures/raft-election-figure-16.png
cp "$out/bully/lamport.png" docs/pictures/bully-split-brain-lamport.png
cp "$out/ring/mean-election_messages.png" docs/pictures/ring-theory-messages.png
cp "$out/modes/tradeoff-lost_acked_writes-commit_latency_ms.png" docs/pictures/replication-modes-tradeoff.png
cp "$out/async/over-time-replication_lag_ms.png" docs/pictures/replication-async-lag.png
cp "$out/fenced/availability-by-side.png" docs/pictures/split-brain-fenced-sides.png
cp "$out/unfenced/availability-by-side.png" docs/pictures/split-brain-unfenced-sides.png
cp "$out/cap/sides-availability.png" docs/pictures/cap-partition-availability.png
cp "$out/cap/sides-consistency.png" docs/pictures/cap-partition-consistency.png
cp "$out/pacelc/latency-vs-staleness.png" docs/pictures/pacelc-latency-vs-staleness.png
cp "$out/pacelc/t-visibility.png" docs/pictures/pacelc-t-visibility.png
cp "$out/pacelc/verdicts.png" docs/pictures/pacelc-verdicts.png
cp "$out/modes/verdicts.png" docs/pictures/replication-modes-verdicts.png
cp "$out/skew/verdicts.png" docs/pictures/lww-clock-skew-verdicts.png
cp "$out/repair/verdicts.png" docs/pictures/quorum-repair-verdicts.png
cp "$out/pbs/t-visibility.png" docs/pictures/pbs-wars-t-visibility.png
cp "$out/election/mean-leaderless_ms.png" docs/pictures/raft-election-means.png
cp "$out/iso/tradeoff-throughput_per_s-commit_latency_ms.png" docs/pictures/isolation-levels-tradeoff.png
cp "$out/iso/mean-abort_percent.png" docs/pictures/isolation-levels-aborts.png
cp "$out/iso/verdicts.png" docs/pictures/isolation-levels-verdicts.png
cp "$out/skewrun/txn-cycle.png" docs/pictures/write-skew-cycle.png
cp "$out/clockskew/tradeoff-throughput_per_s-commit_latency_ms.png" docs/pictures/clock-skew-si-tradeoff.png
cp "$out/clockskew/verdicts.png" docs/pictures/clock-skew-si-verdicts.png
cp "$out/tcc/availability.png" docs/pictures/txn-coordinator-crash-availability.png
cp "$out/tcc/cdf-prepared_hold_ms.png" docs/pictures/txn-coordinator-crash-prepared-hold.png 2>/dev/null || true
cp "$out/tsf1/availability.png" docs/pictures/txn-shard-failover-single.png
cp "$out/tsf3/availability.png" docs/pictures/txn-shard-failover-groups.png
cp "$out/gcpause/verdicts.png" docs/pictures/lock-gc-pause-verdicts.png
cp "$out/zombie/lamport.png" docs/pictures/lock-gc-pause-zombie.png
cp "$out/redlock/verdicts.png" docs/pictures/redlock-clock-jump-verdicts.png
cp "$out/failover/verdicts.png" docs/pictures/lock-failover-verdicts.png
cp "$out/ttl/tradeoff-unavailable_after_crash_ms-zombie_writes_per_run.png" docs/pictures/lock-ttl-tradeoff.png
cp "$out/ttl/mean-zombie_writes_per_run.png" docs/pictures/lock-ttl-zombies.png
rm -rf "$out"
echo "wrote docs/pictures/"
cp "$out/mlconflicts/mean-writes_lost_to_lww_per_run.png" docs/pictures/multi-leader-conflicts-lost.png
cp "$out/mlcausal/verdicts.png" docs/pictures/multi-leader-causality-verdicts.png
cp "$out/mltopo/cdf-replication_lag_ms.png" docs/pictures/multi-leader-topologies-lag.png
cp "$out/mlring/over-time-replication_lag_ms.png" docs/pictures/multi-leader-ring-lag-over-time.png
cp "$out/crdt/verdicts.png" docs/pictures/crdt-counter-verdicts.png
cp "$out/mlconflictrun/over-time-writes_not_yet_everywhere.png" docs/pictures/multi-leader-conflicts-backlog.png
