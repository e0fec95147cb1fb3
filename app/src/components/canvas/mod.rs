//! The pure model behind the scenario canvas (SPEC §6, visual editor): no
//! views and no browser calls, so it is unit-tested natively and costs the
//! wasm bundle only its own code.
//!
//! - [`graph`] — a scenario as nodes and edges: the links of its steps
//!   (`next`, `then`, `otherwise`, `on_error`, …) as labelled edges, the
//!   link fields a connection may set, connecting and removing steps;
//! - [`layout`] — the deterministic auto-layout: longest-path ranks from
//!   `start` (back edges allowed), barycentre ordering within ranks to
//!   reduce crossings;
//! - [`history`] — the undo/redo stack of edits;
//! - [`viewport`] — zoom and pan arithmetic (zoom about a point, fit,
//!   bring a node into view), used by the ComOps loop view, whose
//!   columns `layout::order_layers` untangles too.
//!
//! Node positions are kept in the scenario itself (`Scenario::layout`), so
//! they are saved with the version, and an undo restores the positions and
//! the steps together. The view is `pages/scenarios/canvas.rs`.

pub mod graph;
pub mod history;
pub mod layout;
pub mod viewport;
