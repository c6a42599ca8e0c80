//! The space-time (Lamport) diagram of a window of a run: one vertical
//! line per node, time running down, an arrow per message from its send
//! to its delivery (or to a cross where it was dropped, with the reason),
//! crashes and pauses drawn on the lines, partitions and other faults
//! across them, client operations as spans on their clients' lines, and
//! each violation marked where it happened.
//!
//! Time runs down in event order, not to scale: each distinct event time
//! gets a row of its own, labelled with the time in ms, because a
//! message's flight takes milliseconds and a burst of sends takes
//! nanoseconds, and to scale either would be unreadable. A stretch longer
//! than `GAP_NS` with nothing drawn is shown as a gap, labelled with how
//! long it lasted, so an 86 ms pause does not look like the next row.
//!
//! Messages to or from a node not drawn go to an "other nodes" lane at the
//! right, labelled with that node, so a chosen few nodes still show what
//! they said to the rest. Each message kind has its own colour, keyed
//! under the caption; a label that would overprint another is left out
//! (its colour still names the kind). Node names repeat down the diagram.
//!
//! The events come from a replay (`scenarios::replay`): the run only hashes
//! its events, and the diagram records the window it draws by running the
//! resolved scenario again.
//!
//! Bounded: at most `MESSAGES_MAX` messages (`MESSAGES_DEFAULT` in a
//! window faultline chose without a violation) and `LINES_MAX` lines. A window with more
//! messages is narrowed to those nearest its focus (three quarters before
//! a violation, one quarter before a fault or the user's start), and the
//! caption says where the window went and why.
//!
//! The default window: the first violation's, else around the first
//! fault (`BEFORE_FAULT_NS` before it to `AFTER_FAULT_NS` after), else the
//! run's first second. A window with nothing to draw says so.

use crate::charts::{outcome_colour, shorten, Drawable, Drawn, FAMILY};
use plotters::coord::Shift;
use plotters::prelude::*;
use sim_core::history::Outcome;
use sim_core::{TraceKind, TraceRecord};
use std::collections::BTreeMap;

/// Messages drawn at most.
pub const MESSAGES_MAX: usize = 300;
/// Messages drawn at most in a window faultline chose without a violation
/// (about what a slide holds).
pub const MESSAGES_DEFAULT: usize = 80;
/// Node lines drawn at most; past it, the busiest nodes in the window.
pub const LINES_MAX: usize = 24;
/// Without a violation, the default window is the run's first second.
pub const DEFAULT_SPAN_NS: u64 = 1_000_000_000;
/// Around a violation, the default window reaches back this far ...
pub const BEFORE_FOCUS_NS: u64 = 1_000_000_000;
/// ... and on this far after it.
pub const AFTER_FOCUS_NS: u64 = 100_000_000;
/// Without a violation, the default window opens this long before the
/// first fault ...
pub const BEFORE_FAULT_NS: u64 = 100_000_000;
/// ... and closes this long after it.
pub const AFTER_FAULT_NS: u64 = 900_000_000;
/// A stretch with nothing drawn longer than this is drawn as a gap.
pub const GAP_NS: u64 = 5_000_000;

/// Pixels per row, per line at least, and the margins.
const ROW_PX: i32 = 14;
const GAP_PX: i32 = 22;
const LINE_PX_MIN: i32 = 70;
const LEFT_PX: i32 = 110;
const BOTTOM_PX: i32 = 40;
/// Node names repeat this far apart down the diagram.
const NAMES_EVERY_PX: i32 = 640;
/// The lane of messages to and from nodes not drawn.
pub const OTHERS: &str = "other nodes";
const WIDTH_PX_MIN: i32 = 1200;
/// A label is cut to this many characters.
const LABEL_CHARS_MAX: usize = 60;

/// The window a user asked for; `None` and empty mean the default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LamportWindow {
    pub from_ns: Option<u64>,
    pub to_ns: Option<u64>,
    /// Node names to draw, in the order given.
    pub nodes: Vec<String>,
}

/// Something wrong, marked where it happened: a violated invariant or a
/// non-linearizable operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub time_ns: u64,
    /// The node it happened at (an index into the run's names), if any.
    pub node: Option<usize>,
    pub text: String,
    /// The window that shows it best, when it has one (a non-linearizable
    /// operation: the counterexample timeline's focus).
    pub window_ns: Option<(u64, u64)>,
}

/// A client operation, from invocation to completion.
#[derive(Clone, Debug, PartialEq)]
pub struct OpSpan {
    /// The client's node index.
    pub node: usize,
    pub invoke_ns: u64,
    /// `None`: it never completed (or completed after the window).
    pub complete_ns: Option<u64>,
    pub label: String,
    pub outcome: Outcome,
}

/// The indices of the nodes `window` names (`None` when it names none);
/// the error names an unknown node and lists the run's nodes.
pub fn chosen_nodes(
    window: &LamportWindow,
    names: &[String],
) -> Result<Option<Vec<usize>>, String> {
    if window.nodes.is_empty() {
        return Ok(None);
    }
    window
        .nodes
        .iter()
        .map(|name| {
            names.iter().position(|n| n == name).ok_or_else(|| {
                format!(
                    "no node is named \"{name}\"; this run's nodes are {}",
                    names.join(", ")
                )
            })
        })
        .collect::<Result<Vec<usize>, String>>()
        .map(Some)
}

/// The window a diagram draws, and how to narrow it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiagramWindow {
    pub from_ns: u64,
    pub to_ns: u64,
    /// Where narrowing centres.
    pub focus_ns: u64,
    /// What the focus is, for the narrowing note and its share before.
    pub focus: Focus,
    /// Messages drawn at most.
    pub messages_max: usize,
}

/// What a diagram's window centres on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    /// The user's `--from`: narrowing keeps what follows it.
    Start,
    /// The first violation: narrowing keeps mostly what led to it.
    Violation,
    /// The first fault: narrowing keeps mostly what it caused.
    Fault,
}

impl DiagramWindow {
    /// A window the user chose, narrowed from its start.
    pub fn from_user(from_ns: u64, to_ns: u64) -> DiagramWindow {
        DiagramWindow {
            from_ns,
            to_ns,
            focus_ns: from_ns,
            focus: Focus::Start,
            messages_max: MESSAGES_MAX,
        }
    }

    /// The share of a narrowed window's messages before the focus.
    fn before_quarters(&self) -> usize {
        match self.focus {
            Focus::Start => 0,
            Focus::Violation => 3,
            Focus::Fault => 1,
        }
    }

    fn focus_words(&self) -> String {
        let at = self.focus_ns as f64 / 1e6;
        match self.focus {
            Focus::Start => format!("the first {} from {at:.3} ms", self.messages_max),
            Focus::Violation => format!(
                "the {} nearest the violation at {at:.3} ms",
                self.messages_max
            ),
            Focus::Fault => format!(
                "the {} nearest the first fault at {at:.3} ms",
                self.messages_max
            ),
        }
    }
}

/// The window to replay: the user's bounds where given; else the first
/// mark's own window, or around it (`BEFORE_FOCUS_NS` before it,
/// `AFTER_FOCUS_NS` after); else around the first fault at
/// `first_fault_ns` (`BEFORE_FAULT_NS` before, `AFTER_FAULT_NS` after);
/// else the first `DEFAULT_SPAN_NS`. Clipped to the run's `end_ns`. A
/// window faultline chose draws at most `MESSAGES_DEFAULT` messages.
pub fn choose_window(
    user: &LamportWindow,
    marks: &[Mark],
    first_fault_ns: Option<u64>,
    end_ns: u64,
) -> DiagramWindow {
    let first_mark = marks.iter().min_by_key(|m| m.time_ns);
    let (from, to, focus_ns, focus) = match (user.from_ns, user.to_ns, first_mark, first_fault_ns) {
        (Some(from), Some(to), _, _) => (from, to, from, Focus::Start),
        (Some(from), None, _, _) => (
            from,
            from.saturating_add(DEFAULT_SPAN_NS),
            from,
            Focus::Start,
        ),
        (None, Some(to), _, _) => {
            let from = to.saturating_sub(DEFAULT_SPAN_NS);
            (from, to, from, Focus::Start)
        }
        (None, None, Some(mark), _) => {
            let (from, to) = mark.window_ns.unwrap_or((
                mark.time_ns.saturating_sub(BEFORE_FOCUS_NS),
                mark.time_ns.saturating_add(AFTER_FOCUS_NS),
            ));
            (from, to, mark.time_ns, Focus::Violation)
        }
        (None, None, None, Some(fault)) if fault < end_ns => (
            fault.saturating_sub(BEFORE_FAULT_NS),
            fault.saturating_add(AFTER_FAULT_NS),
            fault,
            Focus::Fault,
        ),
        (None, None, None, _) => (0, DEFAULT_SPAN_NS, 0, Focus::Start),
    };
    let to = to.min(end_ns);
    let from = from.min(to);
    // The user's window, or a violation's, may hold the most: it was
    // asked for, or shows how something went wrong. Otherwise a slide's.
    let chosen_by_user = user.from_ns.is_some() || user.to_ns.is_some();
    DiagramWindow {
        from_ns: from,
        to_ns: to,
        focus_ns: focus_ns.clamp(from, to),
        focus,
        messages_max: if chosen_by_user || focus == Focus::Violation {
            MESSAGES_MAX
        } else {
            MESSAGES_DEFAULT
        },
    }
}

/// A message arrow. Rows index `Diagram::rows_ns`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    pub from_line: usize,
    pub to_line: usize,
    /// `None`: sent before the window (drawn from its top).
    pub send_row: Option<usize>,
    /// `None`: still in flight at the window's end (drawn to its bottom).
    pub end_row: Option<usize>,
    /// The message's kind (`AppendEntries`), and the node not drawn it
    /// went to or came from, when it is drawn to the "other nodes" lane.
    pub label: String,
    /// Index into `Diagram::kinds`.
    pub kind: usize,
    /// Why it was dropped, if it was.
    pub dropped: Option<&'static str>,
}

/// What happens to one node at one row.
#[derive(Clone, Debug, PartialEq)]
pub enum LineEvent {
    Crash,
    Restart,
    Pause,
    Resume,
    Violation(String),
}

/// A diagram's data, computed from a replay's events (see `diagram`).
#[derive(Clone, Debug, PartialEq)]
pub struct Diagram {
    pub title: String,
    /// The window drawn, after any narrowing.
    pub from_ns: u64,
    pub to_ns: u64,
    /// The drawn nodes' names, left to right.
    pub lines: Vec<String>,
    /// Each row's time, increasing.
    pub rows_ns: Vec<u64>,
    pub arrows: Vec<Arrow>,
    /// (line, row, what).
    pub line_events: Vec<(usize, usize, LineEvent)>,
    /// Faults across the cluster (partition, heal, clog, clock jump...):
    /// (row, label).
    pub across: Vec<(usize, String)>,
    /// Violations at no node: (row, text).
    pub marks_across: Vec<(usize, String)>,
    /// Client operations: (line, first row, last row or `None` when open
    /// at the window's end, label, outcome).
    pub spans: Vec<(usize, usize, Option<usize>, String, Outcome)>,
    /// What was left out or cut short, for the caption.
    pub notes: Vec<String>,
    /// The message kinds drawn, in order of first appearance: each has
    /// the colour of its index (`kind_colour`).
    pub kinds: Vec<String>,
}

/// The kind of a message from its `Debug` text: the innermost name of its
/// wrappers (`Peer(AppendEntries(AppendEntries { .. }))` is
/// `AppendEntries`).
pub fn message_kind(detail: &str) -> String {
    let mut kind = "";
    let mut rest = detail;
    loop {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        // A name starts with a letter: `Alive(3)` is `Alive`, not `3`.
        if !rest.starts_with(|c: char| c.is_alphabetic()) {
            break;
        }
        kind = &rest[..end];
        match rest[end..].strip_prefix('(') {
            Some(inner) => rest = inner,
            None => break,
        }
    }
    if kind.is_empty() {
        "message".to_string()
    } else {
        kind.to_string()
    }
}

fn cut(text: &str) -> String {
    shorten(text, LABEL_CHARS_MAX)
}

/// One message as the replay saw it.
struct Flight {
    from: usize,
    to: usize,
    send_ns: Option<u64>,
    end_ns: Option<u64>,
    label: String,
    dropped: Option<&'static str>,
}

impl Flight {
    fn first_ns(&self) -> u64 {
        self.send_ns.or(self.end_ns).unwrap_or(0)
    }
}

/// What the diagram draws from the replay's `records` (all within
/// `[from_ns, to_ns]`), of a run whose nodes are `names`: the nodes in
/// `chosen` (indices; `None` for the default choice), with `ops` and
/// `marks` where they fall in the window, narrowed around `focus_ns` to
/// `MESSAGES_MAX` messages.
#[allow(clippy::too_many_arguments)] // one argument per input; each is a different source
pub fn diagram(
    title: &str,
    records: &[TraceRecord],
    names: &[String],
    chosen: Option<&[usize]>,
    ops: &[OpSpan],
    marks: &[Mark],
    window: DiagramWindow,
    fault_labels: &[(u64, String)],
) -> Diagram {
    let DiagramWindow {
        mut from_ns,
        mut to_ns,
        focus_ns,
        messages_max,
        ..
    } = window;
    let mut notes = Vec::new();
    // Messages, by id, from their send to their delivery or drop.
    let mut flights: Vec<Flight> = Vec::new();
    let mut by_id: BTreeMap<u64, usize> = BTreeMap::new();
    for record in records {
        let (Some(message), Some(node), Some(peer)) = (record.message, record.node, record.peer)
        else {
            continue;
        };
        let (from, to) = match record.kind {
            TraceKind::Send => (node.index(), peer.index()),
            TraceKind::Deliver | TraceKind::Drop(_) => (peer.index(), node.index()),
            _ => continue,
        };
        let index = *by_id.entry(message.0).or_insert_with(|| {
            flights.push(Flight {
                from,
                to,
                send_ns: None,
                end_ns: None,
                label: message_kind(&record.detail),
                dropped: None,
            });
            flights.len() - 1
        });
        let flight = &mut flights[index];
        match record.kind {
            TraceKind::Send => flight.send_ns = Some(record.time.as_nanos()),
            TraceKind::Deliver => flight.end_ns = Some(record.time.as_nanos()),
            TraceKind::Drop(reason) => {
                flight.end_ns = Some(record.time.as_nanos());
                flight.dropped = Some(reason.name());
            }
            _ => {}
        }
    }
    // Lines: the chosen nodes, or every node with something in the window
    // (the busiest `LINES_MAX` when there are more).
    let lines: Vec<usize> = match chosen {
        Some(chosen) => chosen.to_vec(),
        None => {
            let mut activity = vec![0u64; names.len()];
            for f in &flights {
                activity[f.from] += 1;
                activity[f.to] += 1;
            }
            for record in records {
                if let Some(node) = record.node {
                    if !matches!(record.kind, TraceKind::Send | TraceKind::Deliver) {
                        activity[node.index()] += 1;
                    }
                }
            }
            let marked: Vec<usize> = marks.iter().filter_map(|m| m.node).collect();
            let mut active: Vec<usize> = (0..names.len())
                .filter(|&n| activity[n] > 0 || marked.contains(&n))
                .collect();
            if active.len() > LINES_MAX {
                // Marked nodes first, then the busiest; ties by id.
                active.sort_by_key(|&n| (!marked.contains(&n), std::cmp::Reverse(activity[n]), n));
                notes.push(format!(
                    "{} of {} active nodes drawn (the busiest; choose with --nodes)",
                    LINES_MAX,
                    active.len()
                ));
                active.truncate(LINES_MAX);
                active.sort_unstable();
            }
            active
        }
    };
    let line_of = |node: usize| lines.iter().position(|&l| l == node);
    // Messages between two nodes not drawn are left out; those with one
    // drawn end go to the "other nodes" lane, named in their label.
    let mut active_elsewhere = vec![0u64; names.len()];
    let before = flights.len();
    flights.retain(|f| {
        let drawn = line_of(f.from).is_some() || line_of(f.to).is_some();
        if !drawn {
            active_elsewhere[f.from] += 1;
            active_elsewhere[f.to] += 1;
        }
        drawn
    });
    let mut to_others = 0;
    for f in &mut flights {
        match (line_of(f.from), line_of(f.to)) {
            (None, _) => f.label = format!("{} from {}", f.label, names[f.from]),
            (_, None) => f.label = format!("{} to {}", f.label, names[f.to]),
            _ => continue,
        }
        to_others += 1;
    }
    if flights.len() < before {
        notes.push(format!(
            "{} messages between nodes not drawn left out",
            before - flights.len()
        ));
    }
    if to_others > 0 {
        notes.push(format!(
            "{to_others} messages to or from nodes not drawn go to the \"{OTHERS}\" lane"
        ));
    }
    let others_line = lines.len();
    let lane = |node: usize| line_of(node).unwrap_or(others_line);
    // Narrowing: the messages_max messages nearest the focus, in order.
    flights.sort_by_key(Flight::first_ns);
    if flights.len() > messages_max {
        let at = flights.partition_point(|f| f.first_ns() < focus_ns);
        let start = at
            .saturating_sub(messages_max * window.before_quarters() / 4)
            .min(flights.len() - messages_max);
        let kept = &flights[start..start + messages_max];
        let (new_from, new_to) = (kept[0].first_ns(), kept[messages_max - 1].first_ns());
        let (old_from, old_to) = (from_ns, to_ns);
        from_ns = new_from.max(from_ns);
        to_ns = new_to.min(to_ns);
        notes.push(format!(
            "narrowed from {} messages in {:.3}-{:.3} ms to {}: {:.3}-{:.3} ms (choose with --from and --to)",
            flights.len(),
            old_from as f64 / 1e6,
            old_to as f64 / 1e6,
            window.focus_words(),
            from_ns as f64 / 1e6,
            to_ns as f64 / 1e6,
        ));
        flights = flights.drain(start..start + messages_max).collect();
        for f in &mut flights {
            f.send_ns = f.send_ns.filter(|t| *t >= from_ns);
            f.end_ns = f.end_ns.filter(|t| *t <= to_ns);
        }
    }
    let within = |t: u64| (from_ns..=to_ns).contains(&t);
    // Everything else in the window.
    let mut line_times: Vec<(usize, u64, LineEvent)> = Vec::new();
    let mut across_times: Vec<(u64, String)> = Vec::new();
    for record in records.iter().filter(|r| within(r.time.as_nanos())) {
        let event = match record.kind {
            TraceKind::Crash => Some(LineEvent::Crash),
            TraceKind::Restart => Some(LineEvent::Restart),
            TraceKind::Pause => Some(LineEvent::Pause),
            TraceKind::Resume => Some(LineEvent::Resume),
            TraceKind::Partition
            | TraceKind::Heal
            | TraceKind::Clog
            | TraceKind::Release
            | TraceKind::ClockJump
            | TraceKind::SetLoss => {
                // The fault as the scenario file writes it (from its band),
                // never the engine's Debug text of it.
                let t = record.time.as_nanos();
                let label = fault_labels
                    .iter()
                    .find(|(at, _)| at.abs_diff(t) <= 1_000)
                    .map_or_else(|| record.kind.name().to_string(), |(_, l)| l.clone());
                across_times.push((record.time.as_nanos(), cut(&label)));
                None
            }
            _ => None,
        };
        if let (Some(event), Some(node)) = (event, record.node) {
            match line_of(node.index()) {
                Some(line) => line_times.push((line, record.time.as_nanos(), event)),
                // A node not drawn crashed or paused: a rule across, so
                // the messages it stops sending have their cause.
                None => across_times.push((
                    record.time.as_nanos(),
                    format!("{} {}", record.kind.name(), names[node.index()]),
                )),
            }
        }
    }
    let mut marks_across_times = Vec::new();
    for mark in marks.iter().filter(|m| within(m.time_ns)) {
        match mark.node.and_then(line_of) {
            Some(line) => {
                line_times.push((line, mark.time_ns, LineEvent::Violation(cut(&mark.text))))
            }
            None => marks_across_times.push((mark.time_ns, cut(&mark.text))),
        }
    }
    let span_times: Vec<(usize, u64, Option<u64>, &OpSpan)> = ops
        .iter()
        .filter(|op| op.invoke_ns <= to_ns && op.complete_ns.is_none_or(|c| c >= from_ns))
        .filter_map(|op| {
            let line = line_of(op.node)?;
            let complete = op.complete_ns.filter(|c| *c <= to_ns);
            Some((line, op.invoke_ns.max(from_ns), complete, op))
        })
        .collect();
    // Rows: every distinct time drawn.
    let mut rows_ns: Vec<u64> = flights
        .iter()
        .flat_map(|f| [f.send_ns, f.end_ns])
        .flatten()
        .chain(line_times.iter().map(|e| e.1))
        .chain(across_times.iter().map(|e| e.0))
        .chain(marks_across_times.iter().map(|e| e.0))
        .chain(span_times.iter().flat_map(|s| [Some(s.1), s.2]).flatten())
        .collect();
    rows_ns.sort_unstable();
    rows_ns.dedup();
    let row = |t: u64| {
        rows_ns
            .binary_search(&t)
            .expect("every drawn time has a row")
    };
    let mut kinds: Vec<String> = Vec::new();
    let mut kind_of = |label: &str| {
        let kind = label.split(' ').next().unwrap_or(label);
        match kinds.iter().position(|k| k == kind) {
            Some(i) => i,
            None => {
                kinds.push(kind.to_string());
                kinds.len() - 1
            }
        }
    };
    let arrows: Vec<Arrow> = flights
        .iter()
        .map(|f| Arrow {
            from_line: lane(f.from),
            to_line: lane(f.to),
            send_row: f.send_ns.map(row),
            end_row: f.end_ns.map(row),
            label: f.label.clone(),
            kind: kind_of(&f.label),
            dropped: f.dropped,
        })
        .collect();
    let mut lines: Vec<String> = lines.iter().map(|&n| names[n].clone()).collect();
    if to_others > 0 {
        lines.push(OTHERS.to_string());
    }
    let nothing = arrows.is_empty()
        && line_times.is_empty()
        && across_times.is_empty()
        && marks_across_times.is_empty()
        && span_times.is_empty();
    if nothing {
        let mut busy: Vec<(u64, usize)> = active_elsewhere
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (*n, i))
            .collect();
        busy.sort_by_key(|(n, i)| (std::cmp::Reverse(*n), *i));
        let hint = if busy.is_empty() {
            "no node sent a message in it; choose another with --from and --to".to_string()
        } else {
            format!(
                "the busiest nodes in it were {}; choose with --nodes",
                busy.iter()
                    .take(4)
                    .map(|(n, i)| format!("{} ({n} messages)", names[*i]))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        notes.insert(
            0,
            format!("nothing to draw in this window on these nodes: {hint}"),
        );
    }
    Diagram {
        title: title.to_string(),
        from_ns,
        to_ns,
        lines,
        arrows,
        kinds,
        line_events: line_times
            .into_iter()
            .map(|(line, t, e)| (line, row(t), e))
            .collect(),
        across: across_times.into_iter().map(|(t, l)| (row(t), l)).collect(),
        marks_across: marks_across_times
            .into_iter()
            .map(|(t, l)| (row(t), l))
            .collect(),
        spans: span_times
            .iter()
            .map(|(line, start, end, op)| {
                (
                    *line,
                    row(*start),
                    end.map(row),
                    op.label.clone(),
                    op.outcome,
                )
            })
            .collect(),
        notes,
        rows_ns,
    }
}

impl Diagram {
    /// Whether the window holds nothing to draw on its lines (its notes
    /// then say so, and which nodes were busy).
    pub fn is_empty(&self) -> bool {
        self.arrows.is_empty()
            && self.line_events.is_empty()
            && self.across.is_empty()
            && self.marks_across.is_empty()
            && self.spans.is_empty()
    }

    fn line_px(&self) -> i32 {
        let lines = self.lines.len().max(1) as i32;
        ((WIDTH_PX_MIN - LEFT_PX - 60) / lines).max(LINE_PX_MIN)
    }
    fn x(&self, line: usize) -> i32 {
        LEFT_PX + self.line_px() / 2 + line as i32 * self.line_px()
    }
    /// The top of the lines: below the caption, the notes and the key.
    fn top(&self) -> i32 {
        let key_rows = self.key_rows().len() as i32;
        40 + 14 * (self.notes.len() as i32 + key_rows) + 34
    }
    /// Each row's y: rows `ROW_PX` apart, and `GAP_PX` more after a gap.
    fn row_ys(&self) -> Vec<i32> {
        let mut y = self.top() + ROW_PX / 2;
        let mut ys = Vec::with_capacity(self.rows_ns.len());
        for (row, t) in self.rows_ns.iter().enumerate() {
            if row > 0 {
                y += ROW_PX;
                if t - self.rows_ns[row - 1] > GAP_NS {
                    y += GAP_PX;
                }
            }
            ys.push(y);
        }
        ys
    }
    fn bottom(&self, ys: &[i32]) -> i32 {
        ys.last().map_or(self.top() + ROW_PX, |y| y + ROW_PX / 2)
    }
    /// The key of message kinds, as rows of (kind, colour) that fit the
    /// width.
    fn key_rows(&self) -> Vec<Vec<(String, RGBColor)>> {
        let width = (LEFT_PX + self.line_px() * self.lines.len() as i32 + 60).max(WIDTH_PX_MIN);
        let mut rows: Vec<Vec<(String, RGBColor)>> = Vec::new();
        let mut used = 0;
        for (i, kind) in self.kinds.iter().enumerate() {
            let w = text_width(kind, 11) + 30;
            if rows.is_empty() || used + w > width - 24 {
                rows.push(Vec::new());
                used = 80;
            }
            rows.last_mut()
                .expect("pushed")
                .push((kind.clone(), kind_colour(i)));
            used += w;
        }
        rows
    }
}

/// Message kinds' colours: the groups' colour-blind-safe palette less
/// its vermillion, which red drops and violations would be mistaken for.
const KIND_COLOURS: [usize; 8] = [0, 1, 2, 4, 5, 6, 7, 8];

/// The colour of the `i`th message kind.
pub fn kind_colour(i: usize) -> RGBColor {
    crate::charts::PALETTE[KIND_COLOURS[i % KIND_COLOURS.len()]]
}

use crate::key::text_width;

/// Where a label at `size` points goes so that it stays inside the
/// picture's `width`: right of `x` (by `gap`), or left of it when it
/// would run past the edge.
fn fit_x(x: i32, gap: i32, text: &str, size: i32, width: i32) -> i32 {
    let w = text_width(text, size);
    if x + gap + w > width - 6 {
        (x - gap - w).max(4)
    } else {
        x + gap
    }
}

const DROPPED: RGBColor = RGBColor(214, 39, 40);
const DOWN: RGBColor = RGBColor(214, 39, 40);
const PAUSED: RGBColor = RGBColor(140, 86, 75);
const ACROSS: RGBColor = RGBColor(148, 103, 189);
const GREY: RGBColor = RGBColor(160, 160, 160);

/// The boxes labels already took, so that none overprints another.
#[derive(Default)]
struct Taken(Vec<(i32, i32, i32, i32)>);

impl Taken {
    /// Takes the box of `text` at `at` (its top left) unless it overlaps
    /// one taken; says whether it did.
    fn take(&mut self, text: &str, size: i32, at: (i32, i32)) -> bool {
        let b = (at.0, at.1, at.0 + text_width(text, size), at.1 + size + 1);
        let overlaps = self
            .0
            .iter()
            .any(|o| b.0 < o.2 && o.0 < b.2 && b.1 < o.3 && o.1 < b.3);
        if !overlaps {
            self.0.push(b);
        }
        !overlaps
    }
}

impl Drawable for Diagram {
    fn size(&self) -> (u32, u32) {
        let width = (LEFT_PX + self.line_px() * self.lines.len() as i32 + 60).max(WIDTH_PX_MIN);
        (
            width as u32,
            (self.bottom(&self.row_ys()) + BOTTOM_PX) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let text = |size: u32, colour: RGBColor| (FAMILY, size).into_font().color(&colour);
        let caption = format!(
            "{}: {:.3} ms to {:.3} ms, {} messages",
            self.title,
            self.from_ns as f64 / 1e6,
            self.to_ns as f64 / 1e6,
            self.arrows.len()
        );
        root.draw(&Text::new(caption, (12, 10), text(18, BLACK)))?;
        for (i, note) in self.notes.iter().enumerate() {
            let colour = if i == 0 && self.is_empty() {
                DROPPED
            } else {
                GREY
            };
            root.draw(&Text::new(
                note.clone(),
                (12, 36 + 14 * i as i32),
                text(12, colour),
            ))?;
        }
        let key_top = 36 + 14 * self.notes.len() as i32;
        for (r, row) in self.key_rows().iter().enumerate() {
            let y = key_top + 14 * r as i32;
            if r == 0 {
                root.draw(&Text::new("messages:", (12, y), text(11, GREY)))?;
            }
            let mut x = 80;
            for (kind, colour) in row {
                root.draw(&PathElement::new(
                    vec![(x, y + 6), (x + 18, y + 6)],
                    colour.stroke_width(2),
                ))?;
                root.draw(&Text::new(kind.clone(), (x + 22, y), text(11, *colour)))?;
                x += text_width(kind, 11) + 30;
            }
        }
        let ys = self.row_ys();
        let top = self.top();
        let bottom = self.bottom(&ys);
        let y = |row: usize| ys[row];
        // Time labels, one per row, and each gap with how long it lasted.
        let mut taken = Taken::default();
        for (row, t) in self.rows_ns.iter().enumerate() {
            if row > 0 && t - self.rows_ns[row - 1] > GAP_NS {
                let gap_y = y(row) - ROW_PX / 2 - GAP_PX / 2;
                root.draw(&Rectangle::new(
                    [(LEFT_PX, gap_y - 6), (self.size().0 as i32 - 20, gap_y + 6)],
                    RGBColor(240, 240, 240).filled(),
                ))?;
                root.draw(&Text::new(
                    format!(
                        "{:.1} ms with nothing drawn",
                        (t - self.rows_ns[row - 1]) as f64 / 1e6
                    ),
                    (LEFT_PX + 4, gap_y - 5),
                    text(10, GREY),
                ))?;
            }
            root.draw(&Text::new(
                format!("{:.3} ms", *t as f64 / 1e6),
                (8, y(row) - 5),
                text(10, GREY),
            ))?;
        }
        // Node lines, with the stretches a node was down or paused, and
        // their names at the top and again every NAMES_EVERY_PX.
        for (line, name) in self.lines.iter().enumerate() {
            let x = self.x(line);
            let name_x = x - text_width(name, 13) / 2;
            root.draw(&Text::new(
                name.clone(),
                (name_x, top - 22),
                text(13, BLACK),
            ))?;
            let mut again = top + NAMES_EVERY_PX;
            while again + 40 < bottom {
                root.draw(&Text::new(name.clone(), (name_x, again), text(11, GREY)))?;
                taken.take(name, 11, (name_x, again));
                again += NAMES_EVERY_PX;
            }
            root.draw(&PathElement::new(
                vec![(x, top), (x, bottom)],
                GREY.stroke_width(1),
            ))?;
            for (start, end, colour) in self.stretches(line) {
                let (y0, y1) = (start.map_or(top, y), end.map_or(bottom, y));
                root.draw(&Rectangle::new(
                    [(x - 3, y0), (x + 3, y1)],
                    colour.mix(0.5).filled(),
                ))?;
            }
        }
        // Faults across the cluster.
        for (row, label) in &self.across {
            self.rule(root, y(*row), label, ACROSS, 1, -13)?;
        }
        for (row, label) in &self.marks_across {
            self.rule(root, y(*row), label, DROPPED, 2, 3)?;
        }
        // Node events and violations on the lines (labels first: they
        // matter more than a message's).
        for (line, row, event) in &self.line_events {
            let (x, y) = (self.x(*line), y(*row));
            let (label, colour) = match event {
                LineEvent::Crash => ("crash".to_string(), DOWN),
                LineEvent::Restart => ("restart".to_string(), DOWN),
                LineEvent::Pause => ("pause".to_string(), PAUSED),
                LineEvent::Resume => ("resume".to_string(), PAUSED),
                LineEvent::Violation(text) => (text.clone(), DROPPED),
            };
            if matches!(event, LineEvent::Violation(_)) {
                root.draw(&Circle::new((x, y), 7, colour.stroke_width(3)))?;
            } else {
                root.draw(&Rectangle::new(
                    [(x - 8, y - 2), (x + 8, y + 2)],
                    colour.filled(),
                ))?;
            }
            let lx = fit_x(x, 10, &label, 11, self.size().0 as i32);
            // Two events at one place (two invariants broken by one
            // access) stack their labels instead of overprinting them.
            let ly = (0..4)
                .map(|i| y - 5 + 14 * i)
                .find(|ly| taken.take(&label, 11, (lx, *ly)))
                .unwrap_or(y - 5);
            root.draw(&Text::new(label, (lx, ly), text(11, colour)))?;
        }
        // Client operations.
        for (line, start, end, label, outcome) in &self.spans {
            let colour = outcome_colour(*outcome);
            let x = self.x(*line);
            let (y0, y1) = (y(*start), end.map_or(bottom, y));
            root.draw(&Rectangle::new(
                [(x - 6, y0), (x + 6, y1.max(y0 + 2))],
                colour.mix(0.25).filled(),
            ))?;
            let lx = fit_x(x, 8, label, 10, self.size().0 as i32);
            if taken.take(label, 10, (lx, y0 - 5)) {
                root.draw(&Text::new(label.clone(), (lx, y0 - 5), text(10, colour)))?;
            }
        }
        // Messages.
        for arrow in &self.arrows {
            let from = (self.x(arrow.from_line), arrow.send_row.map_or(top, y));
            let to = (self.x(arrow.to_line), arrow.end_row.map_or(bottom, y));
            let colour = if arrow.dropped.is_some() {
                DROPPED
            } else {
                kind_colour(arrow.kind)
            };
            match (arrow.dropped, arrow.end_row) {
                (Some(reason), Some(_)) => {
                    // A dropped message stops short of its receiver.
                    let stop = (
                        from.0 + (to.0 - from.0) * 3 / 4,
                        from.1 + (to.1 - from.1) * 3 / 4,
                    );
                    root.draw(&PathElement::new(vec![from, stop], colour.stroke_width(1)))?;
                    root.draw(&Cross::new(stop, 4, colour.stroke_width(2)))?;
                    let why = format!("dropped: {reason}");
                    let lx = fit_x(stop.0, 5, &why, 9, self.size().0 as i32);
                    if taken.take(&why, 9, (lx, stop.1 - 4)) {
                        root.draw(&Text::new(why, (lx, stop.1 - 4), text(9, colour)))?;
                    }
                }
                _ => {
                    root.draw(&PathElement::new(vec![from, to], colour.stroke_width(1)))?;
                    if arrow.end_row.is_some() {
                        root.draw(&arrowhead(from, to, colour))?;
                    }
                }
            }
            let middle = (
                fit_x(
                    (from.0 + to.0) / 2,
                    3,
                    &arrow.label,
                    9,
                    self.size().0 as i32,
                ),
                (from.1 + to.1) / 2 - 10,
            );
            if taken.take(&arrow.label, 9, middle) {
                root.draw(&Text::new(arrow.label.clone(), middle, text(9, colour)))?;
            }
        }
        Ok(())
    }
}

impl Diagram {
    /// A line across every node at `y`, labelled `dy` pixels below it.
    fn rule<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        y: i32,
        label: &str,
        colour: RGBColor,
        stroke: u32,
        dy: i32,
    ) -> Drawn<DB> {
        let width = self.size().0 as i32;
        root.draw(&PathElement::new(
            vec![(LEFT_PX, y), (width - 20, y)],
            colour.stroke_width(stroke),
        ))?;
        root.draw(&Text::new(
            label.to_string(),
            (LEFT_PX + 4, y + dy),
            (FAMILY, 11).into_font().color(&colour),
        ))
    }

    /// The stretches of `line` spent down (crash to restart) or paused
    /// (pause to resume): (first row or the window's top, last row or its
    /// bottom, colour).
    fn stretches(&self, line: usize) -> Vec<(Option<usize>, Option<usize>, RGBColor)> {
        let mut out = Vec::new();
        let mut open: Option<(Option<usize>, RGBColor)> = None;
        let mut events: Vec<(usize, &LineEvent)> = self
            .line_events
            .iter()
            .filter(|e| e.0 == line)
            .map(|e| (e.1, &e.2))
            .collect();
        events.sort_by_key(|e| e.0);
        for (row, event) in events {
            match event {
                LineEvent::Crash => open = Some((Some(row), DOWN)),
                LineEvent::Pause => open = Some((Some(row), PAUSED)),
                LineEvent::Restart | LineEvent::Resume => {
                    // Ended in the window: began in it, or before it.
                    let (start, colour) = open.take().unwrap_or((
                        None,
                        if matches!(event, LineEvent::Restart) {
                            DOWN
                        } else {
                            PAUSED
                        },
                    ));
                    out.push((start, Some(row), colour));
                }
                LineEvent::Violation(_) => {}
            }
        }
        if let Some((start, colour)) = open {
            out.push((start, None, colour));
        }
        out
    }
}

/// A small filled triangle at `to`, pointing along `from` → `to`.
fn arrowhead(from: (i32, i32), to: (i32, i32), colour: RGBColor) -> Polygon<(i32, i32)> {
    let (dx, dy) = ((to.0 - from.0) as f64, (to.1 - from.1) as f64);
    let length = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / length, dy / length);
    let back = (to.0 as f64 - 8.0 * ux, to.1 as f64 - 8.0 * uy);
    let side = (-uy * 4.0, ux * 4.0);
    Polygon::new(
        vec![
            to,
            ((back.0 + side.0) as i32, (back.1 + side.1) as i32),
            ((back.0 - side.0) as i32, (back.1 - side.1) as i32),
        ],
        colour.filled(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::trace::DropReason;
    use sim_core::{MessageId, NodeId, SimTime};

    /// A window narrowed as around a violation at `focus`.
    fn around(from_ns: u64, to_ns: u64, focus_ns: u64) -> DiagramWindow {
        DiagramWindow {
            from_ns,
            to_ns,
            focus_ns,
            focus: Focus::Violation,
            messages_max: MESSAGES_MAX,
        }
    }

    fn names() -> Vec<String> {
        ["n1", "n2", "n3", "client1"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn record(
        ms: u64,
        kind: TraceKind,
        node: u32,
        peer: Option<u32>,
        message: Option<u64>,
        detail: &str,
    ) -> TraceRecord {
        TraceRecord {
            time: SimTime::from_nanos(ms * 1_000_000),
            kind,
            node: Some(NodeId(node)),
            peer: peer.map(NodeId),
            message: message.map(MessageId),
            detail: detail.to_string(),
        }
    }

    fn send(ms: u64, from: u32, to: u32, id: u64, detail: &str) -> TraceRecord {
        record(ms, TraceKind::Send, from, Some(to), Some(id), detail)
    }
    fn deliver(ms: u64, from: u32, to: u32, id: u64, detail: &str) -> TraceRecord {
        record(ms, TraceKind::Deliver, to, Some(from), Some(id), detail)
    }

    #[test]
    fn a_message_kind_is_its_innermost_wrapper() {
        assert_eq!(
            message_kind("Peer(AppendEntries(AppendEntries { term: 1 }))"),
            "AppendEntries"
        );
        assert_eq!(
            message_kind("Request(ClientRequest { seq: 1 })"),
            "ClientRequest"
        );
        assert_eq!(message_kind("Ping"), "Ping");
        assert_eq!(message_kind("Alive(3)"), "Alive");
        assert_eq!(message_kind(""), "message");
    }

    #[test]
    fn sends_deliveries_drops_and_faults_land_on_their_rows() {
        let records = vec![
            // Sent before the window, delivered in it.
            deliver(10, 0, 1, 1, "Vote"),
            send(11, 0, 2, 2, "Peer(Append(Append { term: 1 }))"),
            deliver(13, 0, 2, 2, "Peer(Append(Append { term: 1 }))"),
            send(12, 1, 2, 3, "Ack"),
            record(
                14,
                TraceKind::Drop(DropReason::Partition),
                2,
                Some(1),
                Some(3),
                "Ack",
            ),
            // Sent in the window, still in flight at its end.
            send(15, 2, 0, 4, "Ack"),
            record(16, TraceKind::Crash, 1, None, None, "crash n2"),
            record(17, TraceKind::Partition, 0, None, None, "partition #0 | #1"),
        ];
        let d = diagram(
            "t",
            &records,
            &names(),
            None,
            &[],
            &[],
            around(10_000_000, 20_000_000, 10_000_000),
            &[(17_000_000, "partition n1 | n2".to_string())],
        );
        assert_eq!(d.lines, ["n1", "n2", "n3"]);
        assert_eq!(
            d.rows_ns,
            [10, 11, 12, 13, 14, 15, 16, 17].map(|ms| ms * 1_000_000)
        );
        assert_eq!(d.arrows.len(), 4);
        let arrow = |label: &str, from: usize| {
            d.arrows
                .iter()
                .find(|a| a.label == label && a.from_line == from)
                .unwrap()
                .clone()
        };
        assert_eq!(
            arrow("Vote", 0),
            Arrow {
                from_line: 0,
                to_line: 1,
                send_row: None,
                end_row: Some(0),
                label: "Vote".into(),
                kind: 0,
                dropped: None
            }
        );
        assert_eq!(
            (arrow("Append", 0).send_row, arrow("Append", 0).end_row),
            (Some(1), Some(3))
        );
        assert_eq!(arrow("Ack", 1).dropped, Some("partition"));
        assert_eq!(arrow("Ack", 1).end_row, Some(4));
        assert_eq!(
            (arrow("Ack", 2).send_row, arrow("Ack", 2).end_row),
            (Some(5), None)
        );
        assert_eq!(d.line_events, vec![(1, 6, LineEvent::Crash)]);
        // The fault as the scenario writes it (its band's label), not the
        // engine's Debug text of it.
        assert_eq!(d.across, vec![(7, "partition n1 | n2".to_string())]);
        assert!(d.notes.is_empty());
        // The crashed node is down from its crash to the window's end.
        assert_eq!(d.stretches(1), vec![(Some(6), None, DOWN)]);
    }

    #[test]
    fn marks_and_client_operations_are_drawn_where_they_fall() {
        let records = vec![
            send(10, 3, 0, 1, "Request(Put)"),
            deliver(12, 3, 0, 1, "Request(Put)"),
        ];
        let ops = [
            OpSpan {
                node: 3,
                invoke_ns: 9_000_000,
                complete_ns: Some(14_000_000),
                label: "write k 1".into(),
                outcome: Outcome::Ok,
            },
            // Before the window: left out.
            OpSpan {
                node: 3,
                invoke_ns: 1_000_000,
                complete_ns: Some(2_000_000),
                label: "old".into(),
                outcome: Outcome::Ok,
            },
            // Open at the window's end.
            OpSpan {
                node: 3,
                invoke_ns: 18_000_000,
                complete_ns: None,
                label: "read k".into(),
                outcome: Outcome::Info,
            },
        ];
        let marks = [
            Mark {
                time_ns: 12_000_000,
                node: Some(0),
                text: "election-safety: two leaders".into(),
                window_ns: None,
            },
            Mark {
                time_ns: 19_000_000,
                node: None,
                text: "somewhere".into(),
                window_ns: None,
            },
            Mark {
                time_ns: 99_000_000,
                node: Some(0),
                text: "after the window".into(),
                window_ns: None,
            },
        ];
        let d = diagram(
            "t",
            &records,
            &names(),
            None,
            &ops,
            &marks,
            around(5_000_000, 20_000_000, 5_000_000),
            &[],
        );
        assert_eq!(d.lines, ["n1", "client1"]);
        assert_eq!(d.rows_ns, [9, 10, 12, 14, 18, 19].map(|ms| ms * 1_000_000));
        assert_eq!(
            d.spans,
            vec![
                (1, 0, Some(3), "write k 1".to_string(), Outcome::Ok),
                (1, 4, None, "read k".to_string(), Outcome::Info)
            ]
        );
        assert_eq!(
            d.line_events,
            vec![(
                0,
                2,
                LineEvent::Violation("election-safety: two leaders".into())
            )]
        );
        assert_eq!(d.marks_across, vec![(5, "somewhere".to_string())]);
    }

    #[test]
    fn a_busy_window_is_narrowed_around_its_focus() {
        let n = 1_000u64;
        let records: Vec<TraceRecord> = (0..n)
            .flat_map(|i| [send(i, 0, 1, i, "Ping"), deliver(i + 1, 0, 1, i, "Ping")])
            .collect();
        let focus_ns = 800 * 1_000_000;
        let d = diagram(
            "t",
            &records,
            &names(),
            None,
            &[],
            &[],
            around(0, (n + 1) * 1_000_000, focus_ns),
            &[],
        );
        assert_eq!(d.arrows.len(), MESSAGES_MAX);
        // Three quarters before the focus, one after: sends 575..875.
        assert_eq!((d.from_ns, d.to_ns), (575 * 1_000_000, 874 * 1_000_000));
        assert!(
            d.notes[0].starts_with("narrowed from 1000 messages")
                && d.notes[0].contains("nearest the violation at 800.000 ms: 575.000-874.000 ms"),
            "{:?}",
            d.notes
        );
        // The last message's delivery falls after the narrowed window.
        assert_eq!(d.arrows.last().unwrap().end_row, None);
    }

    #[test]
    fn many_nodes_keep_the_busiest_and_the_chosen_keep_theirs() {
        let names: Vec<String> = (1..=40).map(|i| format!("n{i}")).collect();
        // Node k talks k times to node 0.
        let mut records = Vec::new();
        let mut id = 0;
        for k in 1..40u32 {
            for _ in 0..k {
                id += 1;
                records.push(send(1, k, 0, id, "Ping"));
            }
        }
        let d = diagram(
            "t",
            &records,
            &names,
            None,
            &[],
            &[],
            around(0, 10_000_000, 0),
            &[],
        );
        assert_eq!(d.lines.len(), LINES_MAX + 1);
        // n1 (everyone's peer) and the 23 busiest others, in id order; the
        // rest talk to n1 from the "other nodes" lane.
        let expected: Vec<String> = std::iter::once("n1".to_string())
            .chain((17..=39).map(|k| format!("n{}", k + 1)))
            .chain(std::iter::once(OTHERS.to_string()))
            .collect();
        assert_eq!(d.lines, expected);
        assert!(
            d.notes[0].contains("24 of 40 active nodes"),
            "{:?}",
            d.notes
        );
        let chosen = diagram(
            "t",
            &records,
            &names,
            Some(&[0, 2]),
            &[],
            &[],
            around(0, 10_000_000, 0),
            &[],
        );
        // n3 and n1 talk twice; everyone else's messages to n1 come from
        // the lane of nodes not drawn.
        assert_eq!(chosen.lines, ["n1", "n3", OTHERS]);
        let between = |a: usize, b: usize| {
            chosen
                .arrows
                .iter()
                .filter(|x| (x.from_line, x.to_line) == (a, b))
                .count()
        };
        assert_eq!(between(1, 0), 2);
        // 780 messages in all, narrowed to MESSAGES_MAX.
        assert_eq!(between(2, 0), MESSAGES_MAX - 2);
    }

    #[test]
    fn the_default_window_is_around_the_first_mark_else_the_first_fault_else_the_first_second() {
        let none = LamportWindow::default();
        let span = |w: DiagramWindow| (w.from_ns, w.to_ns, w.focus_ns);
        let first_second = choose_window(&none, &[], None, 5_000_000_000);
        assert_eq!(span(first_second), (0, DEFAULT_SPAN_NS, 0));
        assert_eq!(first_second.messages_max, MESSAGES_DEFAULT);
        assert_eq!(span(choose_window(&none, &[], None, 300)), (0, 300, 0));
        // A passing run with a fault at 2 s: the fault, not the start-up.
        let fault = choose_window(&none, &[], Some(2_000_000_000), 5_000_000_000);
        assert_eq!(
            span(fault),
            (
                2_000_000_000 - BEFORE_FAULT_NS,
                2_000_000_000 + AFTER_FAULT_NS,
                2_000_000_000
            )
        );
        assert_eq!(fault.focus, Focus::Fault);
        let at = |t: u64| Mark {
            time_ns: t,
            node: None,
            text: String::new(),
            window_ns: None,
        };
        // A violation comes before any fault.
        let marked = choose_window(
            &none,
            &[at(3_000_000_000), at(2_000_000_000)],
            Some(1_000_000_000),
            9_000_000_000,
        );
        assert_eq!(span(marked), (1_000_000_000, 2_100_000_000, 2_000_000_000));
        assert_eq!(marked.focus, Focus::Violation);
        // A mark with its own window (a culprit's) is shown in it.
        let windowed = Mark {
            window_ns: Some((40, 60)),
            ..at(50)
        };
        assert_eq!(
            span(choose_window(&none, &[windowed, at(70)], None, 100)),
            (40, 60, 50)
        );
        let user = LamportWindow {
            from_ns: Some(5),
            to_ns: Some(9),
            nodes: Vec::new(),
        };
        let chosen = choose_window(&user, &[at(7)], Some(1), 100);
        assert_eq!(span(chosen), (5, 9, 5));
        assert_eq!(chosen.messages_max, MESSAGES_MAX);
    }

    #[test]
    fn messages_to_nodes_not_drawn_go_to_the_other_lane_named() {
        // client1 (3) talks to n3 (2), which talks to n2 (1); n2 crashes.
        let records = vec![
            send(1, 3, 2, 1, "Request(Put)"),
            deliver(2, 3, 2, 1, "Request(Put)"),
            send(3, 2, 1, 2, "Append"),
            deliver(4, 2, 1, 2, "Append"),
            record(5, TraceKind::Crash, 1, None, None, ""),
        ];
        let d = diagram(
            "t",
            &records,
            &names(),
            Some(&[0, 3]),
            &[],
            &[],
            around(0, 10_000_000, 0),
            &[],
        );
        assert_eq!(d.lines, ["n1", "client1", OTHERS]);
        assert_eq!(d.arrows.len(), 1);
        assert_eq!(d.arrows[0].label, "Put to n3");
        assert_eq!((d.arrows[0].from_line, d.arrows[0].to_line), (1, 2));
        assert_eq!(d.kinds, ["Put"]);
        assert!(
            d.notes
                .iter()
                .any(|n| n.starts_with("1 messages between nodes not drawn")),
            "{:?}",
            d.notes
        );
        // The crash of a node not drawn is a rule across.
        assert_eq!(
            d.across,
            vec![(d.rows_ns.len() - 1, "crash n2".to_string())]
        );
        assert!(!d.is_empty());
    }

    #[test]
    fn a_window_with_nothing_on_its_nodes_says_so_and_names_the_busy_ones() {
        let records = vec![send(1, 1, 2, 1, "Append"), deliver(2, 1, 2, 1, "Append")];
        let d = diagram(
            "t",
            &records,
            &names(),
            Some(&[0]),
            &[],
            &[],
            around(0, 10_000_000, 0),
            &[],
        );
        assert!(d.is_empty());
        assert!(
            d.notes[0].starts_with("nothing to draw in this window")
                && d.notes[0].contains("n2 (1 messages)"),
            "{:?}",
            d.notes
        );
        let quiet = diagram(
            "t",
            &[],
            &names(),
            None,
            &[],
            &[],
            around(0, 10_000_000, 0),
            &[],
        );
        assert!(quiet.is_empty() && quiet.notes[0].contains("no node sent a message"));
    }

    #[test]
    fn a_long_stretch_with_nothing_drawn_is_a_gap_and_kinds_have_colours() {
        let records = vec![
            send(1, 0, 1, 1, "Ping"),
            deliver(2, 0, 1, 1, "Ping"),
            send(88, 1, 0, 2, "Pong"),
            deliver(89, 1, 0, 2, "Pong"),
        ];
        let d = diagram(
            "t",
            &records,
            &names(),
            None,
            &[],
            &[],
            around(0, 100_000_000, 0),
            &[],
        );
        let ys = d.row_ys();
        assert_eq!(ys[1] - ys[0], ROW_PX);
        assert_eq!(ys[2] - ys[1], ROW_PX + GAP_PX, "86 ms is a gap");
        assert_eq!(d.kinds, ["Ping", "Pong"]);
        assert_ne!(kind_colour(0), kind_colour(1));
        assert!(d.svg().contains("86.0 ms with nothing drawn"));
    }

    #[test]
    fn a_label_that_would_overprint_another_is_left_out() {
        let mut taken = Taken::default();
        assert!(taken.take("ClientResponse", 9, (100, 100)));
        assert!(!taken.take("ClientResponse", 9, (104, 102)), "overlaps");
        assert!(taken.take("ClientResponse", 9, (100, 120)), "below");
    }

    #[test]
    fn a_diagram_draws_to_its_own_size() {
        let records = vec![send(10, 0, 1, 1, "Vote"), deliver(12, 0, 1, 1, "Vote")];
        let d = diagram(
            "t",
            &records,
            &names(),
            None,
            &[],
            &[],
            around(0, 20_000_000, 0),
            &[],
        );
        let svg = d.svg();
        let (w, h) = d.size();
        assert!(
            svg.contains(&format!("width=\"{w}\" height=\"{h}\"")),
            "{}",
            &svg[..200]
        );
        assert!(svg.contains("Vote"));
        assert_eq!(svg, d.svg(), "the same diagram gives the same SVG");
    }
}
