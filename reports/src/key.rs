//! A chart's key (its legend), drawn in a strip below the plot so that it
//! never covers data: a legend inside the plot area hid points and bars
//! whenever the data reached its corner.
//!
//! A chart lists its entries (`Key::add`), takes the plot's area from
//! `Key::split`, and draws the plot there. Entries run left to right and
//! wrap to the next row at the picture's width; labels are never cut.

use crate::style::{Drawn, FAMILY};
use plotters::coord::Shift;
use plotters::prelude::*;

/// How an entry's sample is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mark {
    Line,
    Dashed,
    Box,
    Dot,
    Square,
    Triangle,
    Cross,
    Diamond,
    /// No sample: a line of the key table ("G2 = PrimaryBackup(...)").
    Nothing,
}

/// Pixels: a row's height, the sample's width, the gap after an entry.
const ROW_PX: i32 = 18;
const SAMPLE_PX: i32 = 22;
const GAP_PX: i32 = 24;
const SIDE_PX: i32 = 16;
const FONT_PT: i32 = 12;

/// About how wide `text` is at `size` points, in pixels: the shipped
/// font's average advance is under 0.6 em.
pub(crate) fn text_width(text: &str, size: i32) -> i32 {
    (text.chars().count() as f64 * f64::from(size) * 0.6).ceil() as i32
}

/// How many characters a category's label may take when `n` categories
/// share a picture `width_px` wide (about 7 px a character at 12 points,
/// less the axis's room).
pub(crate) fn category_chars_max(n: usize, width_px: u32) -> usize {
    (width_px.saturating_sub(100) as usize / n.max(1) / 7).max(4)
}

/// The entries of one chart's key.
#[derive(Clone, Debug, Default)]
pub(crate) struct Key {
    entries: Vec<(String, RGBColor, Mark)>,
}

impl Key {
    pub(crate) fn add(&mut self, label: impl Into<String>, colour: RGBColor, mark: Mark) {
        self.entries.push((label.into(), colour, mark));
    }

    /// The labels of `n = labels.len()` categories across a picture
    /// `width_px` wide: each as it is when all fit their width (about 7 px
    /// a character), else short ids ("G1", "G2", ...) with a table of
    /// what each stands for added to this key, so that no name is cut.
    pub(crate) fn categories(&mut self, labels: &[String], width_px: u32) -> Vec<String> {
        let chars_max = category_chars_max(labels.len(), width_px);
        if labels.iter().all(|l| l.chars().count() <= chars_max) {
            return labels.to_vec();
        }
        let ids: Vec<String> = (1..=labels.len()).map(|i| format!("G{i}")).collect();
        for (id, label) in ids.iter().zip(labels) {
            self.add(format!("{id} = {label}"), BLACK, Mark::Nothing);
        }
        ids
    }

    /// Each entry's row and x, laid out in `width` pixels.
    fn layout(&self, width: i32) -> Vec<(i32, i32)> {
        let mut at = Vec::with_capacity(self.entries.len());
        let (mut row, mut x) = (0, SIDE_PX);
        for (label, _, _) in &self.entries {
            let w = SAMPLE_PX + 6 + text_width(label, FONT_PT);
            if x > SIDE_PX && x + w > width - SIDE_PX {
                row += 1;
                x = SIDE_PX;
            }
            at.push((row, x));
            x += w + GAP_PX;
        }
        at
    }

    /// The strip's height for a picture `width` pixels wide.
    pub(crate) fn height(&self, width: i32) -> i32 {
        let rows = self.layout(width).last().map_or(0, |(row, _)| row + 1);
        if rows == 0 {
            0
        } else {
            rows * ROW_PX + 10
        }
    }

    /// Draws the key in a strip at the bottom of `root`; returns the area
    /// above it, where the plot goes.
    pub(crate) fn split<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
        let (width, height) = root.dim_in_pixel();
        let strip = self.height(width as i32);
        if strip == 0 {
            return Ok(root.clone());
        }
        let (plot, below) = root.split_vertically(height as i32 - strip);
        self.draw(&below)?;
        debug_assert!(plot.dim_in_pixel().1 + below.dim_in_pixel().1 == height);
        Ok(plot)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let width = area.dim_in_pixel().0 as i32;
        let font = (FAMILY, FONT_PT as u32).into_font().color(&BLACK);
        for ((label, colour, mark), (row, x)) in self.entries.iter().zip(self.layout(width)) {
            let y = 4 + row * ROW_PX + ROW_PX / 2;
            let middle = (x + SAMPLE_PX / 2, y);
            let colour = *colour;
            match mark {
                Mark::Line => area.draw(&PathElement::new(
                    vec![(x, y), (x + SAMPLE_PX, y)],
                    colour.stroke_width(2),
                ))?,
                Mark::Dashed => {
                    for start in [x, x + 9, x + 18] {
                        area.draw(&PathElement::new(
                            vec![(start, y), ((start + 5).min(x + SAMPLE_PX), y)],
                            colour.stroke_width(2),
                        ))?;
                    }
                }
                Mark::Box => area.draw(&Rectangle::new(
                    [(x + 5, y - 6), (x + 17, y + 6)],
                    colour.filled(),
                ))?,
                Mark::Dot => area.draw(&Circle::new(middle, 5, colour.filled()))?,
                Mark::Square => area.draw(&Rectangle::new(
                    [(middle.0 - 5, y - 5), (middle.0 + 5, y + 5)],
                    colour.filled(),
                ))?,
                Mark::Triangle => area.draw(&TriangleMarker::new(middle, 6, colour.filled()))?,
                Mark::Cross => area.draw(&Cross::new(middle, 5, colour.stroke_width(2)))?,
                Mark::Nothing => {}
                Mark::Diamond => area.draw(&Polygon::new(
                    vec![
                        (middle.0, y - 7),
                        (middle.0 + 5, y),
                        (middle.0, y + 7),
                        (middle.0 - 5, y),
                    ],
                    colour.filled(),
                ))?,
            }
            area.draw(&Text::new(
                label.clone(),
                (x + SAMPLE_PX + 6, y - FONT_PT / 2 - 1),
                font.clone(),
            ))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_wrap_at_the_width_and_the_strip_grows_with_the_rows() {
        let mut key = Key::default();
        assert_eq!(key.height(1200), 0, "no entries, no strip");
        for i in 0..12 {
            key.add(format!("group number {i}"), BLACK, Mark::Line);
        }
        let at = key.layout(1200);
        let rows = at.last().unwrap().0 + 1;
        assert!(rows >= 2, "{at:?}");
        assert_eq!(key.height(1200), rows * ROW_PX + 10);
        // No entry runs past the right edge, and none overlaps the next.
        for (((label, _, _), (row, x)), (next_row, next_x)) in
            key.entries.iter().zip(&at).zip(at.iter().skip(1))
        {
            let end = x + SAMPLE_PX + 6 + text_width(label, FONT_PT);
            assert!(end <= 1200 - SIDE_PX);
            if row == next_row {
                assert!(end < *next_x);
            }
        }
    }

    #[test]
    fn long_category_names_become_ids_with_a_table_and_short_ones_stay() {
        let mut key = Key::default();
        let short: Vec<String> = ["Sync", "SemiSync", "Async"].map(String::from).to_vec();
        assert_eq!(key.categories(&short, 1200), short);
        assert_eq!(key.height(1200), 0, "nothing added");
        let long: Vec<String> = (0..9)
            .map(|i| format!("PrimaryBackup(mode: SemiSync(acks: {i}, fallback_timeout: 500ms))"))
            .collect();
        let ids = key.categories(&long, 1200);
        assert_eq!(ids[0], "G1");
        assert_eq!(ids[8], "G9");
        assert_eq!(key.entries.len(), 9);
        assert_eq!(
            key.entries[1].0,
            format!("G2 = {}", long[1]),
            "the whole name, never cut"
        );
    }
}
