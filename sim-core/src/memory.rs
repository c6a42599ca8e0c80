//! The run's memory budget: what the engine counts against it, and when.
//!
//! A run that would outgrow its budget stops with `StopReason::MemoryLimit`
//! (inconclusive) instead of growing until the allocator aborts the
//! process, which no sweep can catch. The count is an *estimate* built from
//! the structures that grow with a scenario, not a reading of the
//! allocator: it is the same on every machine, so the point where a run
//! stops, and so its verdict, does not depend on where it runs.
//!
//! What is counted, and how often:
//! - pending events: on every push, `queue length × event_bytes` plus the
//!   heap bytes of the queued messages (`Protocol::message_heap_bytes`),
//!   against the room the rest leaves. `event_bytes` is twice an event's
//!   size in the queue, because a growing vector keeps up to as much spare
//!   capacity as it holds;
//! - messages held by clogs and inputs waiting on paused nodes: as they
//!   come and go;
//! - durable storage: after each handler that used it;
//! - the nodes' fixed part (slot, cold part, names): at the start;
//! - protocol state (`Protocol::state_heap_bytes`), recorded trace events
//!   and pending outputs: at audits. The interval between audits is at
//!   most `audit_every_events`, which grows with the node count so that a
//!   pass over every node costs a bounded share of the run. It shrinks as
//!   the budget nears: the next audit comes before growth at the last
//!   interval's pace could take half the room left, and never sooner than
//!   a 64th of the largest interval. The first audit is at the start, and
//!   the interval grows from twice that floor, at most doubling from one
//!   audit to the next, so a run that grows fast from its first event is
//!   looked at early;
//! - what the driver holds (history, monitor): as the driver reports it
//!   (`Simulation::set_external_bytes`).
//!
//! So the estimate can trail the truth by what one handler adds (a
//! broadcast to every peer is pushed whole before the loop looks) and by
//! what protocol state grows between two audits. BENCHMARKS.md measures the
//! gap between the budget and the process's peak RSS.

/// The default budget of one run, in bytes: every curated scenario runs
/// well inside it, and a sweep of one run per core fits a small machine.
pub const MEMORY_BYTES_DEFAULT: u64 = 1 << 30;

/// The smallest audit interval, in events.
const AUDIT_EVERY_EVENTS_MIN: u64 = 4_096;
/// How much shorter than the largest interval an audit near the budget may
/// come: the audit's cost per event grows at most this much near the budget.
const AUDIT_INTERVAL_SHRINK_MAX: u64 = 64;
/// Audit interval per node, in events, for protocols whose state is counted:
/// the audit's pass over every node then costs at most one state read per
/// this many events.
const AUDIT_EVENTS_PER_NODE: u64 = 16;

/// Each node's fixed share beyond its slot and cold part: its name, its
/// stream's name, its topology entry, and the B-tree node its active
/// timers allocate (room for eleven ids) with the allocator's headers.
const NODE_EXTRA_BYTES: u64 = 96 + 160;

/// The engine's running count against the budget.
#[derive(Clone, Debug)]
pub(crate) struct MemoryMeter {
    pub bytes_max: u64,
    /// Bytes one pending event counts for (see the module doc).
    pub event_bytes: u64,
    /// Heap bytes of the messages in the queue.
    pub queued_heap_bytes: u64,
    /// Fixed at the start: the nodes.
    pub fixed_bytes: u64,
    /// Clog-held messages and inputs waiting on paused nodes, with their heap bytes.
    buffered_bytes: u64,
    /// Every node's durable storage.
    storage_bytes: u64,
    /// Protocol state, trace records and outputs, as of the last audit.
    pub audited_bytes: u64,
    /// What the driver reported it holds.
    pub external_bytes: u64,
    /// What the queue may use: the budget less everything else.
    pub queue_room_bytes: u64,
    pub next_audit_events: u64,
    /// The largest interval between audits, in events.
    pub audit_every_events: u64,
    /// The interval that ended at the last audit, in events.
    audit_interval_events: u64,
    /// The event count at the last audit.
    audit_last_events: u64,
    /// The largest estimate seen (at audits and on stopping).
    pub peak_bytes: u64,
}

impl MemoryMeter {
    /// A meter for `nodes` nodes of `node_bytes` each, whose pending events
    /// count `event_bytes` each.
    pub fn new(
        bytes_max: u64,
        event_bytes: u64,
        nodes: u64,
        node_bytes: u64,
        counts_state: bool,
    ) -> Self {
        let per_node = if counts_state {
            AUDIT_EVENTS_PER_NODE
        } else {
            0
        };
        let mut meter = MemoryMeter {
            bytes_max,
            event_bytes,
            queued_heap_bytes: 0,
            fixed_bytes: nodes.saturating_mul(node_bytes.saturating_add(NODE_EXTRA_BYTES)),
            buffered_bytes: 0,
            storage_bytes: 0,
            audited_bytes: 0,
            external_bytes: 0,
            queue_room_bytes: 0,
            next_audit_events: 0,
            audit_every_events: AUDIT_EVERY_EVENTS_MIN.max(per_node.saturating_mul(nodes)),
            audit_interval_events: 0,
            audit_last_events: 0,
            peak_bytes: 0,
        };
        meter.audit_interval_events = meter.audit_interval_min();
        meter.update_room();
        meter
    }

    /// Everything but the queue.
    fn others(&self) -> u64 {
        self.fixed_bytes
            .saturating_add(self.buffered_bytes)
            .saturating_add(self.storage_bytes)
            .saturating_add(self.audited_bytes)
            .saturating_add(self.external_bytes)
    }

    /// Recomputes the queue's room after anything else changed.
    #[inline]
    pub fn update_room(&mut self) {
        self.queue_room_bytes = self.bytes_max.saturating_sub(self.others());
    }

    /// The queue's bytes with `len` events.
    #[inline]
    pub fn queue_bytes(&self, len: usize) -> u64 {
        (len as u64)
            .saturating_mul(self.event_bytes)
            .saturating_add(self.queued_heap_bytes)
    }

    /// Whether a queue of `len` events fits the room the rest leaves.
    #[inline]
    pub fn queue_fits(&self, len: usize) -> bool {
        self.queue_bytes(len) <= self.queue_room_bytes
    }

    /// The whole estimate with a queue of `len` events; records the peak.
    pub fn total(&mut self, len: usize) -> u64 {
        let total = self.others().saturating_add(self.queue_bytes(len));
        self.peak_bytes = self.peak_bytes.max(total);
        total
    }

    /// Whether the estimate with `len` queued events is within budget.
    pub fn within_budget(&mut self, len: usize) -> bool {
        self.total(len) <= self.bytes_max
    }

    /// The shortest interval between audits, in events.
    fn audit_interval_min(&self) -> u64 {
        (self.audit_every_events / AUDIT_INTERVAL_SHRINK_MAX).max(1)
    }

    /// Records an audit at event `events` that counted `bytes`, with `len`
    /// events queued, and schedules the next one. Returns whether the
    /// estimate is within budget.
    ///
    /// Why adaptive: state that grows between audits is unseen until the
    /// next one, so a fixed interval lets a fast-growing run overshoot its
    /// budget by a whole interval's growth. Pacing the next audit by the
    /// last interval's growth against the room left bounds the overshoot to
    /// about one shortest interval's growth.
    pub fn audited(&mut self, events: u64, bytes: u64, len: usize) -> bool {
        debug_assert!(events >= self.audit_last_events, "audits go forward");
        let grown_bytes = bytes.saturating_sub(self.audited_bytes);
        let span_events = events.saturating_sub(self.audit_last_events).max(1);
        self.audited_bytes = bytes;
        self.update_room();
        let within = self.within_budget(len);
        let room_bytes = self.bytes_max.saturating_sub(self.total(len));
        let paced = match grown_bytes.div_ceil(span_events) {
            0 => u64::MAX,
            bytes_per_event => room_bytes / 2 / bytes_per_event,
        };
        let interval = paced
            .min(self.audit_interval_events.saturating_mul(2))
            .clamp(self.audit_interval_min(), self.audit_every_events);
        self.audit_interval_events = interval;
        self.audit_last_events = events;
        self.next_audit_events = events.saturating_add(interval);
        debug_assert!(self.next_audit_events > events);
        within
    }

    /// Held messages and deferred inputs: `added` bytes came, `removed` went.
    pub fn buffered(&mut self, added: u64, removed: u64) {
        self.buffered_bytes = adjusted(self.buffered_bytes, added, removed);
        self.update_room();
    }

    /// A node's storage went from `before` to `after` bytes.
    pub fn storage(&mut self, before: u64, after: u64) {
        self.storage_bytes = adjusted(self.storage_bytes, after, before);
        self.update_room();
    }
}

/// Hands the memory freed so far back to the operating system, where the
/// allocator keeps it otherwise. Called between a run's engine and its
/// checks: the engine frees many small blocks, which glibc's malloc keeps
/// for reuse, while a search memo allocates a few large arrays that it
/// maps afresh; without this the process's peak is the engine's peak plus
/// the memo's rather than the larger of the two (measured in BENCHMARKS.md,
/// "Memory budget"). A hint to the allocator only: no state or result
/// depends on it.
pub fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the allocator's own
    // heaps; it touches no live allocation and is safe to call at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A running count with `added` bytes in and `removed` out.
fn adjusted(count: u64, added: u64, removed: u64) -> u64 {
    count.saturating_add(added).saturating_sub(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_gets_what_the_rest_leaves() {
        let mut meter = MemoryMeter::new(10_000, 100, 10, 300 - NODE_EXTRA_BYTES, false);
        assert_eq!(meter.fixed_bytes, 3_000);
        assert!(meter.queue_fits(70));
        assert!(!meter.queue_fits(71));
        meter.queued_heap_bytes = 500;
        assert!(meter.queue_fits(65));
        assert!(!meter.queue_fits(66));
        meter.buffered(1_000, 0);
        assert!(meter.queue_fits(55));
        assert!(!meter.queue_fits(56));
        meter.buffered(0, 1_000);
        meter.storage(0, 20_000);
        assert!(!meter.queue_fits(0), "the rest alone is over budget");
        assert!(!meter.within_budget(0));
        assert_eq!(meter.peak_bytes, 23_500);
    }

    #[test]
    fn audits_grow_with_the_node_count_only_when_state_is_counted() {
        assert_eq!(
            MemoryMeter::new(1, 1, 1_000_000, 0, false).audit_every_events,
            AUDIT_EVERY_EVENTS_MIN
        );
        assert_eq!(
            MemoryMeter::new(1, 1, 1_000_000, 0, true).audit_every_events,
            16_000_000
        );
        assert_eq!(
            MemoryMeter::new(1, 1, 5, 0, true).audit_every_events,
            AUDIT_EVERY_EVENTS_MIN
        );
    }

    #[test]
    fn audits_start_often_and_space_out_while_nothing_grows() {
        let mut meter = MemoryMeter::new(1 << 30, 100, 4, 0, false);
        let floor = AUDIT_EVERY_EVENTS_MIN / AUDIT_INTERVAL_SHRINK_MAX;
        assert!(meter.audited(0, 0, 0));
        assert_eq!(meter.next_audit_events, 2 * floor);
        let mut intervals = Vec::new();
        for _ in 0..8 {
            let at = meter.next_audit_events;
            assert!(meter.audited(at, 1_000, 0));
            intervals.push(meter.next_audit_events - at);
        }
        assert_eq!(
            intervals,
            [256, 512, 1024, 2048, 4096, 4096, 4096, 4096],
            "doubling from the floor up to the largest interval"
        );
    }

    #[test]
    fn audits_come_sooner_as_growth_nears_the_budget() {
        // 1 MB of budget, state growing 100 bytes an event.
        let mut meter = MemoryMeter::new(1_000_000, 100, 1, 0, false);
        meter.audit_interval_events = AUDIT_EVERY_EVENTS_MIN;
        let mut at = 0;
        let mut bytes = 0;
        let mut overshoot = 0;
        while meter.audited(at, bytes, 0) {
            let next = meter.next_audit_events;
            bytes += (next - at) * 100;
            at = next;
            overshoot = bytes.saturating_sub(meter.bytes_max);
        }
        assert!(at > 9_000, "it ran until near the budget: {at}");
        let floor_growth = AUDIT_EVERY_EVENTS_MIN / AUDIT_INTERVAL_SHRINK_MAX * 100;
        assert!(
            overshoot <= floor_growth,
            "over by {overshoot} bytes, more than one shortest interval's growth"
        );
    }
}
