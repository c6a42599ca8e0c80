//! What every picture shares and that nothing else decides: the font
//! family the charts name, and the result a drawing step gives. A leaf, so
//! that the chart kit and the key (which the charts use) both import it,
//! and neither imports the other.

use plotters::prelude::{DrawingAreaErrorKind, DrawingBackend};

/// The family every chart names; `charts::register_font` maps it to the
/// font shipped in `assets/`.
pub(crate) const FAMILY: &str = "sans-serif";

/// What a drawing step gives: nothing, or the backend's error.
pub(crate) type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;
