//! What the pointer and the keys do on the loop's canvas.
//!
//! A press becomes one [`Gesture`] until it is let go: on a node it
//! selects it, and then either moves it (Shift held; with every picked
//! node when it is one of them), drags a communication row towards an
//! endpoint, a CJM stage or a blueprint cell (editors only, once it
//! moves) or stays a click; Ctrl+click (⌘ on a Mac) picks a node along
//! with the others or lets it go; on a row's binding, stage or cell it
//! selects that link
//! (editors); on empty space it pans, or with Shift draws a rubber band
//! whose nodes are picked, and a press that never moved clears the
//! selection and the picked nodes. The wheel zooms about the pointer.
//!
//! Keys on the focused canvas: arrows walk the nodes (`LoopGraph::step`),
//! Enter opens the selected one, Escape cancels a drag and then clears the
//! selection and the picked nodes, Delete/Backspace (editors) removes the
//! selected link or deletes the selected CJM or blueprint stage or row
//! from its map,
//! Ctrl+Z and Ctrl+Shift+Z (Ctrl+Y) take back and make again the page's
//! last change, + − 0 zoom and fit, L lays out again, R shows or hides
//! the trace overlay.

use super::super::loop_model::{Dir, Kind};
use super::canvas::Canvas;
use crate::components::canvas::viewport;
use crate::components::focus_without_scrolling;
use leptos::ev::{KeyboardEvent, PointerEvent, WheelEvent};
use leptos::prelude::*;

/// A press on the canvas, until it is let go.
#[derive(Debug, Clone, Default)]
pub(super) enum Gesture {
    #[default]
    None,
    /// Panning: where the pointer and the pan started, and whether it moved.
    Pan { from: (f64, f64), start: (f64, f64), moved: bool },
    /// Dragging communication row `row` towards an endpoint, a CJM stage
    /// or a blueprint cell: where the press was (page pixels) and whether it has moved
    /// yet.
    Bind { row: usize, from: (f64, f64), moved: bool },
    /// Moving nodes by hand (Shift+drag): the one pressed, or every
    /// picked node when it is one of them, each with where it was; where
    /// the press was (model space), and whether they have moved yet.
    Move { nodes: Vec<(usize, (f64, f64))>, from: (f64, f64), moved: bool },
    /// A rubber band (Shift+drag on empty space) from this corner (model
    /// space; `press`: in page pixels): the nodes it touches are picked
    /// when it is let go; one that never moved is a click on empty space.
    Band { from: (f64, f64), press: (f64, f64), moved: bool },
}

fn client(ev: &PointerEvent) -> (f64, f64) {
    (ev.client_x() as f64, ev.client_y() as f64)
}

impl Canvas {
    /// The pointer goes captured to the canvas, so a drag goes on outside it.
    fn capture(self, id: i32) {
        if let Some(el) = self.svg.get_untracked() {
            let _ = el.set_pointer_capture(id);
        }
    }

    /// A row being dragged, nodes being moved or a rubber band drawn.
    fn dragging(self) -> bool {
        self.gesture.with_value(|g| matches!(g, Gesture::Bind { .. } | Gesture::Move { .. } | Gesture::Band { .. }))
    }

    /// Escape: a row's drag ends without a binding, moved nodes go back,
    /// a rubber band picks nothing.
    fn cancel_drag(self) {
        match self.gesture.get_value() {
            Gesture::Bind { .. } | Gesture::Band { .. } => self.gesture.set_value(Gesture::None),
            Gesture::Move { nodes, .. } => {
                for (i, start) in nodes {
                    self.spots.of(i).set(start);
                }
                self.gesture.set_value(Gesture::None);
            }
            _ => {}
        }
        self.drag.set(None);
        self.band.set(None);
    }

    /// Ctrl+click: node `i` joins the picked nodes (with the one selected
    /// before, so a click and then a Ctrl+click pick both), or leaves them
    /// (and the selection goes to a node still picked, if any).
    fn toggle_picked(self, i: usize) {
        let before = self.selected.get_untracked();
        let mut joined = false;
        self.picked.update(|picked| {
            if picked.is_empty() {
                picked.extend(before.filter(|&b| b != i));
            }
            if !picked.remove(&i) {
                picked.insert(i);
                joined = true;
            }
        });
        if joined {
            self.selected.set(Some(i));
        } else if before == Some(i) {
            self.selected.set(self.picked.with_untracked(|picked| picked.last().copied()));
        }
        self.link.set(None);
    }

    /// A click on empty space: nothing selected or picked.
    fn clear(self) {
        self.selected.set(None);
        self.link.set(None);
        self.let_go();
    }

    /// Lets the picked nodes go; when none are, nothing is told (every
    /// node reads the picked set, and most clicks pick nothing).
    fn let_go(self) {
        if self.picked.with_untracked(|picked| !picked.is_empty()) {
            self.picked.update(|picked| picked.clear());
        }
    }

    pub(super) fn pointer_down(self, ev: PointerEvent) {
        if ev.button() != 0 {
            return;
        }
        let target = event_target::<leptos::web_sys::Element>(&ev);
        let attr = |sel: &str, name: &str| target.closest(sel).ok().flatten().and_then(|el| el.get_attribute(name)).and_then(|v| v.parse::<usize>().ok());
        let client = client(&ev);
        focus_without_scrolling(self.wrapper);
        if let Some(i) = attr("[data-index]", "data-index") {
            if ev.ctrl_key() || ev.meta_key() {
                self.toggle_picked(i);
                self.gesture.set_value(Gesture::None);
                return;
            }
            self.selected.set(Some(i));
            self.link.set(None);
            // A node that is not picked lets the picked ones go.
            let among_picked = self.picked.with_untracked(|picked| picked.contains(&i));
            if !among_picked {
                self.let_go();
            }
            // Not while a change is saved: the loop is read again after it.
            if ev.shift_key() && !self.busy.get_untracked() {
                self.capture(ev.pointer_id());
                let moving: Vec<usize> = if among_picked { self.picked.get_untracked().into_iter().collect() } else { vec![i] };
                let nodes = moving.into_iter().map(|k| (k, self.spots.of(k).get_untracked())).collect();
                self.gesture.set_value(Gesture::Move { nodes, from: self.to_model(client), moved: false });
                return;
            }
            let row = self.graph.with_value(|g| g.nodes.get(i).is_some_and(|n| n.kind == Kind::Row));
            // The pointer is captured only once the row moves: a click or
            // double-click stays on the node.
            let bind = self.editable && row && !self.busy.get_untracked();
            self.gesture.set_value(if bind { Gesture::Bind { row: i, from: client, moved: false } } else { Gesture::None });
        } else if let Some(k) = attr("[data-link]", "data-link").filter(|_| self.editable) {
            self.selected.set(None);
            self.link.set(Some(k));
            self.gesture.set_value(Gesture::None);
        } else if ev.shift_key() {
            self.capture(ev.pointer_id());
            let at = self.to_model(client);
            self.band.set(Some((at, at)));
            self.gesture.set_value(Gesture::Band { from: at, press: client, moved: false });
        } else {
            self.capture(ev.pointer_id());
            self.gesture.set_value(Gesture::Pan { from: client, start: self.pan.get_untracked(), moved: false });
        }
    }

    pub(super) fn pointer_move(self, ev: PointerEvent) {
        let client = client(&ev);
        match self.gesture.get_value() {
            Gesture::None => {}
            Gesture::Pan { from, start, .. } => {
                let (dx, dy) = (client.0 - from.0, client.1 - from.1);
                if dx.abs() + dy.abs() > 3.0 {
                    self.gesture.set_value(Gesture::Pan { from, start, moved: true });
                    self.pan.set((start.0 + dx, start.1 + dy));
                }
            }
            Gesture::Bind { row, from, moved } => {
                if !moved {
                    if (client.0 - from.0).abs() + (client.1 - from.1).abs() < 4.0 {
                        return;
                    }
                    self.capture(ev.pointer_id());
                    self.gesture.set_value(Gesture::Bind { row, from, moved: true });
                }
                self.drag.set(Some((row, self.to_model(client))));
            }
            Gesture::Move { nodes, from, moved } => {
                let at = self.to_model(client);
                let (dx, dy) = (at.0 - from.0, at.1 - from.1);
                if !moved && dx.abs() + dy.abs() < 3.0 {
                    return;
                }
                for (i, start) in &nodes {
                    self.spots.of(*i).set((start.0 + dx, start.1 + dy));
                }
                self.gesture.set_value(Gesture::Move { nodes, from, moved: true });
            }
            Gesture::Band { from, press, moved } => {
                if !moved && (client.0 - press.0).abs() + (client.1 - press.1).abs() < 3.0 {
                    return;
                }
                self.gesture.set_value(Gesture::Band { from, press, moved: true });
                self.band.set(Some((from, self.to_model(client))));
            }
        }
    }

    pub(super) fn pointer_up(self, ev: PointerEvent) {
        let client = client(&ev);
        match self.gesture.get_value() {
            // A click on empty space (no drag) clears the selection.
            Gesture::Pan { moved: false, .. } | Gesture::Band { moved: false, .. } => self.clear(),
            Gesture::Bind { row, moved: true, .. } => {
                if let Some(e) = self.graph.with_value(|g| g.drop_target(row, self.to_model(client))) {
                    self.drop_on(row, e);
                }
            }
            Gesture::Move { nodes, moved: true, .. } => {
                for &(i, _) in &nodes {
                    self.spots.put(self.graph, i, self.spots.of(i).get_untracked());
                }
                self.spots.save(self.graph);
                self.moved(nodes);
            }
            Gesture::Band { from, moved: true, .. } => {
                let touched = self.graph.with_value(|g| g.touching(from, self.to_model(client)));
                self.picked.update(|picked| picked.extend(touched));
            }
            _ => {}
        }
        self.gesture.set_value(Gesture::None);
        self.drag.set(None);
        self.band.set(None);
    }

    /// The browser took the pointer away: as Escape, nothing is kept.
    pub(super) fn pointer_cancel(self) {
        self.cancel_drag();
        self.gesture.set_value(Gesture::None);
    }

    pub(super) fn wheel(self, ev: WheelEvent) {
        ev.prevent_default();
        let (ox, oy) = self.origin();
        let factor = (-ev.delta_y() * 0.0015).exp();
        let (p, k) = viewport::zoom_about(self.pan.get_untracked(), self.zoom.get_untracked(), factor, (ev.client_x() as f64 - ox, ev.client_y() as f64 - oy));
        self.pan.set(p);
        self.zoom.set(k);
    }

    pub(super) fn key_down(self, ev: KeyboardEvent) {
        let dir = match ev.key().as_str() {
            "ArrowUp" => Some(Dir::Up),
            "ArrowDown" => Some(Dir::Down),
            "ArrowLeft" => Some(Dir::Left),
            "ArrowRight" => Some(Dir::Right),
            _ => None,
        };
        if let Some(dir) = dir {
            if let Some(next) = self.graph.with_value(|g| g.step(self.selected.get_untracked(), dir)) {
                self.select(next);
            }
            ev.prevent_default();
            return;
        }
        // Letters by their place under a non-Latin layout (L types «д» in Russian).
        match crate::components::shortcut_key(&ev.key(), &ev.code()).as_str() {
            "Enter" => match self.selected.get_untracked() {
                Some(i) => self.open.run(i),
                None => return,
            },
            // Escape first cancels a drag, then clears the selection.
            "Escape" if self.drag.get_untracked().is_some() || self.dragging() => self.cancel_drag(),
            "Escape" => self.clear(),
            "Delete" | "Backspace" if self.editable && !self.busy.get_untracked() => match (self.link.get_untracked(), self.selected.get_untracked()) {
                (Some(k), _) => self.unbind_link(k),
                (None, Some(i)) => self.delete_node(i),
                _ => return,
            },
            "+" | "=" => self.zoom_by(1.2),
            "-" | "_" => self.zoom_by(1.0 / 1.2),
            "0" => self.fit(),
            "z" if (ev.ctrl_key() || ev.meta_key()) && !self.busy.get_untracked() && !self.dragging() => self.on_history.run(ev.shift_key()),
            "y" if ev.ctrl_key() && !self.busy.get_untracked() && !self.dragging() => self.on_history.run(true),
            "l" if !ev.ctrl_key() && !ev.meta_key() && !self.dragging() => self.auto_layout(),
            "r" if !ev.ctrl_key() && !ev.meta_key() => self.overlay.toggle(),
            _ => return,
        }
        ev.prevent_default();
    }
}
