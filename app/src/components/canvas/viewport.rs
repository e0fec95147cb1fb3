//! Zoom and pan of an SVG canvas as plain numbers: the world is drawn
//! under `translate(pan) scale(zoom)`, so a canvas pixel `p` shows the
//! model point `(p - pan) / zoom`. Pure, so the ComOps loop view (and any
//! later canvas) shares one tested version of the arithmetic.

/// The zoom range every canvas keeps to.
pub const MIN_ZOOM: f64 = 0.1;
pub const MAX_ZOOM: f64 = 3.0;

/// The pan and zoom after zooming by `factor` around the canvas point
/// `at`, which stays where it is on screen.
pub fn zoom_about(pan: (f64, f64), zoom: f64, factor: f64, at: (f64, f64)) -> ((f64, f64), f64) {
    let next = (zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
    let pan = (at.0 - (at.0 - pan.0) * next / zoom, at.1 - (at.1 - pan.1) * next / zoom);
    (pan, next)
}

/// The pan and zoom that show the model box `(x0, y0, x1, y1)` whole and
/// centred in a canvas of `size`, with a 20 px margin, never larger than
/// `max_zoom`.
pub fn fit(bounds: (f64, f64, f64, f64), size: (f64, f64), max_zoom: f64) -> ((f64, f64), f64) {
    let (x0, y0, x1, y1) = bounds;
    let (w, h) = size;
    let (bw, bh) = ((x1 - x0).max(1.0), (y1 - y0).max(1.0));
    let k = ((w - 40.0) / bw).min((h - 40.0) / bh).clamp(MIN_ZOOM, max_zoom);
    (((w - bw * k) / 2.0 - x0 * k, (h - bh * k) / 2.0 - y0 * k), k)
}

/// The pan that brings the model box `(x, y, w, h)` into view: unchanged
/// when it is already whole on screen, else the box is centred.
pub fn reveal(pan: (f64, f64), zoom: f64, node: (f64, f64, f64, f64), size: (f64, f64)) -> (f64, f64) {
    let (x, y, w, h) = node;
    let (left, top) = (x * zoom + pan.0, y * zoom + pan.1);
    let (right, bottom) = (left + w * zoom, top + h * zoom);
    if left >= 0.0 && top >= 0.0 && right <= size.0 && bottom <= size.1 {
        return pan;
    }
    (size.0 / 2.0 - (x + w / 2.0) * zoom, size.1 / 2.0 - (y + h / 2.0) * zoom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_screen(pan: (f64, f64), zoom: f64, p: (f64, f64)) -> (f64, f64) {
        (p.0 * zoom + pan.0, p.1 * zoom + pan.1)
    }

    #[test]
    fn zooming_keeps_the_point_under_the_pointer_still() {
        let (pan, zoom) = ((30.0, -12.0), 0.8);
        let at = (400.0, 300.0);
        let model = ((at.0 - pan.0) / zoom, (at.1 - pan.1) / zoom);
        let (pan2, zoom2) = zoom_about(pan, zoom, 1.5, at);
        assert!((zoom2 - 1.2).abs() < 1e-9);
        let back = on_screen(pan2, zoom2, model);
        assert!((back.0 - at.0).abs() < 1e-9 && (back.1 - at.1).abs() < 1e-9, "{back:?}");
        assert_eq!(zoom_about(pan, zoom, 100.0, at).1, MAX_ZOOM);
    }

    #[test]
    fn fit_shows_the_whole_box_centred() {
        let (pan, k) = fit((100.0, 50.0, 2100.0, 1050.0), (1040.0, 540.0), 1.5);
        assert!((k - 0.5).abs() < 1e-9);
        let (a, b) = (on_screen(pan, k, (100.0, 50.0)), on_screen(pan, k, (2100.0, 1050.0)));
        assert!((a.0 - 20.0).abs() < 1e-9 && (b.0 - 1020.0).abs() < 1e-9, "{a:?} {b:?}");
        assert!((a.1 - 20.0).abs() < 1e-9 && (b.1 - 520.0).abs() < 1e-9, "{a:?} {b:?}");
        // A small drawing is not blown up past the limit.
        assert_eq!(fit((0.0, 0.0, 10.0, 10.0), (800.0, 600.0), 1.5).1, 1.5);
    }

    #[test]
    fn reveal_moves_only_when_the_node_is_off_screen() {
        assert_eq!(reveal((0.0, 0.0), 1.0, (10.0, 10.0, 100.0, 40.0), (800.0, 600.0)), (0.0, 0.0));
        let pan = reveal((0.0, 0.0), 0.5, (3000.0, 10.0, 100.0, 40.0), (800.0, 600.0));
        let centre = on_screen(pan, 0.5, (3050.0, 30.0));
        assert!((centre.0 - 400.0).abs() < 1e-9 && (centre.1 - 300.0).abs() < 1e-9, "{centre:?}");
    }
}
