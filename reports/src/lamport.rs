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
//! nanoseconds, and to scale either would be unreadable.
//!
//! The events come from a replay (`scenarios::replay`): the run only hashes
//! its events, and the diagram records the window it draws by running the
//! resolved scenario again.
//!
//! Bounded: at most `MESSAGES_MAX` messages and `LINES_MAX` lines. A
//! window with more messages is narrowed to the `MESSAGES_MAX` nearest its
//! focus (three quarters before it, one after), and the caption says so.

use crate::charts::{outcome_colour, shorten, Drawable, Drawn, FAMILY};
use plotters::coord::Shift;
use plotters::prelude::*;
use sim_core::history::Outcome;
use sim_core::{TraceKind, TraceRecord};
use std::collections::BTreeMap;

/// Messages drawn at most.
pub const MESSAGES_MAX: usize = 300;
/// Node lines drawn at most; past it, the busiest nodes in the window.
pub const LINES_MAX: usize = 24;
/// Without a violation, the default window is the run's first second.
pub const DEFAULT_SPAN_NS: u64 = 1_000_000_000;
/// Around a violation, the default window reaches back this far ...
pub const BEFORE_FOCUS_NS: u64 = 1_000_000_000;
/// ... and on this far after it.
pub const AFTER_FOCUS_NS: u64 = 100_000_000;

/// Pixels per row, per line at least, and the margins.
const ROW_PX: i32 = 16;
const LINE_PX_MIN: i32 = 70;
const LEFT_PX: i32 = 110;
const TOP_PX: i32 = 90;
const BOTTOM_PX: i32 = 40;
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

/// The window to replay: the user's bounds where given; else the first
/// mark's own window, or around it (`BEFORE_FOCUS_NS` before it,
/// `AFTER_FOCUS_NS` after), else
/// the first `DEFAULT_SPAN_NS`. Returns (from, to, focus), clipped to the
/// run's `end_ns`. The focus is where narrowing centres.
pub fn choose_window(user: &LamportWindow, marks: &[Mark], end_ns: u64) -> (u64, u64, u64) {
    let first_mark = marks.iter().min_by_key(|m| m.time_ns);
    let (from, to) = match (user.from_ns, user.to_ns, first_mark) {
        (Some(from), Some(to), _) => (from, to),
        (Some(from), None, _) => (from, from.saturating_add(DEFAULT_SPAN_NS)),
        (None, Some(to), _) => (to.saturating_sub(DEFAULT_SPAN_NS), to),
        (None, None, Some(mark)) => mark.window_ns.unwrap_or((
            mark.time_ns.saturating_sub(BEFORE_FOCUS_NS),
            mark.time_ns.saturating_add(AFTER_FOCUS_NS),
        )),
        (None, None, None) => (0, DEFAULT_SPAN_NS),
    };
    let to = to.min(end_ns);
    let from = from.min(to);
    let focus = match (user.from_ns, user.to_ns, first_mark) {
        (None, None, Some(mark)) => mark.time_ns.clamp(from, to),
        _ => from,
    };
    (from, to, focus)
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
    /// The message's kind (`AppendEntries`).
    pub label: String,
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
    (mut from_ns, mut to_ns, focus_ns): (u64, u64, u64),
) -> Diagram {
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
    let before = flights.len();
    flights.retain(|f| line_of(f.from).is_some() && line_of(f.to).is_some());
    if chosen.is_some() && flights.len() < before {
        notes.push(format!(
            "{} messages to or from nodes not drawn left out",
            before - flights.len()
        ));
    }
    // Narrowing: the MESSAGES_MAX messages nearest the focus, in order.
    flights.sort_by_key(Flight::first_ns);
    if flights.len() > MESSAGES_MAX {
        let at = flights.partition_point(|f| f.first_ns() < focus_ns);
        let start = at
            .saturating_sub(MESSAGES_MAX * 3 / 4)
            .min(flights.len() - MESSAGES_MAX);
        let kept = &flights[start..start + MESSAGES_MAX];
        let (new_from, new_to) = (kept[0].first_ns(), kept[MESSAGES_MAX - 1].first_ns());
        notes.push(format!(
            "narrowed from {} messages to the {MESSAGES_MAX} nearest {:.3} ms (choose with --from and --to)",
            flights.len(),
            focus_ns as f64 / 1e6
        ));
        flights = flights.drain(start..start + MESSAGES_MAX).collect();
        from_ns = new_from.max(from_ns);
        to_ns = new_to.min(to_ns);
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
                let label = if record.detail.is_empty() {
                    record.kind.name().to_string()
                } else {
                    scenarios::run::with_node_names(&record.detail, names)
                };
                across_times.push((record.time.as_nanos(), cut(&label)));
                None
            }
            _ => None,
        };
        if let (Some(event), Some(line)) = (event, record.node.and_then(|n| line_of(n.index()))) {
            line_times.push((line, record.time.as_nanos(), event));
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
    Diagram {
        title: title.to_string(),
        from_ns,
        to_ns,
        lines: lines.iter().map(|&n| names[n].clone()).collect(),
        arrows: flights
            .iter()
            .map(|f| Arrow {
                from_line: line_of(f.from).expect("kept"),
                to_line: line_of(f.to).expect("kept"),
                send_row: f.send_ns.map(row),
                end_row: f.end_ns.map(row),
                label: f.label.clone(),
                dropped: f.dropped,
            })
            .collect(),
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
    fn line_px(&self) -> i32 {
        let lines = self.lines.len().max(1) as i32;
        ((WIDTH_PX_MIN - LEFT_PX - 60) / lines).max(LINE_PX_MIN)
    }
    fn x(&self, line: usize) -> i32 {
        LEFT_PX + self.line_px() / 2 + line as i32 * self.line_px()
    }
    fn y(&self, row: usize) -> i32 {
        TOP_PX + ROW_PX / 2 + row as i32 * ROW_PX
    }
    fn bottom(&self) -> i32 {
        TOP_PX + self.rows_ns.len().max(1) as i32 * ROW_PX
    }
}

const ARROW: RGBColor = RGBColor(31, 119, 180);
const DROPPED: RGBColor = RGBColor(214, 39, 40);
const DOWN: RGBColor = RGBColor(214, 39, 40);
const PAUSED: RGBColor = RGBColor(140, 86, 75);
const ACROSS: RGBColor = RGBColor(148, 103, 189);
const GREY: RGBColor = RGBColor(160, 160, 160);

impl Drawable for Diagram {
    fn size(&self) -> (u32, u32) {
        let width = (LEFT_PX + self.line_px() * self.lines.len() as i32 + 60).max(WIDTH_PX_MIN);
        (width as u32, (self.bottom() + BOTTOM_PX) as u32)
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
            root.draw(&Text::new(
                note.clone(),
                (12, 34 + 14 * i as i32),
                text(12, GREY),
            ))?;
        }
        let bottom = self.bottom();
        // Time labels, one per row.
        for (row, t) in self.rows_ns.iter().enumerate() {
            let y = self.y(row);
            root.draw(&Text::new(
                format!("{:.3} ms", *t as f64 / 1e6),
                (8, y - 5),
                text(10, GREY),
            ))?;
        }
        // Node lines, with the stretches a node was down or paused.
        for (line, name) in self.lines.iter().enumerate() {
            let x = self.x(line);
            root.draw(&Text::new(
                name.clone(),
                (x - 20, TOP_PX - 22),
                text(13, BLACK),
            ))?;
            root.draw(&PathElement::new(
                vec![(x, TOP_PX), (x, bottom)],
                GREY.stroke_width(1),
            ))?;
            for (start, end, colour) in self.stretches(line) {
                let (y0, y1) = (
                    start.map_or(TOP_PX, |r| self.y(r)),
                    end.map_or(bottom, |r| self.y(r)),
                );
                root.draw(&Rectangle::new(
                    [(x - 3, y0), (x + 3, y1)],
                    colour.mix(0.5).filled(),
                ))?;
            }
        }
        // Faults across the cluster.
        for (row, label) in &self.across {
            self.rule(root, *row, label, ACROSS, 1, -13)?;
        }
        // Client operations.
        for (line, start, end, label, outcome) in &self.spans {
            let colour = outcome_colour(*outcome);
            let x = self.x(*line);
            let (y0, y1) = (self.y(*start), end.map_or(bottom, |r| self.y(r)));
            root.draw(&Rectangle::new(
                [(x - 6, y0), (x + 6, y1.max(y0 + 2))],
                colour.mix(0.25).filled(),
            ))?;
            root.draw(&Text::new(label.clone(), (x + 8, y0 - 5), text(10, colour)))?;
        }
        // Messages.
        for arrow in &self.arrows {
            let from = (
                self.x(arrow.from_line),
                arrow.send_row.map_or(TOP_PX, |r| self.y(r)),
            );
            let to = (
                self.x(arrow.to_line),
                arrow.end_row.map_or(bottom, |r| self.y(r)),
            );
            let colour = if arrow.dropped.is_some() {
                DROPPED
            } else {
                ARROW
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
                    root.draw(&Text::new(
                        format!("dropped: {reason}"),
                        (stop.0 + 5, stop.1 - 4),
                        text(9, colour),
                    ))?;
                }
                _ => {
                    root.draw(&PathElement::new(vec![from, to], colour.stroke_width(1)))?;
                    if arrow.end_row.is_some() {
                        root.draw(&arrowhead(from, to, colour))?;
                    }
                }
            }
            let middle = ((from.0 + to.0) / 2, (from.1 + to.1) / 2);
            root.draw(&Text::new(
                arrow.label.clone(),
                (middle.0 + 3, middle.1 - 10),
                text(9, colour),
            ))?;
        }
        // Node events and violations on the lines.
        for (line, row, event) in &self.line_events {
            let (x, y) = (self.x(*line), self.y(*row));
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
            root.draw(&Text::new(label, (x + 10, y - 5), text(11, colour)))?;
        }
        for (row, label) in &self.marks_across {
            self.rule(root, *row, label, DROPPED, 2, 3)?;
        }
        Ok(())
    }
}

impl Diagram {
    /// A line across every node at `row`, labelled `dy` pixels below it.
    fn rule<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        row: usize,
        label: &str,
        colour: RGBColor,
        stroke: u32,
        dy: i32,
    ) -> Drawn<DB> {
        let (y, width) = (self.y(row), self.size().0 as i32);
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
            (10_000_000, 20_000_000, 10_000_000),
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
        // Node ids in the fault's words become names.
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
            (5_000_000, 20_000_000, 5_000_000),
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
            (0, (n + 1) * 1_000_000, focus_ns),
        );
        assert_eq!(d.arrows.len(), MESSAGES_MAX);
        // Three quarters before the focus, one after: sends 575..875.
        assert_eq!((d.from_ns, d.to_ns), (575 * 1_000_000, 874 * 1_000_000));
        assert!(
            d.notes[0].starts_with("narrowed from 1000 messages"),
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
        let d = diagram("t", &records, &names, None, &[], &[], (0, 10_000_000, 0));
        assert_eq!(d.lines.len(), LINES_MAX);
        // n1 (everyone's peer) and the 23 busiest others, in id order.
        let expected: Vec<String> = std::iter::once("n1".to_string())
            .chain((17..=39).map(|k| format!("n{}", k + 1)))
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
            (0, 10_000_000, 0),
        );
        assert_eq!(chosen.lines, ["n1", "n3"]);
        assert_eq!(chosen.arrows.len(), 2);
    }

    #[test]
    fn the_default_window_is_the_first_second_or_around_the_first_mark() {
        let none = LamportWindow::default();
        assert_eq!(
            choose_window(&none, &[], 5_000_000_000),
            (0, DEFAULT_SPAN_NS, 0)
        );
        assert_eq!(choose_window(&none, &[], 300), (0, 300, 0));
        let at = |t: u64| Mark {
            time_ns: t,
            node: None,
            text: String::new(),
            window_ns: None,
        };
        assert_eq!(
            choose_window(
                &none,
                &[at(3_000_000_000), at(2_000_000_000)],
                9_000_000_000
            ),
            (1_000_000_000, 2_100_000_000, 2_000_000_000)
        );
        // A mark with its own window (a culprit's) is shown in it.
        let windowed = Mark {
            window_ns: Some((40, 60)),
            ..at(50)
        };
        assert_eq!(choose_window(&none, &[windowed, at(70)], 100), (40, 60, 50));
        let user = LamportWindow {
            from_ns: Some(5),
            to_ns: Some(9),
            nodes: Vec::new(),
        };
        assert_eq!(choose_window(&user, &[at(7)], 100), (5, 9, 5));
    }

    #[test]
    fn a_diagram_draws_to_its_own_size() {
        let records = vec![send(10, 0, 1, 1, "Vote"), deliver(12, 0, 1, 1, "Vote")];
        let d = diagram("t", &records, &names(), None, &[], &[], (0, 20_000_000, 0));
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
