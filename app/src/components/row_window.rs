//! Which rows of a long map are in the page: the rows on screen and a few
//! either side ("overscan"), with two spacer rows standing in for the rest.
//!
//! A 1,000-row map rendered whole was 3.9 MB of HTML and 1.4–2 s to paint
//! and hydrate; only the window's rows are rendered now, by the server too,
//! so the page and its hydration no longer grow with the rows (the map's
//! first [`FIRST_SENT`] rows come along as data, the rest after the first
//! paint: `comops_core::map::first_rows`).
//! A browser that opens a long map itself (inside the app, not hydrating
//! the server's page) builds first only the rows that fill its screen,
//! and the overscan after they are painted ([`screen_rows`]).
//! Maps of up to [`FULL_RENDER`] rows render every row as before: they are
//! cheap, and the browser's find-in-page and printing see all of them.
//! A long map being printed draws every row too (`beforeprint`), so the
//! paper has the whole map. The browser's find-in-page sees only the
//! drawn rows, so Ctrl+F opens the map's own find bar (`find_bar.rs`).
//!
//! Rows are as tall as their text (a cell's box grows with it), so heights
//! are measured as rows are shown and kept by row id; a row not seen yet
//! counts as [`ROW_ESTIMATE_PX`]. This file is the arithmetic only, the
//! same on the server and in the browser; `editable_table.rs` measures,
//! listens to scrolling and moves the window.

use std::collections::HashMap;
use std::ops::Range;

/// Maps with at most this many rows render all of them.
pub const FULL_RENDER: usize = 100;
/// Rows rendered beyond each edge of the screen.
pub const OVERSCAN: usize = 12;
/// Rows the server renders for a long map: a tall screen's worth.
pub const FIRST_SCREEN: usize = 32;
/// Rows the answer that opens a long map carries (the rest follows,
/// `comops_core::map::first_rows`): the server's first screen and the
/// overscan below it, so the rows drawn around the first screen are real.
pub const FIRST_SENT: usize = FIRST_SCREEN + OVERSCAN;
/// The height of a row of one-line cells (style/main.css `.map-cell` in a
/// `py-1` cell, and the row's top border), for rows not measured yet.
pub const ROW_ESTIMATE_PX: f64 = 37.0;
/// Rows a browser renders first for a long map it opens itself (not one
/// it hydrates) when it cannot tell its screen's height.
pub const FALLBACK_SCREEN: usize = 8;
/// The height a browser guesses for a row before it has drawn any: a
/// row of a communication map's texts, two or three lines (the demo's
/// e-commerce map: ~105 px). Guessing a one-line row instead built and
/// laid out four times the rows its screen shows.
pub const FIRST_GUESS_PX: f64 = 90.0;

/// Every measured row's height in CSS pixels, by row id; a row not
/// measured yet counts as the mean of those measured (the rows of one map
/// look alike), or [`ROW_ESTIMATE_PX`] before any is.
#[derive(Clone, Debug, Default)]
pub struct RowHeights {
    measured: HashMap<String, f64>,
    total: f64,
}

impl RowHeights {
    /// Records `id`'s height; says whether it changed.
    pub fn measured(&mut self, id: &str, px: f64) -> bool {
        if px <= 0.0 {
            return false;
        }
        match self.measured.get(id) {
            Some(old) if (old - px).abs() < 0.5 => false,
            old => {
                self.total += px - old.copied().unwrap_or(0.0);
                self.measured.insert(id.to_string(), px);
                true
            }
        }
    }

    /// The height of a row not measured yet.
    pub fn estimate(&self) -> f64 {
        if self.measured.is_empty() {
            return ROW_ESTIMATE_PX;
        }
        self.total / self.measured.len() as f64
    }

    /// `id`'s height, measured or estimated.
    pub fn of(&self, id: &str) -> f64 {
        self.measured.get(id).copied().unwrap_or_else(|| self.estimate())
    }

    /// The height of the rows `ids[range]`.
    pub fn sum(&self, ids: &[String], range: Range<usize>) -> f64 {
        let estimate = self.estimate();
        ids.get(range).unwrap_or_default().iter().map(|id| self.measured.get(id).copied().unwrap_or(estimate)).sum()
    }
}

/// Whether a table of `rows` rows is windowed at all.
pub fn windowed(rows: usize) -> bool {
    rows > FULL_RENDER
}

/// The rows the server renders (and the browser hydrates): the first
/// screen, or the screen around the row the page opens at (`?row=`).
pub fn first(rows: usize, focus: Option<usize>) -> Range<usize> {
    first_of(rows, focus, FIRST_SCREEN)
}

/// The rows a browser builds first when it opens a long map itself: as
/// many rows of [`FIRST_GUESS_PX`] as fill a screen `px` tall. Building
/// and laying out rows is most of an opening's time, and a tall screen's
/// worth of one-line rows (the server's [`FIRST_SCREEN`]) is several
/// screens of most maps. If these rows turn out too short for the screen,
/// the rows that their measured heights say fill it are added before the
/// frame is painted; the rows beyond the screen (the overscan) follow
/// after the paint. A map opened at a row (`?row=`) keeps the server's
/// window around it.
pub fn screen_rows(px: Option<f64>) -> usize {
    match px {
        Some(px) if px.is_finite() && px > 0.0 => ((px / FIRST_GUESS_PX).ceil() as usize).clamp(1, FIRST_SCREEN),
        _ => FALLBACK_SCREEN,
    }
}

/// [`first`] with `len` rows: the first `len`, or `len` around `focus`.
pub fn first_of(rows: usize, focus: Option<usize>, len: usize) -> Range<usize> {
    if !windowed(rows) {
        return 0..rows;
    }
    let len = len.max(1);
    let start = focus.map_or(0, |f| f.saturating_sub(len / 2));
    let end = (start + len).min(rows);
    end.saturating_sub(len)..end
}

/// The rows to render when the screen shows `top..bottom` pixels of the
/// table's body (0 = the body's top edge), overscan included.
pub fn around(ids: &[String], heights: &RowHeights, top: f64, bottom: f64) -> Range<usize> {
    around_with(ids, heights, top, bottom, OVERSCAN)
}

/// [`around`] with `overscan` rows beyond each edge of the screen.
pub fn around_with(ids: &[String], heights: &RowHeights, top: f64, bottom: f64, overscan: usize) -> Range<usize> {
    if !windowed(ids.len()) {
        return 0..ids.len();
    }
    let mut y = 0.0;
    let mut first_seen = None;
    let mut last_seen = 0;
    for (i, id) in ids.iter().enumerate() {
        let h = heights.of(id);
        if first_seen.is_none() && y + h > top {
            first_seen = Some(i);
        }
        if y < bottom {
            last_seen = i;
        } else {
            break;
        }
        y += h;
    }
    // Scrolled past the end (or above the table): the nearest screenful.
    let first_seen = first_seen.unwrap_or(ids.len().saturating_sub(1)).min(last_seen);
    let start = first_seen.saturating_sub(overscan);
    let end = (last_seen + 1 + overscan).min(ids.len());
    start..end
}

/// `range` moved the least to include row `i`.
pub fn including(range: Range<usize>, i: usize, rows: usize) -> Range<usize> {
    if range.contains(&i) {
        return range;
    }
    let len = (range.end - range.start).max(1);
    let start = i.saturating_sub(len / 2);
    let end = (start + len).min(rows);
    end.saturating_sub(len)..end
}

/// `range` cut to a table of `rows` rows (after a delete).
pub fn clamp(range: Range<usize>, rows: usize) -> Range<usize> {
    if !windowed(rows) {
        return 0..rows;
    }
    let end = range.end.min(rows);
    let start = range.start.min(end);
    if end - start == 0 {
        return first(rows, Some(rows.saturating_sub(1)));
    }
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("r{i}")).collect()
    }

    #[test]
    fn small_maps_render_every_row() {
        assert_eq!(first(100, None), 0..100);
        assert_eq!(first(100, Some(99)), 0..100);
        assert_eq!(around(&ids(60), &RowHeights::default(), 5_000.0, 6_000.0), 0..60);
    }

    #[test]
    fn a_long_map_starts_with_one_screen_or_the_screen_of_its_row() {
        assert_eq!(first(1_000, None), 0..FIRST_SCREEN);
        assert_eq!(first(1_000, Some(500)), 500 - FIRST_SCREEN / 2..500 + FIRST_SCREEN / 2);
        assert_eq!(first(1_000, Some(999)), 1_000 - FIRST_SCREEN..1_000);
        assert_eq!(first(1_000, Some(3)), 0..FIRST_SCREEN);
    }

    #[test]
    fn a_browser_opening_a_long_map_starts_with_its_screen() {
        // 720 px of screen: 8 rows of 90 px.
        assert_eq!(screen_rows(Some(720.0)), 8);
        assert_eq!(first_of(1_000, None, screen_rows(Some(720.0))), 0..8);
        assert_eq!(first_of(1_000, Some(500), 8), 496..504);
        assert_eq!(first_of(1_000, Some(998), 8), 992..1_000);
        // Never more than the server's screen, never none.
        assert_eq!(screen_rows(Some(50_000.0)), FIRST_SCREEN);
        assert_eq!(screen_rows(Some(1.0)), 1);
        assert_eq!(screen_rows(None), FALLBACK_SCREEN);
        assert_eq!(screen_rows(Some(f64::NAN)), FALLBACK_SCREEN);
        assert_eq!(first_of(1_000, None, 0), 0..1);
        // A short map is whole, whatever the screen.
        assert_eq!(first_of(80, None, 8), 0..80);
        // The screen's rows without overscan: what fills it before the paint.
        let ids = ids(1_000);
        let heights = RowHeights::default();
        assert_eq!(around_with(&ids, &heights, 0.0, 20.0 * ROW_ESTIMATE_PX - 1.0, 0), 0..20);
    }

    #[test]
    fn the_window_is_the_screen_and_the_overscan() {
        let ids = ids(1_000);
        let heights = RowHeights::default();
        // The screen shows rows 100..120 (37 px each).
        let top = 100.0 * ROW_ESTIMATE_PX;
        let r = around(&ids, &heights, top, top + 20.0 * ROW_ESTIMATE_PX - 1.0);
        assert_eq!(r, 100 - OVERSCAN..120 + OVERSCAN);
        // Above the table: its first rows; below it: its last.
        assert_eq!(around(&ids, &heights, -500.0, 300.0).start, 0);
        let end = around(&ids, &heights, 1e9, 1e9 + 700.0);
        assert_eq!(end.end, 1_000);
        assert!(!end.is_empty());
    }

    #[test]
    fn measured_rows_move_the_rows_after_them() {
        let ids = ids(1_000);
        let mut heights = RowHeights::default();
        // Row 1 has a long text (10 lines), rows 2 and 3 one line.
        assert!(heights.measured("r1", 370.0));
        assert!(!heights.measured("r1", 370.0));
        assert!(heights.measured("r2", 37.0));
        assert!(heights.measured("r3", 37.0));
        // The rest count as the mean: 148 px.
        assert_eq!(heights.estimate(), 148.0);
        assert_eq!(heights.sum(&ids, 0..4), 370.0 + 37.0 + 37.0 + 148.0);
        // Rows 4… start at 444 px; the screen at 444 + 10 × 148 shows row 14 (index 13).
        let top = 444.0 + 10.0 * 148.0;
        assert_eq!(around(&ids, &heights, top, top + 1.0), 13 - OVERSCAN..14 + OVERSCAN);
        // A row measured again replaces its height in the mean.
        assert!(heights.measured("r1", 37.0));
        assert_eq!(heights.estimate(), 37.0);
    }

    #[test]
    fn a_window_moves_to_a_row_and_shrinks_with_the_map() {
        assert_eq!(including(0..40, 10, 1_000), 0..40);
        assert_eq!(including(0..40, 41, 1_000), 21..61);
        assert_eq!(including(0..40, 999, 1_000), 960..1_000);
        assert_eq!(clamp(900..960, 950), 900..950);
        assert_eq!(clamp(960..1_000, 950), first(950, Some(949)));
        assert_eq!(clamp(5..40, 90), 0..90);
    }
}
