//! Linearizability of a register whose writes are all distinct, in
//! O(n log n): no search.
//!
//! When every write (and every compare-and-set) to a key writes a value no
//! other operation writes, and none writes the initial value, each read
//! names the one operation it read from. The problem is then polynomial:
//! Gibbons and Korach ("Testing shared memories", SIAM J. Computing 26(4),
//! 1997) decide read/write registers with a read-mapping in O(n log n) by
//! zones, and Lee and Mathur ("Efficient decrease-and-conquer
//! linearizability monitoring", OOPSLA 2025, arXiv:2410.04581) give
//! log-linear monitors for registers and other types under the same
//! "unambiguous" restriction. This module follows Gibbons and Korach's
//! zones for reads and writes. The published results stop at read/write
//! registers; the extension to compare-and-set below (chains) is this
//! project's own, argued here and cross-checked against the search on
//! 100,000 random histories with compare-and-sets
//! (`sim-core/tests/distinct_values.rs`).
//!
//! **Clusters and chains.** A value's cluster is the operation that
//! created it and the reads that returned it. In any linearization a
//! cluster is contiguous (values are never written twice), its creator
//! first. A successful compare-and-set from `a` to `b` ends `a`'s cluster
//! and starts `b`'s at one point, so such clusters are glued into a
//! *chain*: a write (or the initial value), then the compare-and-sets
//! that followed it one after another. Each value has at most one
//! successful compare-and-set from it, since after it that value is gone
//! for good. A chain is contiguous in any linearization.
//!
//! **Zones.** Each operation takes effect at a point of its interval
//! `[invoke, complete]` (ties are concurrent, as in the search). Along a
//! chain the points `b_0 <= b_1 <= ..` of its links are bounded below by
//! each link's invoke and the invokes of the reads of the value before it
//! (`A_j`), and above by each link's completion and the completions of the
//! reads of its own value (`B_j`). The chain is feasible alone iff no
//! `A_i` exceeds a `B_j` with `i <= j`; it must then cover `[L, H]` with
//! `L = min B_j` and `H` the greatest lower bound of its end (the largest
//! `A_j`, or the last value's last read invoke), and can be realised on
//! exactly that. If `H > L` the chain's zone is *forward*: its interval
//! belongs to it alone. Otherwise it is *backward*: the chain fits at any
//! one point of `[H, L]`. The history is linearizable iff every chain is
//! feasible, no two forward zones overlap (touching ends is allowed), and
//! no backward zone lies inside the open interior of a forward one. A
//! chain of one write and its reads is exactly a Gibbons-Korach cluster,
//! and the initial value's chain starts before time.
//!
//! **Unknown outcomes.** An `Info` write or compare-and-set is
//! *necessary* when a completed read returned its value or a necessary
//! compare-and-set expected it: it took effect, and it completes at the
//! end of time. An unnecessary one is left out: had it taken effect, only
//! other unnecessary operations could run until the next write, and
//! leaving them all out changes nothing anyone observed. `Fail` operations
//! and unknown reads never reach here (`constrains`); a read that
//! returned nothing usable (`None`) matches any state and is left out.
//!
//! **Where it does not apply**, the search decides: a value written twice
//! (or the initial value written), appends (a state is then a
//! concatenation, not one write), and compare-and-sets with an unknown
//! expected value. A failed compare-and-set is not a read here either: the
//! register models treat it as having had no effect, as the search does.
//!
//! **Counterexamples.** A violation is found between one or two chains.
//! The window is those operations plus what they need to mean the same on
//! their own (the creator of every value they read or expect, and what
//! forces an unknown one to have taken effect), so it is itself not
//! linearizable; then it is shrunk one operation at a time while it stays
//! so. The search runs on that window, of a handful of operations, for
//! the linearizable prefix and the culprit.

use crate::history::{Function, Operation, Outcome};
use std::collections::BTreeSet;

#[cfg(test)]
#[path = "distinct_values_test.rs"]
mod distinct_values_test;

/// True time plus one, so that 0 is before every operation and
/// `u64::MAX` after every one (an operation that never returned).
type Time = u64;
const BEFORE_ALL: Time = 0;
const AFTER_ALL: Time = u64::MAX;
const NONE: u32 = u32::MAX;

/// Windows up to this many operations are shrunk one operation at a time
/// (each try is one check of the window: quadratic in it).
pub const SHRINK_WINDOW_MAX: usize = 64;

/// What the check found for one key. Positions index the `ops` slice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyVerdict {
    /// The fast path does not apply; the reason, for people.
    NotApplicable(&'static str),
    Linearizable,
    Violation(Violation),
}

/// A violation: what kind, and a window of operations that is not
/// linearizable on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub kind: ViolationKind,
    /// Positions into the key's operations, ascending.
    pub window: Vec<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViolationKind {
    /// A read returned a value nothing wrote.
    ReadOfUnwrittenValue,
    /// A compare-and-set that took effect expected a value nothing wrote.
    CasOfUnwrittenValue,
    /// Two compare-and-sets that took effect expected the same value.
    TwoCasFromOneValue,
    /// Compare-and-sets that took effect form a cycle with no write before it.
    CasCycle,
    /// One chain cannot be placed at all: something had to happen before
    /// something that had to happen earlier (a read before its write).
    ChainInfeasible,
    /// Two chains each need the same stretch of time to themselves.
    ForwardZonesOverlap,
    /// A chain that fits at one point has every point inside another's stretch.
    BackwardZoneInsideForward,
}

impl ViolationKind {
    pub fn describe(self) -> &'static str {
        match self {
            ViolationKind::ReadOfUnwrittenValue => "a read returned a value nothing wrote",
            ViolationKind::CasOfUnwrittenValue => {
                "a compare-and-set that took effect expected a value nothing wrote"
            }
            ViolationKind::TwoCasFromOneValue => {
                "two compare-and-sets that took effect expected the same value"
            }
            ViolationKind::CasCycle => "compare-and-sets that took effect form a cycle",
            ViolationKind::ChainInfeasible => {
                "an operation had to take effect before one it depends on"
            }
            ViolationKind::ForwardZonesOverlap => {
                "two values each had to be current over the same stretch of time"
            }
            ViolationKind::BackwardZoneInsideForward => {
                "a value had to be current at a time when another one had to be"
            }
        }
    }
}

fn start(op: &Operation) -> Time {
    op.invoke_ns.saturating_add(1)
}

fn end(op: &Operation) -> Time {
    op.complete_ns.map_or(AFTER_ALL, |t| t.saturating_add(1))
}

/// A bound with the operation that sets it (`NONE`: the initial value's
/// virtual write, or no bound yet). Sixteen bytes: there is one per value.
#[derive(Clone, Copy, Debug)]
struct Bound {
    at: Time,
    by: u32,
}

impl Bound {
    fn new(at: Time, op: Option<usize>) -> Bound {
        Bound {
            at,
            by: op.map_or(NONE, |p| u32::try_from(p).expect("positions fit u32")),
        }
    }
    fn op(self) -> Option<usize> {
        (self.by != NONE).then_some(self.by as usize)
    }
}

/// A chain's zone: it must cover `[l, h]` (forward, `h > l`) or fits at a
/// point of `[h, l]` (backward).
#[derive(Clone, Copy, Debug)]
struct Zone {
    l: Bound,
    h: Bound,
}

/// The key's operations, read into value ids and roles.
struct Indexed {
    /// Per position: the value read (reads) or written (writes, cas); NONE
    /// for operations left out.
    value: Vec<u32>,
    /// Per position: a cas's expected value; NONE otherwise.
    expected: Vec<u32>,
    init: u32,
    values: usize,
}

/// What the operation does here.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Ignored,
    Read,
    Write,
    Cas,
}

fn role(op: &Operation) -> Result<Role, &'static str> {
    Ok(match (op.f, op.outcome) {
        (_, Outcome::Fail) => Role::Ignored,
        (Function::Read, Outcome::Ok) if op.value.is_some() => Role::Read,
        (Function::Read, _) => Role::Ignored,
        (Function::Write, _) if op.value.is_some() => Role::Write,
        (Function::Cas, _) if op.value.is_some() && op.expected.is_some() => Role::Cas,
        (Function::Cas, _) => return Err("a compare-and-set without both values"),
        (Function::Append, _) => return Err("appends: a state is a concatenation"),
        _ => return Err("operations that are not reads, writes or compare-and-sets"),
    })
}

#[cfg(test)]
thread_local! {
    /// Tests: every string hashes alike, so every run is a collision.
    static ALL_HASHES_COLLIDE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn stable_str_hash(text: &str) -> u64 {
    #[cfg(test)]
    if ALL_HASHES_COLLIDE.with(|c| c.get()) {
        return 0;
    }
    crate::hash::stable_hash(text)
}

/// Numbers the values the operations mention (and the initial one): equal
/// strings get equal ids. Mentions are sorted by hash and position, never
/// by string (a read shares its write's hash, so a string sort would
/// compare equal strings all the time); strings are compared only within
/// a run of equal hashes.
fn index(ops: &[&Operation], roles: &[Role], initial: &str) -> Indexed {
    // (hash, code): code is position·2 + slot (0 the value, 1 the expected
    // value); the initial value is u32::MAX.
    let mut mentions: Vec<(u64, u32)> = Vec::with_capacity(ops.len() + 1);
    for (p, (op, role)) in ops.iter().zip(roles).enumerate() {
        let code = u32::try_from(2 * p).expect("positions fit the mention code");
        match role {
            Role::Ignored => {}
            Role::Read | Role::Write => {
                mentions.push((stable_str_hash(op.value.as_deref().expect("role")), code))
            }
            Role::Cas => {
                mentions.push((stable_str_hash(op.value.as_deref().expect("role")), code));
                mentions.push((
                    stable_str_hash(op.expected.as_deref().expect("role")),
                    code + 1,
                ));
            }
        }
    }
    mentions.push((stable_str_hash(initial), u32::MAX));
    let text = |code: u32| -> &str {
        if code == u32::MAX {
            return initial;
        }
        let op = ops[code as usize / 2];
        if code.is_multiple_of(2) {
            op.value.as_deref().expect("mentioned")
        } else {
            op.expected.as_deref().expect("mentioned")
        }
    };
    mentions.sort_unstable();
    let mut value = vec![NONE; ops.len()];
    let mut expected = vec![NONE; ops.len()];
    let mut init = NONE;
    let mut next: u32 = 0;
    let mut assign = |code: u32, id: u32| match code {
        u32::MAX => init = id,
        code if code % 2 == 0 => value[code as usize / 2] = id,
        code => expected[code as usize / 2] = id,
    };
    let mut run_start = 0;
    while run_start < mentions.len() {
        let hash = mentions[run_start].0;
        let run_end = run_start + mentions[run_start..].partition_point(|m| m.0 == hash);
        let run = &mut mentions[run_start..run_end];
        let first = text(run[0].1);
        if run.iter().all(|m| text(m.1) == first) {
            for m in run.iter() {
                assign(m.1, next);
            }
            next += 1;
        } else {
            // A hash collision: order the run by string (and code, so the
            // ids are the same on every run).
            run.sort_unstable_by(|a, b| text(a.1).cmp(text(b.1)).then(a.1.cmp(&b.1)));
            for i in 0..run.len() {
                if i > 0 && text(run[i].1) != text(run[i - 1].1) {
                    next += 1;
                }
                assign(run[i].1, next);
            }
            next += 1;
        }
        run_start = run_end;
    }
    debug_assert!(init != NONE, "the initial value is numbered");
    Indexed {
        value,
        expected,
        init,
        values: next as usize,
    }
}

/// Checks one key's operations (those `constrains` keeps, or any superset:
/// failed operations and unknown reads are ignored) against a register
/// starting at `initial`.
pub fn check_key(ops: &[&Operation], initial: &str) -> KeyVerdict {
    let analysis = match Analysis::new(ops, initial) {
        Err(reason) => return KeyVerdict::NotApplicable(reason),
        Ok(analysis) => analysis,
    };
    match analysis.verdict() {
        Ok(()) => KeyVerdict::Linearizable,
        Err((kind, core)) => {
            let window = analysis.closure(&core);
            debug_assert!(
                matches!(check_sub(ops, &window, initial), KeyVerdict::Violation(_)),
                "a violation's window ({kind:?}) is not linearizable on its own"
            );
            let window = shrink(ops, window, initial);
            KeyVerdict::Violation(Violation { kind, window })
        }
    }
}

/// The check on the operations at `positions` alone.
fn check_sub(ops: &[&Operation], positions: &[usize], initial: &str) -> KeyVerdict {
    let sub: Vec<&Operation> = positions.iter().map(|&p| ops[p]).collect();
    match Analysis::new(&sub, initial) {
        Err(reason) => KeyVerdict::NotApplicable(reason),
        Ok(analysis) => match analysis.verdict() {
            Ok(()) => KeyVerdict::Linearizable,
            Err((kind, _)) => KeyVerdict::Violation(Violation {
                kind,
                window: positions.to_vec(),
            }),
        },
    }
}

/// Drops operations from a window one at a time while it stays closed
/// (every value it reads is written in it, every unknown operation in it
/// is forced) and not linearizable.
fn shrink(ops: &[&Operation], mut window: Vec<usize>, initial: &str) -> Vec<usize> {
    if window.len() > SHRINK_WINDOW_MAX || !closed(ops, &window, initial) {
        return window;
    }
    let mut i = window.len();
    while i > 0 {
        i -= 1;
        let mut candidate = window.clone();
        candidate.remove(i);
        if closed(ops, &candidate, initial)
            && matches!(
                check_sub(ops, &candidate, initial),
                KeyVerdict::Violation(_)
            )
        {
            window = candidate;
        }
    }
    window
}

/// Whether the operations at `positions` read and expect only values
/// written among them (or the initial one), and every unknown write among
/// them is forced by a read or a forced compare-and-set among them.
fn closed(ops: &[&Operation], positions: &[usize], initial: &str) -> bool {
    let sub: Vec<&Operation> = positions.iter().map(|&p| ops[p]).collect();
    let Ok(analysis) = Analysis::new(&sub, initial) else {
        return false;
    };
    (0..sub.len()).all(|p| {
        let observed_ok = |v: u32| v == analysis.ix.init || analysis.creator[v as usize] != NONE;
        match analysis.roles[p] {
            Role::Ignored => true,
            Role::Read => observed_ok(analysis.ix.value[p]),
            Role::Write => analysis.necessary[p],
            Role::Cas => analysis.necessary[p] && observed_ok(analysis.ix.expected[p]),
        }
    })
}

/// The key's operations read into values, creators and chains' inputs.
struct Analysis<'a> {
    ops: &'a [&'a Operation],
    roles: Vec<Role>,
    ix: Indexed,
    /// Per value: the necessary operation that wrote it (NONE: none).
    creator: Vec<u32>,
    /// Per position: whether a write or cas took effect for certain.
    necessary: Vec<bool>,
    /// Per position: for a necessary unknown operation, the operation that
    /// observed its value (a read, or a necessary cas expecting it).
    needed_by: Vec<u32>,
}

type Found = (ViolationKind, Vec<usize>);

impl<'a> Analysis<'a> {
    fn new(ops: &'a [&'a Operation], initial: &str) -> Result<Self, &'static str> {
        // Positions are kept in 32 bits (a mention's code is twice one).
        if ops.len() >= (u32::MAX / 2) as usize {
            return Err("more than 2^31 operations on one key");
        }
        let roles = ops
            .iter()
            .map(|op| role(op))
            .collect::<Result<Vec<Role>, _>>()?;
        let ix = index(ops, &roles, initial);
        // Every creator, necessary or not: values must be distinct among all
        // writes, since an unknown duplicate could be the one a read saw.
        let mut creator = vec![NONE; ix.values];
        for (p, role) in roles.iter().enumerate() {
            if matches!(role, Role::Write | Role::Cas) {
                let v = ix.value[p] as usize;
                if ix.value[p] == ix.init {
                    return Err("a write of the initial value");
                }
                if creator[v] != NONE {
                    return Err("a value written twice");
                }
                creator[v] = p as u32;
            }
        }
        // Necessity: completed writes and cas, then unknown creators whose
        // values necessary operations observed, transitively.
        let mut necessary = vec![false; ops.len()];
        let mut needed_by = vec![NONE; ops.len()];
        let mut work: Vec<(u32, u32)> = Vec::new(); // (observed value, observer)
        for p in 0..ops.len() {
            let ok = ops[p].outcome == Outcome::Ok;
            match roles[p] {
                Role::Read => work.push((ix.value[p], p as u32)),
                Role::Write => necessary[p] = ok,
                Role::Cas if ok => {
                    necessary[p] = true;
                    work.push((ix.expected[p], p as u32));
                }
                _ => {}
            }
        }
        while let Some((v, observer)) = work.pop() {
            let c = creator[v as usize];
            if c == NONE || necessary[c as usize] {
                continue;
            }
            let c = c as usize;
            necessary[c] = true;
            needed_by[c] = observer;
            if roles[c] == Role::Cas {
                work.push((ix.expected[c], c as u32));
            }
        }
        // From here on only necessary operations create values.
        for p in 0..ops.len() {
            if matches!(roles[p], Role::Write | Role::Cas) && !necessary[p] {
                creator[ix.value[p] as usize] = NONE;
            }
        }
        Ok(Analysis {
            ops,
            roles,
            ix,
            creator,
            necessary,
            needed_by,
        })
    }

    /// Linearizable (`Ok`), or a violation with its core operations.
    fn verdict(&self) -> Result<(), Found> {
        let ops = self.ops;
        let (init, values) = (self.ix.init, self.ix.values);
        // Reads per value: the earliest completion and the latest invoke.
        let mut read_end = vec![Bound::new(AFTER_ALL, None); values];
        let mut read_start = vec![Bound::new(BEFORE_ALL, None); values];
        for (p, op) in ops.iter().enumerate() {
            if self.roles[p] != Role::Read {
                continue;
            }
            let v = self.ix.value[p];
            if v != init && self.creator[v as usize] == NONE {
                return Err((ViolationKind::ReadOfUnwrittenValue, vec![p]));
            }
            let v = v as usize;
            if end(op) < read_end[v].at {
                read_end[v] = Bound::new(end(op), Some(p));
            }
            if start(op) > read_start[v].at {
                read_start[v] = Bound::new(start(op), Some(p));
            }
        }
        // The compare-and-set that took effect from each value.
        let mut successor = vec![NONE; values];
        for p in 0..ops.len() {
            if self.roles[p] != Role::Cas || !self.necessary[p] {
                continue;
            }
            let e = self.ix.expected[p];
            if e != init && self.creator[e as usize] == NONE {
                return Err((ViolationKind::CasOfUnwrittenValue, vec![p]));
            }
            let first = successor[e as usize];
            if first != NONE {
                return Err((ViolationKind::TwoCasFromOneValue, vec![first as usize, p]));
            }
            successor[e as usize] = p as u32;
        }
        // Chains from the initial value and from each necessary write, in
        // position order (deterministic).
        let mut heads: Vec<(Option<usize>, u32)> = vec![(None, init)];
        for p in 0..ops.len() {
            if self.roles[p] == Role::Write && self.necessary[p] {
                heads.push((Some(p), self.ix.value[p]));
            }
        }
        let mut reached = vec![false; values];
        let mut zones: Vec<Zone> = Vec::with_capacity(heads.len());
        for &(head, value) in &heads {
            zones.push(self.chain_zone(
                head,
                value,
                &successor,
                &read_start,
                &read_end,
                &mut reached,
            )?);
        }
        // A necessary creator no chain reached sits on a cycle of cas (in
        // position order, so that the window does not depend on hashes).
        for p in 0..ops.len() {
            if self.necessary[p] && !reached[self.ix.value[p] as usize] {
                return Err((ViolationKind::CasCycle, self.cycle_from(p)));
            }
        }
        // Forward zones, by start: each must end before the next begins.
        let mut forward: Vec<&Zone> = zones.iter().filter(|z| z.h.at > z.l.at).collect();
        forward.sort_by_key(|z| (z.l.at, z.h.at, z.l.op(), z.h.op()));
        for pair in forward.windows(2) {
            if pair[1].l.at < pair[0].h.at {
                return Err((
                    ViolationKind::ForwardZonesOverlap,
                    zone_ops(&[pair[0], pair[1]]),
                ));
            }
        }
        // A backward zone needs one point outside every forward interior:
        // only the forward zone starting last before it can cover it.
        for zone in zones.iter().filter(|z| z.h.at <= z.l.at) {
            let before = forward.partition_point(|f| f.l.at < zone.h.at);
            if before == 0 {
                continue;
            }
            let f = forward[before - 1];
            if zone.l.at < f.h.at {
                return Err((
                    ViolationKind::BackwardZoneInsideForward,
                    zone_ops(&[zone, f]),
                ));
            }
        }
        Ok(())
    }

    /// Walks one chain from its head (`None`: the initial value), checks
    /// it can be placed alone, and returns its zone.
    fn chain_zone(
        &self,
        head: Option<usize>,
        first_value: u32,
        successor: &[u32],
        read_start: &[Bound],
        read_end: &[Bound],
        reached: &mut [bool],
    ) -> Result<Zone, Found> {
        let ops = self.ops;
        let virtual_point = Bound::new(BEFORE_ALL, None);
        let point = |p: Option<usize>, at: fn(&Operation) -> Time| match p {
            Some(p) => Bound::new(at(ops[p]), Some(p)),
            None => virtual_point,
        };
        let later = |a: Bound, b: Bound| if b.at > a.at { b } else { a };
        let earlier = |a: Bound, b: Bound| if b.at < a.at { b } else { a };
        let mut link = head;
        let mut value = first_value;
        // The largest lower bound so far (max A_i) and min B_j.
        let mut lo = point(head, start);
        let mut l = Bound::new(AFTER_ALL, None);
        loop {
            reached[value as usize] = true;
            let b = earlier(point(link, end), read_end[value as usize]);
            if lo.at > b.at {
                let core = [lo.op(), b.op()].into_iter().flatten().collect();
                return Err((ViolationKind::ChainInfeasible, core));
            }
            l = earlier(l, b);
            let next = successor[value as usize];
            if next == NONE {
                break;
            }
            let next = next as usize;
            // A_next: the cas's invoke, and every read of the value it replaces.
            let a = later(point(Some(next), start), read_start[value as usize]);
            lo = later(lo, a);
            link = Some(next);
            value = self.ix.value[next];
        }
        let h = later(lo, read_start[value as usize]);
        Ok(Zone { l, h })
    }

    /// The cas operations of the cycle that `p`'s expected values lead into.
    fn cycle_from(&self, p: usize) -> Vec<usize> {
        let mut seen = BTreeSet::new();
        let mut at = p;
        // Follow expected values back; creators are cas until the cycle
        // closes (a write or the initial value would have been a head).
        while seen.insert(at) {
            let e = self.ix.expected[at];
            debug_assert!(self.roles[at] == Role::Cas, "only cas lead back");
            at = self.creator[e as usize] as usize;
        }
        let mut cycle = vec![at];
        let mut next = self.creator[self.ix.expected[at] as usize] as usize;
        while next != at {
            cycle.push(next);
            next = self.creator[self.ix.expected[next] as usize] as usize;
        }
        cycle
    }

    /// `core` plus what it needs to mean the same on its own: the creator
    /// of every value read or expected, and the observer that forces an
    /// unknown operation to have taken effect. Ascending positions.
    fn closure(&self, core: &[usize]) -> Vec<usize> {
        let mut window = BTreeSet::new();
        let mut work: Vec<usize> = core.to_vec();
        while let Some(p) = work.pop() {
            if !window.insert(p) {
                continue;
            }
            let observed = match self.roles[p] {
                Role::Read => Some(self.ix.value[p]),
                Role::Cas => Some(self.ix.expected[p]),
                _ => None,
            };
            if let Some(v) = observed.filter(|&v| v != self.ix.init) {
                let c = self.creator[v as usize];
                if c != NONE {
                    work.push(c as usize);
                }
            }
            if self.ops[p].outcome == Outcome::Info && self.needed_by[p] != NONE {
                work.push(self.needed_by[p] as usize);
            }
        }
        window.into_iter().collect()
    }
}

/// The operations that set the zones' bounds.
fn zone_ops(zones: &[&Zone]) -> Vec<usize> {
    zones
        .iter()
        .flat_map(|z| [z.l.op(), z.h.op()])
        .flatten()
        .collect::<BTreeSet<usize>>()
        .into_iter()
        .collect()
}
