//! What a sweep's reads saw and what its clients got, per group: the
//! consistency and availability tables beside the results.
//!
//! - `consistency.csv`: per group, the reads judged and how many were
//!   stale, P(consistent) at t = 0, the t at which 99.9% of reads are
//!   consistent (t-visibility) with its 95% interval, the share of reads
//!   within 1, 2 and 3 versions of the newest (k-staleness), and read and
//!   write latency (median and p99.9) from merged histograms (each within
//!   0.79%). `visibility_from` says how t-visibility was measured:
//!   - `thresholds`: from each read's threshold, the least t at which it
//!     would have been consistent, where the protocol's monitor reports
//!     them (`sim_core::checker::visibility`); every read counts at every
//!     t, the 99.9% point is the thresholds' 0.999 quantile, and its
//!     interval is exact (order statistics);
//!   - `bins`: from reads' outcomes binned by the t they began at (the
//!     other protocols). P(consistent) at t = 0 is then over
//!     `t0_window_ms` (reads begun at exactly 0, or the first bins pooled
//!     to 100 reads within 1 ms, since random reads rarely begin at the
//!     very instant); the 99.9% point is read from a non-decreasing fit of
//!     the curve, and its interval from the fit's blocks' Wilson intervals.
//! - `visibility.csv`: the t-visibility curve per group, bin by bin (from
//!   thresholds: the share of all reads consistent if begun at each edge).
//! - `availability.csv`: per group whose runs had crashes, the share of
//!   100 ms windows in which a write was served, and the share of time at
//!   least k servers were up (what a quorum of k could have served).
//! - `sides.csv`: per group and side of a partition that names clients,
//!   the operations' outcomes (`gave_up`: the fails the client gave
//!   itself, every attempt refused; the other fails a server answered,
//!   which is served), the served share, the share of the partition's
//!   100 ms windows in which the side got a server's answer, and the
//!   side's stale reads (CAP, per side).
//!
//! t-visibility follows Bailis et al. (PBS, VLDB 2012): a read begun t
//! after the latest write to its key completed is consistent if it
//! returned that write or a version not certainly older
//! (`sim_core::checker::staleness`).

use super::results::{Header, UnitResult};
pub use super::unit_consistency::UnitConsistency;
use crate::side_counts::SideCounts;
use serde::{Deserialize, Serialize};
use sim_core::checker::staleness::{visibility_edges_ms, BEHIND_MAX};
use sim_core::checker::visibility::{Counting, Quantile, Thresholds};
use sim_core::histogram::LatencyHistogram;

/// The normal quantile of the binned fit's 95% Wilson intervals.
const WILSON_Z: f64 = 1.959_964;

/// One group's runs, summed: the one shape a group's consistency takes,
/// from which the sweep writes its CSV files and the report draws.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupConsistency {
    pub label: String,
    pub runs: u64,
    pub reads: u64,
    pub stale_reads: u64,
    pub versions_behind: Vec<u64>,
    /// Per bin of `visibility_edges_ms`: (reads, consistent).
    pub visibility: Vec<(u64, u64)>,
    pub read_latency: LatencyHistogram,
    pub write_latency: LatencyHistogram,
    /// Per side, in the order first seen: its summed counts.
    pub sides: Vec<SideCounts>,
    /// Runs with crashes, and per k their summed shares of time with at
    /// least k servers up.
    pub runs_with_outages: u64,
    pub servers_up: Vec<f64>,
    /// Summed (windows, windows with an ok write).
    pub write_windows: (u64, u64),
    /// The reads' t-visibility thresholds, summed, where the protocol
    /// reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
}

impl GroupConsistency {
    /// P(consistent) for reads begun as the write completed, and the
    /// window it was measured over, ms: reads begun at exactly t = 0 when
    /// there are `AT_ZERO_READS_MIN` of them (a workload that reads right
    /// after each write, as PBS does), else the bins from 0 pooled until
    /// they hold that many, up to `AT_ZERO_WINDOW_MS_MAX`. Random reads
    /// almost never begin at the very nanosecond a write completed, so an
    /// exact-zero bin alone left this empty for every group of such a
    /// workload. None when no read began within the window.
    pub fn at_zero(&self) -> Option<(f64, f64)> {
        if let Some(counting) = self.counting() {
            return counting.p_at_zero().map(|p| (p, 0.0));
        }
        let edges = visibility_edges_ms();
        let (mut reads, mut consistent) = (0u64, 0u64);
        let mut upto_ms = 0.0;
        for (i, (r, c)) in self.visibility.iter().enumerate() {
            let upper = edges.get(i + 1).copied().unwrap_or(f64::INFINITY);
            if upper > AT_ZERO_WINDOW_MS_MAX {
                break;
            }
            reads += r;
            consistent += c;
            upto_ms = upper;
            if reads >= AT_ZERO_READS_MIN {
                break;
            }
        }
        debug_assert!(consistent <= reads);
        (reads > 0).then(|| (consistent as f64 / reads as f64, upto_ms))
    }

    /// The thresholds, ready to count from.
    fn counting(&self) -> Option<Counting> {
        let thresholds = self.thresholds.as_ref()?;
        let mut counting = Counting::default();
        counting.merge(thresholds);
        (counting.reads() > 0).then_some(counting)
    }

    /// How t-visibility was measured: "thresholds" or "bins".
    pub fn visibility_from(&self) -> &'static str {
        if self.counting().is_some() {
            "thresholds"
        } else {
            "bins"
        }
    }

    /// The least t, ms, at which P(consistent) reaches `p`, with its 95%
    /// interval: from the thresholds where there are any, else from the
    /// bins (`t_at`, the interval from the fit's blocks' Wilson bounds).
    pub fn visibility_point(&self, p: f64) -> Option<Quantile> {
        if let Some(counting) = self.counting() {
            return counting.t_at(p);
        }
        let ms = self.t_at(p)?;
        let (low_ms, high_ms) = self.t_at_bounds(p);
        Some(Quantile {
            ms,
            low_ms: low_ms.unwrap_or(ms).min(ms),
            high_ms: high_ms.map(|h| h.max(ms)),
        })
    }

    /// The bins pooled into the isotonic fit's blocks: (first bin, reads,
    /// consistent).
    fn blocks(&self) -> Vec<(usize, u64, u64)> {
        let mut blocks: Vec<(usize, u64, u64)> = Vec::new();
        for (i, (reads, consistent)) in self.visibility.iter().enumerate() {
            if *reads == 0 {
                continue;
            }
            blocks.push((i, *reads, *consistent));
            // Pool while the last block's rate is below the one before it.
            while blocks.len() >= 2 {
                let (_, r2, c2) = blocks[blocks.len() - 1];
                let (first, r1, c1) = blocks[blocks.len() - 2];
                if (c2 as f64) * (r1 as f64) >= (c1 as f64) * (r2 as f64) {
                    break;
                }
                blocks.truncate(blocks.len() - 2);
                blocks.push((first, r1 + r2, c1 + c2));
            }
        }
        blocks
    }

    /// The first block edge whose Wilson upper bound reaches `p` (the
    /// interval's low end) and whose lower bound does (its high end).
    fn t_at_bounds(&self, p: f64) -> (Option<f64>, Option<f64>) {
        let edges = visibility_edges_ms();
        let wilson = |reads: u64, consistent: u64| {
            let (n, z) = (reads as f64, WILSON_Z);
            let phat = consistent as f64 / n;
            let centre = (phat + z * z / (2.0 * n)) / (1.0 + z * z / n);
            let half =
                z / (1.0 + z * z / n) * (phat * (1.0 - phat) / n + z * z / (4.0 * n * n)).sqrt();
            (centre - half, centre + half)
        };
        let blocks = self.blocks();
        let first = |bound: &dyn Fn((f64, f64)) -> f64| {
            blocks
                .iter()
                .find(|(_, r, c)| bound(wilson(*r, *c)) >= p)
                .map(|(i, _, _)| edges[*i])
        };
        (first(&|(_, high)| high), first(&|(low, _)| low))
    }

    /// The lower edge, ms, of the first t-visibility bin whose fitted
    /// P(consistent) is at least `p`. The fit is isotonic: the
    /// non-decreasing curve closest to the bins' estimates, weighted by
    /// their reads (pool adjacent violators), since P(consistent) can only
    /// grow with t; one stale read in a thin bin far out would otherwise
    /// decide the answer. None when the fit never reaches `p`.
    pub fn t_at(&self, p: f64) -> Option<f64> {
        let edges = visibility_edges_ms();
        self.blocks()
            .iter()
            .find(|(_, reads, consistent)| *consistent as f64 >= p * *reads as f64)
            .map(|(first, _, _)| edges[*first])
    }

    /// The share of judged reads that missed a completed write.
    pub fn stale_share(&self) -> Option<f64> {
        (self.reads > 0).then(|| self.stale_reads as f64 / self.reads as f64)
    }

    /// Read latency (p50, p99, p99.9), ms, from the merged histogram.
    pub fn read_ms(&self) -> Option<(f64, f64, f64)> {
        quantiles_ms(&self.read_latency)
    }

    /// Write latency (p50, p99, p99.9), ms.
    pub fn write_ms(&self) -> Option<(f64, f64, f64)> {
        quantiles_ms(&self.write_latency)
    }

    /// The t-visibility bins with reads: (lower edge ms, reads, consistent).
    /// From thresholds: at each edge, every read, and those that would
    /// have been consistent begun then.
    pub fn visibility_ms(&self) -> Vec<(f64, u64, u64)> {
        let edges = visibility_edges_ms();
        if let Some(counting) = self.counting() {
            let reads = counting.reads();
            return edges
                .iter()
                .map(|edge| (*edge, reads, counting.consistent_at(*edge)))
                .collect();
        }
        self.visibility
            .iter()
            .enumerate()
            .filter(|(_, (reads, _))| *reads > 0)
            .map(|(i, (reads, consistent))| (edges[i], *reads, *consistent))
            .collect()
    }

    /// The share of reads that returned one of the last `k` versions.
    pub fn within(&self, k: usize) -> Option<f64> {
        let total: u64 = self.versions_behind.iter().sum();
        let within: u64 = self.versions_behind.iter().take(k).sum();
        (total > 0).then(|| within as f64 / total as f64)
    }
}

/// The groups' sums, in header order.
pub fn by_group(header: &Header, results: &[UnitResult]) -> Vec<GroupConsistency> {
    let bins = visibility_edges_ms().len();
    let mut groups: Vec<GroupConsistency> = header
        .groups
        .iter()
        .map(|g| GroupConsistency {
            label: g.label.clone(),
            versions_behind: vec![0; BEHIND_MAX + 1],
            visibility: vec![(0, 0); bins],
            ..GroupConsistency::default()
        })
        .collect();
    let mut counting: Vec<Option<Counting>> = vec![None; groups.len()];
    for unit in results {
        let (Some(group), Some(c)) = (groups.get_mut(unit.group), &unit.consistency) else {
            continue;
        };
        if let Some(thresholds) = &c.thresholds {
            counting[unit.group]
                .get_or_insert_with(Counting::default)
                .merge(thresholds);
        }
        group.runs += 1;
        group.reads += c.reads;
        group.stale_reads += c.stale_reads;
        for (sum, n) in group.versions_behind.iter_mut().zip(&c.versions_behind) {
            *sum += n;
        }
        for &(bin, reads, consistent) in &c.visibility {
            if let Some(slot) = group.visibility.get_mut(bin as usize) {
                slot.0 += reads;
                slot.1 += consistent;
            }
        }
        group
            .read_latency
            .merge(&LatencyHistogram::from_sparse(&c.read_latency));
        group
            .write_latency
            .merge(&LatencyHistogram::from_sparse(&c.write_latency));
        if !c.servers_up.is_empty() {
            group.runs_with_outages += 1;
            if group.servers_up.len() < c.servers_up.len() {
                group.servers_up.resize(c.servers_up.len(), 0.0);
            }
            for (sum, share) in group.servers_up.iter_mut().zip(&c.servers_up) {
                *sum += share;
            }
        }
        if let Some((windows, served)) = c.write_windows {
            group.write_windows.0 += windows;
            group.write_windows.1 += served;
        }
        for side in &c.sides {
            match group.sides.iter_mut().find(|s| s.side == side.side) {
                Some(sum) => sum.add(side),
                None => group.sides.push(side.clone()),
            }
        }
    }
    for (group, counting) in groups.iter_mut().zip(counting) {
        group.thresholds = counting.map(|c| c.finish());
    }
    groups
}

fn field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn opt(value: Option<f64>, digits: usize) -> String {
    value.map_or(String::new(), |v| format!("{v:.digits$}"))
}

fn quantiles_ms(h: &LatencyHistogram) -> Option<(f64, f64, f64)> {
    (h.count() > 0).then(|| {
        (
            h.quantile_ms(0.5),
            h.quantile_ms(0.99),
            h.quantile_ms(0.999),
        )
    })
}

fn quantile(h: &LatencyHistogram, q: f64) -> Option<f64> {
    (h.count() > 0).then(|| h.quantile_ms(q))
}

/// `GroupConsistency::at_zero` pools reads until it has this many...
pub const AT_ZERO_READS_MIN: u64 = 100;
/// ...within this long after the write completed, ms.
pub const AT_ZERO_WINDOW_MS_MAX: f64 = 1.0;

/// `consistency.csv`: one row per group with reads.
pub fn consistency_csv(groups: &[GroupConsistency]) -> String {
    let mut out = String::from(
        "group,runs,reads,stale_reads,visibility_from,visibility_reads,p_consistent_t0,t0_window_ms,t_999_ms,t_999_ms_low,t_999_ms_high,within_1,within_2,within_3,read_ms_p50,read_ms_p999,write_ms_p50,write_ms_p999\n",
    );
    for g in groups.iter().filter(|g| g.runs > 0) {
        let point = g.visibility_point(0.999);
        let visibility_reads = match g.counting() {
            Some(c) => c.reads(),
            None => g.visibility.iter().map(|(r, _)| r).sum(),
        };
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            field(&g.label),
            g.runs,
            g.reads,
            g.stale_reads,
            g.visibility_from(),
            visibility_reads,
            opt(g.at_zero().map(|(p, _)| p), 5),
            opt(g.at_zero().map(|(_, upto)| upto), 6),
            opt(point.map(|q| q.ms), 3),
            opt(point.map(|q| q.low_ms), 3),
            opt(point.and_then(|q| q.high_ms), 3),
            opt(g.within(1), 5),
            opt(g.within(2), 5),
            opt(g.within(3), 5),
            opt(quantile(&g.read_latency, 0.5), 3),
            opt(quantile(&g.read_latency, 0.999), 3),
            opt(quantile(&g.write_latency, 0.5), 3),
            opt(quantile(&g.write_latency, 0.999), 3),
        ));
    }
    out
}

/// `visibility.csv`: the t-visibility curve, one row per group and bin
/// with reads; from thresholds, one row per edge, a point (t_ms_to =
/// t_ms_from) over every read.
pub fn visibility_csv(groups: &[GroupConsistency]) -> String {
    let edges = visibility_edges_ms();
    let mut out = String::from("group,t_ms_from,t_ms_to,reads,consistent,p_consistent\n");
    // Edges are sums of tenths: print them as people write them.
    let show = |e: f64| format!("{}", (e * 1e6).round() / 1e6);
    for g in groups {
        let points = g.thresholds.is_some();
        for (from, reads, consistent) in g.visibility_ms() {
            let to = if points {
                show(from)
            } else {
                let i = edges.partition_point(|e| *e <= from);
                edges.get(i).map_or(String::new(), |e| show(*e))
            };
            out.push_str(&format!(
                "{},{},{to},{reads},{consistent},{:.5}\n",
                field(&g.label),
                show(from),
                consistent as f64 / reads as f64
            ));
        }
    }
    out
}

/// `sides.csv`: per group and side, outcomes and stale reads.
pub fn sides_csv(groups: &[GroupConsistency]) -> String {
    let mut out = String::from(
        "group,side,ok,fail,gave_up,info,availability,time_served,reads,stale_reads\n",
    );
    for g in groups {
        for s in &g.sides {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{}\n",
                field(&g.label),
                field(&s.side),
                s.ok,
                s.fail,
                s.gave_up,
                s.info,
                opt(s.availability(), 4),
                opt(s.time_served(), 4),
                s.reads,
                s.stale_reads
            ));
        }
    }
    out
}

/// `availability.csv`: per group with outages, the share of 100 ms
/// windows in which a write was served, and the mean share of time at
/// least k servers were up, for every k.
pub fn availability_csv(groups: &[GroupConsistency]) -> String {
    let servers = groups
        .iter()
        .map(|g| g.servers_up.len())
        .max()
        .unwrap_or(1)
        .max(1)
        - 1;
    let mut out = String::from("group,runs,write_windows,write_served");
    for k in 1..=servers {
        out.push_str(&format!(",up_at_least_{k}"));
    }
    out.push('\n');
    for g in groups.iter().filter(|g| g.runs_with_outages > 0) {
        let (windows, served) = g.write_windows;
        out.push_str(&format!(
            "{},{},{windows},{}",
            field(&g.label),
            g.runs_with_outages,
            opt((windows > 0).then(|| served as f64 / windows as f64), 5)
        ));
        for k in 1..=servers {
            let share = g
                .servers_up
                .get(k)
                .map(|sum| sum / g.runs_with_outages as f64);
            out.push_str(&format!(",{}", opt(share, 5)));
        }
        out.push('\n');
    }
    out
}

/// The files, as (name, text), for the sweep to write.
pub fn files(header: &Header, results: &[UnitResult]) -> Vec<(&'static str, String)> {
    let groups = by_group(header, results);
    let mut files = Vec::new();
    if groups.iter().any(|g| g.runs > 0) {
        files.push(("consistency.csv", consistency_csv(&groups)));
        files.push(("visibility.csv", visibility_csv(&groups)));
    }
    if groups.iter().any(|g| !g.sides.is_empty()) {
        files.push(("sides.csv", sides_csv(&groups)));
    }
    if groups.iter().any(|g| g.runs_with_outages > 0) {
        files.push(("availability.csv", availability_csv(&groups)));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(visibility: &[(u64, u64)]) -> GroupConsistency {
        GroupConsistency {
            visibility: visibility.to_vec(),
            versions_behind: vec![90, 9, 1],
            runs: 1,
            ..GroupConsistency::default()
        }
    }

    fn edges_at(i: usize) -> f64 {
        visibility_edges_ms()[i]
    }

    #[test]
    fn t_visibility_reads_a_non_decreasing_fit_of_the_curve() {
        // Bins 0..: 97% at t = 0, then 99.5%, then a thin bin at 50% that
        // the fit pools with its neighbours, then 99.95% and 100%.
        let g = group(&[(1000, 970), (1000, 995), (10, 5), (2000, 1999), (500, 500)]);
        // 1,000 reads at exactly t = 0: that bin alone.
        assert_eq!(g.at_zero(), Some((0.97, 1e-6)));
        // Random reads: none at exactly 0, so the first bins are pooled
        // until they hold 100 reads (here 0.1 ms), never past 1 ms.
        let random = group(&[(0, 0), (60, 50), (60, 60), (1000, 1000)]);
        assert_eq!(random.at_zero(), Some((110.0 / 120.0, edges_at(3))));
        let sparse = group(&[(0, 0), (3, 2)]);
        assert_eq!(sparse.at_zero(), Some((2.0 / 3.0, edges_at(2))));
        assert_eq!(group(&[(0, 0)]).at_zero(), None);
        let edges = visibility_edges_ms();
        // The fit pools bins 1 and 2 into 1000/1010 = 99.0%, so 99.9% is
        // first reached at bin 3.
        assert_eq!(g.t_at(0.999), Some(edges[3]));
        assert_eq!(g.t_at(0.99), Some(edges[1]));
        assert_eq!(g.t_at(0.9), Some(0.0));
        // One stale read in a thin bin far out does not decide the answer.
        let noisy = group(&[(1000, 900), (5000, 4999), (800, 799), (700, 700)]);
        assert_eq!(noisy.t_at(0.999), Some(edges[1]));
        assert_eq!(g.within(1), Some(0.9));
        assert_eq!(g.within(2), Some(0.99));
        // Never reached: no answer rather than a wrong one.
        assert_eq!(group(&[(1000, 900)]).t_at(0.999), None);
    }
}
