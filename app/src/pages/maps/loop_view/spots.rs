//! Where each node of the loop is drawn: one signal per node (its links'
//! paths follow it), the layout's place or where it was moved by hand
//! (Shift+drag). Hand-moved places are this browser's, kept per project in
//! `localStorage`, never the maps'; "Auto-layout" (or L) forgets them.
//!
//! The graph (`LoopGraph`) holds the same places: it hit-tests drops and
//! walks the arrow keys, so a node put somewhere is put in both.

use super::super::loop_model::{decode_positions, encode_positions, LoopGraph};
use crate::components::local_store;
use leptos::prelude::*;

/// Every node's place on the canvas, one signal each: the layout's, or
/// where it was moved by hand (Shift+drag), kept per project in this
/// browser's `localStorage` until "Auto-layout" (or L) puts it back.
#[derive(Clone, Copy)]
pub(super) struct Spots {
    at: StoredValue<Vec<RwSignal<(f64, f64)>>>,
    laid_out: StoredValue<Vec<(f64, f64)>>,
    storage_key: StoredValue<String>,
}

impl Spots {
    pub(super) fn new(graph: &LoopGraph, project: &str) -> Spots {
        let laid_out: Vec<(f64, f64)> = graph.nodes.iter().map(|n| n.at).collect();
        Spots {
            at: StoredValue::new(laid_out.iter().map(|&p| RwSignal::new(p)).collect()),
            laid_out: StoredValue::new(laid_out),
            storage_key: StoredValue::new(format!("comops.loop.positions.{project}")),
        }
    }

    pub(super) fn of(self, i: usize) -> RwSignal<(f64, f64)> {
        self.at.with_value(|at| at[i])
    }

    /// Where the layout puts node `i`.
    pub(super) fn laid_out_of(self, i: usize) -> (f64, f64) {
        self.laid_out.with_value(|laid_out| laid_out[i])
    }

    /// Puts node `i` at `p`, on screen and in the graph (which hit-tests).
    pub(super) fn put(self, graph: StoredValue<LoopGraph>, i: usize, p: (f64, f64)) {
        self.of(i).set(p);
        graph.update_value(|g| g.nodes[i].at = p);
    }

    /// The positions kept in this browser, put back (after hydration: the
    /// server drew the layout).
    pub(super) fn restore(self, graph: StoredValue<LoopGraph>) {
        let Some(text) = local_store::get(&self.storage_key.get_value()) else { return };
        let kept = decode_positions(&text);
        for i in graph.try_update_value(|g| g.place(&kept)).unwrap_or_default() {
            self.of(i).set(graph.with_value(|g| g.nodes[i].at));
        }
    }

    /// Keeps the nodes moved by hand (or forgets them all, when none is).
    pub(super) fn save(self, graph: StoredValue<LoopGraph>) {
        let moved: Vec<(String, (f64, f64))> = graph.with_value(|g| {
            self.laid_out.with_value(|l| g.nodes.iter().zip(l).filter(|(n, at)| n.at != **at).map(|(n, _)| (n.key.clone(), n.at)).collect())
        });
        let key = self.storage_key.get_value();
        if moved.is_empty() {
            local_store::remove(&key);
        } else {
            local_store::set(&key, &encode_positions(&moved));
        }
    }

    /// Every node back at the layout's place, nothing kept.
    pub(super) fn auto_layout(self, graph: StoredValue<LoopGraph>) {
        let laid_out = self.laid_out.get_value();
        for (i, p) in laid_out.into_iter().enumerate() {
            self.put(graph, i, p);
        }
        local_store::remove(&self.storage_key.get_value());
    }
}
