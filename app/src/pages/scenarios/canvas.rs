//! The scenario canvas: the steps as SVG nodes, their links as labelled
//! edges, edited in place (SPEC §6, visual editor). It edits the same
//! [`Scenario`] signal as the step table, so switching views loses
//! nothing.
//!
//! Cheap edits: each node's position is its own signal, and nodes and
//! edges are keyed, so dragging one node re-renders only it and the edges
//! touching it. Positions go into `Scenario::layout` when a gesture ends
//! (one undo step), and from there into the saved version.
//!
//! Pointer: drag a node to move it (with the others selected), drag from
//! its right port to another node to link them (a step with several
//! links asks which), click an edge to select it (the side panel shows the
//! step whose field it is), shift-click or shift-drag on empty space to
//! select several, drag empty space to pan, the wheel to zoom. Keys (on the
//! focused canvas): Delete/Backspace (the selected nodes, or the selected
//! edge: that one link), arrows (move), + / − / 0 (zoom, fit),
//! L (auto-layout), Ctrl+Z, Ctrl+Shift+Z or Ctrl+Y, Ctrl+A, Escape. Tab
//! walks the nodes.

use super::model::{default_step, unique_id};
use super::step_form::{StepForm, STEP_TYPES};
use super::steps::summary;
use super::BUTTON;
use crate::api::scenarios::{StepIssue, TraceCounts};
use crate::components::canvas::graph::{self, Edge};
use crate::components::canvas::history::History;
use crate::components::canvas::layout::{auto_layout, NODE_H, NODE_W};
use crate::components::{focus_without_scrolling, l};
use crate::i18n::{link_text, step_type_text, t, use_locale, K};
use comops_core::scenario::Scenario;
use leptos::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

type Pos = ArcRwSignal<(f64, f64)>;
const W: f64 = NODE_W as f64;
const H: f64 = NODE_H as f64;

/// What the pointer is doing since it went down.
#[derive(Clone, Default)]
enum Gesture {
    #[default]
    None,
    /// Moving the canvas: where the pointer and the pan started.
    Pan { from: (f64, f64), pan: (f64, f64), moved: bool },
    /// Moving the selected nodes: the pointer's start (model space) and
    /// each node's start.
    Drag { from: (f64, f64), nodes: Vec<(String, Pos, (f64, f64))>, moved: bool },
    /// Drawing a link from a node's port.
    Connect { from: String },
    /// A rubber band from this corner (model space).
    Band { from: (f64, f64) },
}

/// The canvas's state, shared by its handlers (all `Copy` handles).
#[derive(Clone, Copy)]
struct Canvas {
    scenario: RwSignal<Scenario>,
    positions: StoredValue<BTreeMap<String, Pos>>,
    selected: RwSignal<BTreeSet<String>>,
    /// The selected edge (its step and field); never together with nodes.
    edge: RwSignal<Option<(String, String)>>,
    pan: RwSignal<(f64, f64)>,
    zoom: RwSignal<f64>,
    history: StoredValue<History<Scenario>>,
    /// The scenario as the last edit left it: what an undo goes back to.
    baseline: StoredValue<Scenario>,
    undoable: RwSignal<(bool, bool)>,
    /// Bumped when the scenario is replaced (undo, redo): the side form
    /// reloads.
    revision: RwSignal<u32>,
    on_change: Callback<()>,
    svg: NodeRef<leptos::svg::Svg>,
}

impl Canvas {
    /// The position signal of step `id` (made from the saved layout the
    /// first time it is asked for).
    fn pos(&self, id: &str) -> Pos {
        if let Some(p) = self.positions.with_value(|m| m.get(id).cloned()) {
            return p;
        }
        let at = self.scenario.with_untracked(|s| s.layout.get(id).copied()).unwrap_or([40, 40]);
        let p = ArcRwSignal::new((at[0] as f64, at[1] as f64));
        self.positions.update_value(|m| {
            m.insert(id.to_string(), p.clone());
        });
        p
    }

    /// Ends an edit: the state before it becomes one undo step.
    fn commit(&self) {
        let now = self.scenario.get_untracked();
        let before = self.baseline.try_update_value(|b| std::mem::replace(b, now));
        if let Some(before) = before {
            self.history.update_value(|h| h.record(before));
        }
        self.refresh_undo();
        self.on_change.run(());
    }

    fn refresh_undo(&self) {
        let state = self.history.with_value(|h| (h.can_undo(), h.can_redo()));
        self.undoable.set(state);
    }

    /// Puts a whole earlier (or later) state back: steps and positions.
    fn restore(&self, state: Scenario) {
        for (id, at) in &state.layout {
            let p = self.pos(id);
            let at = (at[0] as f64, at[1] as f64);
            if p.get_untracked() != at {
                p.set(at);
            }
        }
        self.selected.update(|sel| sel.retain(|id| state.step(id).is_some()));
        self.baseline.set_value(state.clone());
        self.scenario.set(state);
        self.revision.update(|n| *n += 1);
        self.refresh_undo();
        self.on_change.run(());
    }

    fn undo(&self) {
        let current = self.scenario.get_untracked();
        if let Some(Some(state)) = self.history.try_update_value(|h| h.undo(current)) {
            self.restore(state);
        }
    }

    fn redo(&self) {
        let current = self.scenario.get_untracked();
        if let Some(Some(state)) = self.history.try_update_value(|h| h.redo(current)) {
            self.restore(state);
        }
    }

    /// Copies the positions of `ids` into the scenario's layout (no
    /// re-render: the nodes already stand there).
    fn write_positions(&self, ids: impl IntoIterator<Item = String>) {
        let moved: Vec<(String, [i32; 2])> = ids
            .into_iter()
            .map(|id| {
                let (x, y) = self.pos(&id).get_untracked();
                (id, [x.round() as i32, y.round() as i32])
            })
            .collect();
        self.scenario.update_untracked(|s| {
            for (id, at) in moved {
                s.layout.insert(id, at);
            }
        });
    }

    fn relayout(&self) {
        let layout = self.scenario.with_untracked(auto_layout);
        for (id, at) in &layout {
            self.pos(id).set((at[0] as f64, at[1] as f64));
        }
        self.scenario.update_untracked(|s| s.layout = layout);
        self.commit();
        self.fit();
    }

    fn delete_selected(&self) {
        if let Some((from, field)) = self.edge.get_untracked() {
            let mut done = false;
            self.scenario.update(|s| done = graph::remove_link(s, &from, &field));
            self.edge.set(None);
            if done {
                // The side panel shows the step, its field now empty.
                self.selected.set(BTreeSet::from([from]));
                self.revision.update(|n| *n += 1);
                self.commit();
            }
            return;
        }
        let gone = self.selected.get_untracked();
        if gone.is_empty() {
            return;
        }
        self.scenario.update(|s| graph::remove_steps(s, &gone));
        self.positions.update_value(|m| m.retain(|id, _| !gone.contains(id)));
        self.selected.set(BTreeSet::new());
        self.commit();
    }

    /// Moves the selected nodes by (dx, dy) as one edit (arrow keys).
    fn nudge(&self, dx: f64, dy: f64) {
        let ids = self.selected.get_untracked();
        for id in &ids {
            self.pos(id).update(|p| *p = (p.0 + dx, p.1 + dy));
        }
        if !ids.is_empty() {
            self.write_positions(ids);
            self.commit();
        }
    }

    fn add_step(&self, kind: &str) {
        let (w, h) = self.size();
        let (px, py) = self.pan.get_untracked();
        let k = self.zoom.get_untracked();
        // Right of the one selected node, else in the middle of the view.
        let at = match self.single() {
            Some(id) => {
                let (x, y) = self.pos(&id).get_untracked();
                (x + W + 80.0, y)
            }
            None => ((w / 2.0 - px) / k - W / 2.0, (h / 2.0 - py) / k - H / 2.0),
        };
        // Down from there to the first free spot.
        let taken: Vec<(f64, f64)> = self.positions.with_value(|m| m.values().map(|p| p.get_untracked()).collect());
        let mut at = at;
        for _ in 0..500 {
            if !taken.iter().any(|p| (p.0 - at.0).abs() < W + 20.0 && (p.1 - at.1).abs() < H + 20.0) {
                break;
            }
            at.1 += H + 28.0;
        }
        let mut id = String::new();
        self.scenario.update(|s| {
            id = unique_id(s, kind);
            s.steps.push(default_step(kind, id.clone()));
            s.layout.insert(id.clone(), [at.0.round() as i32, at.1.round() as i32]);
            if s.steps.len() == 1 {
                s.start = id.clone();
            }
        });
        self.selected.set(BTreeSet::from([id]));
        self.commit();
    }

    /// Links `from` to `to` through `field`, as one edit.
    fn connect(&self, from: &str, field: &str, to: &str) {
        let mut done = false;
        self.scenario.update(|s| done = graph::set_link(s, from, field, to));
        if done {
            self.commit();
        }
    }

    fn single(&self) -> Option<String> {
        self.selected.with_untracked(|s| if s.len() == 1 { s.iter().next().cloned() } else { None })
    }

    /// The step whose box holds the model point.
    fn node_at(&self, at: (f64, f64)) -> Option<String> {
        let ids: Vec<String> = self.scenario.with_untracked(|s| s.steps.iter().rev().map(|st| st.id.clone()).collect());
        ids.into_iter().find(|id| {
            let (x, y) = self.pos(id).get_untracked();
            at.0 >= x && at.0 <= x + W && at.1 >= y && at.1 <= y + H
        })
    }

    /// The canvas's top-left corner on the page.
    fn origin(&self) -> (f64, f64) {
        #[cfg(feature = "hydrate")]
        if let Some(el) = self.svg.get_untracked() {
            let r = el.get_bounding_client_rect();
            return (r.left(), r.top());
        }
        (0.0, 0.0)
    }

    fn size(&self) -> (f64, f64) {
        self.svg.get_untracked().map_or((800.0, 600.0), |el| (el.client_width().max(1) as f64, el.client_height().max(1) as f64))
    }

    /// A pointer's page position in model space.
    fn to_model(&self, client: (f64, f64)) -> (f64, f64) {
        let (ox, oy) = self.origin();
        let (px, py) = self.pan.get_untracked();
        let k = self.zoom.get_untracked();
        ((client.0 - ox - px) / k, (client.1 - oy - py) / k)
    }

    /// Zooms by `factor` keeping the canvas point `at` (canvas pixels) still.
    fn zoom_at(&self, factor: f64, at: (f64, f64)) {
        let k = self.zoom.get_untracked();
        let next = (k * factor).clamp(0.1, 3.0);
        let (px, py) = self.pan.get_untracked();
        self.pan.set((at.0 - (at.0 - px) * next / k, at.1 - (at.1 - py) * next / k));
        self.zoom.set(next);
    }

    fn zoom_by(&self, factor: f64) {
        let (w, h) = self.size();
        self.zoom_at(factor, (w / 2.0, h / 2.0));
    }

    /// Shows every node.
    fn fit(&self) {
        let boxes: Vec<(f64, f64)> = self.positions.with_value(|m| m.values().map(|p| p.get_untracked()).collect());
        if boxes.is_empty() {
            return;
        }
        let (x0, y0) = boxes.iter().fold((f64::MAX, f64::MAX), |a, p| (a.0.min(p.0), a.1.min(p.1)));
        let (x1, y1) = boxes.iter().fold((f64::MIN, f64::MIN), |a, p| (a.0.max(p.0 + W), a.1.max(p.1 + H)));
        let (w, h) = self.size();
        let k = ((w - 40.0) / (x1 - x0)).min((h - 40.0) / (y1 - y0)).clamp(0.1, 1.5);
        self.zoom.set(k);
        self.pan.set(((w - (x1 - x0) * k) / 2.0 - x0 * k, (h - (y1 - y0) * k) / 2.0 - y0 * k));
    }
}

/// A link waiting for the user to say which field it sets.
#[derive(Clone, PartialEq)]
struct Choice {
    from: String,
    to: String,
    fields: Vec<String>,
}

/// The canvas with its toolbar and the side form of the selected step.
#[component]
pub(super) fn ScenarioCanvas(
    scenario: RwSignal<Scenario>,
    issues: Signal<Vec<StepIssue>>,
    editable: bool,
    on_change: Callback<()>,
    /// Runs per step and link of the version shown, when the trace overlay is on.
    overlay: Signal<Option<TraceCounts>>,
    /// A step picked elsewhere (the problem list): selected here.
    picked: RwSignal<Option<usize>>,
) -> impl IntoView {
    let locale = use_locale();
    // Every step gets a position: saved ones are kept, the rest laid out.
    let missing = scenario.with_untracked(|s| s.steps.iter().any(|st| !s.layout.contains_key(&st.id)));
    if missing {
        let auto = scenario.with_untracked(auto_layout);
        scenario.update_untracked(|s| {
            for (id, at) in auto {
                s.layout.entry(id).or_insert(at);
            }
        });
    }
    let c = Canvas {
        scenario,
        positions: StoredValue::new(BTreeMap::new()),
        selected: RwSignal::new(BTreeSet::new()),
        edge: RwSignal::new(None),
        pan: RwSignal::new((0.0, 0.0)),
        zoom: RwSignal::new(1.0),
        history: StoredValue::new(History::new(200)),
        baseline: StoredValue::new(scenario.get_untracked()),
        undoable: RwSignal::new((false, false)),
        revision: RwSignal::new(0),
        on_change,
        svg: NodeRef::new(),
    };
    let wrapper = NodeRef::<leptos::html::Div>::new();
    let gesture = StoredValue::new(Gesture::None);
    let link_line = RwSignal::new(None::<((f64, f64), (f64, f64))>);
    let band = RwSignal::new(None::<((f64, f64), (f64, f64))>);
    let choosing = RwSignal::new(None::<Choice>);

    let ids = Memo::new(move |_| scenario.with(|s| s.steps.iter().map(|st| st.id.clone()).collect::<Vec<_>>()));
    let edges = Memo::new(move |_| scenario.with(graph::edges));
    let max_passed = Memo::new(move |_| overlay.with(|o| o.as_ref().map_or(1, |o| o.steps.iter().map(|s| s.passed).max().unwrap_or(1).max(1))));

    Effect::new(move |_| {
        if c.svg.get().is_some() {
            c.fit();
        }
    });
    Effect::new(move |_| {
        if let Some(index) = picked.get() {
            if let Some(id) = scenario.with_untracked(|s| s.steps.get(index).map(|st| st.id.clone())) {
                c.selected.set(BTreeSet::from([id]));
            }
            picked.set(None);
        }
    });

    let on_pointerdown = move |ev: leptos::ev::PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        choosing.set(None);
        c.edge.set(None);
        let target = event_target::<leptos::web_sys::Element>(&ev);
        let attr = |sel: &str, name: &str| target.closest(sel).ok().flatten().and_then(|el| el.get_attribute(name));
        let client = (ev.client_x() as f64, ev.client_y() as f64);
        let at = c.to_model(client);
        if let Some(el) = c.svg.get_untracked() {
            let _ = el.set_pointer_capture(ev.pointer_id());
        }
        if let Some(from) = attr("[data-port]", "data-port").filter(|_| editable) {
            let start = c.pos(&from).get_untracked();
            link_line.set(Some(((start.0 + W, start.1 + H / 2.0), at)));
            gesture.set_value(Gesture::Connect { from });
        } else if let Some(id) = attr("[data-node]", "data-node") {
            if ev.shift_key() {
                c.selected.update(|s| {
                    if !s.remove(&id) {
                        s.insert(id.clone());
                    }
                });
                gesture.set_value(Gesture::None);
                return;
            }
            if !c.selected.with_untracked(|s| s.contains(&id)) {
                c.selected.set(BTreeSet::from([id.clone()]));
            }
            let nodes = if editable {
                c.selected.get_untracked().into_iter().map(|id| {
                    let p = c.pos(&id);
                    let start = p.get_untracked();
                    (id, p, start)
                }).collect()
            } else {
                Vec::new()
            };
            gesture.set_value(Gesture::Drag { from: at, nodes, moved: false });
        } else if let (Some(from), Some(field)) = (attr("[data-edge]", "data-from"), attr("[data-edge]", "data-field")) {
            c.selected.set(BTreeSet::new());
            c.edge.set(Some((from, field)));
            gesture.set_value(Gesture::None);
        } else if ev.shift_key() {
            band.set(Some((at, at)));
            gesture.set_value(Gesture::Band { from: at });
        } else {
            gesture.set_value(Gesture::Pan { from: client, pan: c.pan.get_untracked(), moved: false });
        }
        // No default: a press neither selects text nor focuses the node
        // under it (focus selects, by keyboard); the canvas takes the keys,
        // without scrolling the page.
        ev.prevent_default();
        focus_without_scrolling(wrapper);
    };
    let on_pointermove = move |ev: leptos::ev::PointerEvent| {
        let client = (ev.client_x() as f64, ev.client_y() as f64);
        gesture.update_value(|g| match g {
            Gesture::None => {}
            Gesture::Pan { from, pan, moved } => {
                *moved = true;
                c.pan.set((pan.0 + client.0 - from.0, pan.1 + client.1 - from.1));
            }
            Gesture::Drag { from, nodes, moved } => {
                let at = c.to_model(client);
                let (dx, dy) = (at.0 - from.0, at.1 - from.1);
                if !*moved && dx.abs() + dy.abs() < 2.0 {
                    return;
                }
                *moved = true;
                for (_, p, start) in nodes.iter() {
                    p.set((start.0 + dx, start.1 + dy));
                }
            }
            Gesture::Connect { .. } => {
                let at = c.to_model(client);
                link_line.update(|l| {
                    if let Some(l) = l {
                        l.1 = at;
                    }
                });
            }
            Gesture::Band { from } => band.set(Some((*from, c.to_model(client)))),
        });
    };
    let on_pointerup = move |ev: leptos::ev::PointerEvent| {
        let client = (ev.client_x() as f64, ev.client_y() as f64);
        let at = c.to_model(client);
        match gesture.try_update_value(std::mem::take).unwrap_or_default() {
            Gesture::Drag { nodes, moved: true, .. } => {
                c.write_positions(nodes.into_iter().map(|(id, _, _)| id));
                c.commit();
            }
            Gesture::Pan { moved: false, .. } => c.selected.set(BTreeSet::new()),
            Gesture::Connect { from } => {
                link_line.set(None);
                if let Some(to) = c.node_at(at).filter(|to| *to != from) {
                    let fields = scenario.with_untracked(|s| s.step(&from).map(|st| graph::link_fields(&st.kind))).unwrap_or_default();
                    match fields.as_slice() {
                        [] => {}
                        [only] => c.connect(&from, only, &to),
                        _ => choosing.set(Some(Choice { from, to, fields })),
                    }
                }
            }
            Gesture::Band { from } => {
                band.set(None);
                let hits = scenario.with_untracked(|s| {
                    let nodes: Vec<(String, [f64; 2])> = s.steps.iter().map(|st| {
                        let (x, y) = c.pos(&st.id).get_untracked();
                        (st.id.clone(), [x, y])
                    }).collect();
                    graph::in_band(nodes, [from.0, from.1], [at.0, at.1], W, H)
                });
                c.selected.update(|s| s.extend(hits));
            }
            _ => {}
        }
    };
    let on_wheel = move |ev: leptos::ev::WheelEvent| {
        ev.prevent_default();
        let (ox, oy) = c.origin();
        let factor = (-ev.delta_y() * 0.0015).exp();
        c.zoom_at(factor, (ev.client_x() as f64 - ox, ev.client_y() as f64 - oy));
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        // Letters by their place under a non-Latin layout (Ctrl+Z types «я» in Russian).
        let key = crate::components::shortcut_key(&ev.key(), &ev.code());
        // Not with Alt: AltGr (Ctrl+Alt on Windows) types letters such as «ż».
        let ctrl = (ev.ctrl_key() || ev.meta_key()) && !ev.alt_key();
        let step = if ev.shift_key() { 40.0 } else { 10.0 };
        match key.as_str() {
            "Delete" | "Backspace" if editable => c.delete_selected(),
            "+" | "=" => c.zoom_by(1.2),
            "-" | "_" => c.zoom_by(1.0 / 1.2),
            "0" if !ctrl => c.fit(),
            "l" if !ctrl && editable => c.relayout(),
            "z" if ctrl && ev.shift_key() && editable => c.redo(),
            "z" if ctrl && editable => c.undo(),
            "y" if ctrl && editable => c.redo(),
            "a" if ctrl => c.selected.set(ids.get_untracked().into_iter().collect()),
            "ArrowLeft" if editable => c.nudge(-step, 0.0),
            "ArrowRight" if editable => c.nudge(step, 0.0),
            "ArrowUp" if editable => c.nudge(0.0, -step),
            "ArrowDown" if editable => c.nudge(0.0, step),
            "Escape" => {
                choosing.set(None);
                c.edge.set(None);
                c.selected.set(BTreeSet::new());
            }
            _ => return,
        }
        ev.prevent_default();
    };

    let node_view = move |id: String| {
        let p = c.pos(&id);
        let (id_info, id_sel, id_bad, id_start, id_focus, id_count) = (id.clone(), id.clone(), id.clone(), id.clone(), id.clone(), id.clone());
        // (type, its words, the summary): the line of both holds about 35
        // characters, so a longer word leaves the summary less room.
        let info = Memo::new(move |_| {
            let locale = locale.get();
            scenario
                .with(|s| {
                    s.step(&id_info).map(|st| {
                        let words = step_type_text(locale, st.kind.type_name());
                        let room = 32usize.saturating_sub(words.chars().count()).max(12);
                        (st.kind.type_name(), words, cut(&summary(locale, &st.kind), room))
                    })
                })
                .unwrap_or(("", String::new(), String::new()))
        });
        let is_selected = move || c.selected.with(|s| s.contains(&id_sel));
        let has_issue = move || issues.with(|all| all.iter().any(|e| e.step.as_deref() == Some(id_bad.as_str())));
        let is_start = move || scenario.with(|s| s.start == id_start);
        let counts = move || overlay.with(|o| o.as_ref().and_then(|o| o.steps.iter().find(|s| s.step == id_count).cloned()));
        let label = cut(&id, 24);
        view! {
            <g data-node=id.clone() tabindex="0" class="cursor-grab outline-none"
                transform=move || { let (x, y) = p.get(); format!("translate({x:.0},{y:.0})") }
                on:focus=move |_| {
                    c.edge.set(None);
                    if !c.selected.with_untracked(|s| s.contains(&id_focus)) {
                        c.selected.set(BTreeSet::from([id_focus.clone()]));
                    }
                }>
                <rect width=W height=H rx="6" stroke-width="1.5"
                    class=move || match (is_selected(), has_issue()) {
                        (true, _) => "fill-sky-50 stroke-sky-600",
                        (false, true) => "fill-white stroke-rose-500",
                        _ => "fill-white stroke-slate-300",
                    }/>
                <Show when=is_start>
                    <rect width="4" height=H rx="2" class="fill-emerald-500"/>
                </Show>
                <text x="10" y="20" class="fill-slate-900 font-mono text-[12px]">{label}</text>
                <text x="10" y="39" class="fill-slate-500 text-[11px]">
                    <tspan class="fill-slate-700 font-medium">{move || info.get().1}</tspan>
                    {move || { let s = info.get().2; if s.is_empty() { s } else { format!(" · {s}") } }}
                </text>
                {(editable && info.with_untracked(|i| i.0 != "end")).then(|| view! {
                    <circle data-port=id.clone() cx=W cy=H / 2.0 r="6" stroke-width="1.5"
                        class="cursor-crosshair fill-white stroke-slate-400 hover:fill-sky-500"/>
                })}
                {move || counts().map(|n| view! {
                    <g data-testid="trace-badge" data-passed=n.passed data-waiting=n.waiting data-ended=n.ended>
                        <rect x=W - 56.0 y="-9" width="56" height="17" rx="8" class="fill-indigo-600"/>
                        <text x=W - 28.0 y="3.5" text-anchor="middle" class="fill-white text-[10px] font-medium">{format!("{} ▸", n.passed)}</text>
                        {(n.waiting + n.ended > 0).then(|| view! {
                            <rect x=W - 112.0 y="-9" width="52" height="17" rx="8" class="fill-amber-500"/>
                            <text x=W - 86.0 y="3.5" text-anchor="middle" class="fill-white text-[10px] font-medium">
                                {format!("‖{} ■{}", n.waiting, n.ended)}
                            </text>
                        })}
                    </g>
                })}
            </g>
        }
    };

    let edge_view = move |edge: Edge| {
        let (a, b) = (c.pos(&edge.from), c.pos(&edge.to));
        let geometry = Memo::new(move |_| edge_geometry(a.get(), b.get()));
        let (from, to) = (edge.from.clone(), edge.to.clone());
        let runs = Memo::new(move |_| overlay.with(|o| o.as_ref().and_then(|o| o.links.iter().find(|l| l.from == from && l.to == to).map(|l| l.runs))));
        let width = move || match runs.get() {
            Some(n) if n > 0 => 1.5 + 8.0 * (n as f64 / max_passed.get() as f64).sqrt(),
            _ => 1.5,
        };
        let field = edge.field.clone();
        let label = move || if field == "next" { String::new() } else { link_text(locale.get(), &field) };
        let key = (edge.from.clone(), edge.field.clone());
        let is_selected = Memo::new(move |_| c.edge.with(|e| e.as_ref() == Some(&key)));
        view! {
            <g data-edge=format!("{}.{}", edge.from, edge.field) data-from=edge.from.clone() data-field=edge.field.clone()
                data-to=edge.to.clone() data-selected=move || is_selected.get().to_string() class="cursor-pointer">
                // A wide transparent stroke: the thin line is hard to hit.
                <path d=move || geometry.get().0 class="fill-none stroke-transparent" stroke-width="12" data-testid="edge-hit"/>
                <path d=move || geometry.get().0 stroke-width=move || if is_selected.get() { 3.0 } else { width() }
                    class=move || if is_selected.get() { "fill-none stroke-sky-600" } else { "fill-none stroke-slate-400" }
                    marker-end="url(#canvas-arrow)"/>
                <text x=move || geometry.get().1 .0 y=move || geometry.get().1 .1 - 3.0 text-anchor="middle"
                    class="fill-slate-500 text-[10px]">{label}</text>
                {move || runs.get().map(|n| view! {
                    <text x=move || geometry.get().1 .0 y=move || geometry.get().1 .1 + 11.0 text-anchor="middle"
                        class="fill-indigo-700 text-[10px] font-medium" data-testid="trace-edge">{n}</text>
                })}
            </g>
        }
    };

    let side_form = move || {
        c.revision.get();
        // One selected node, or the step whose link is the selected edge.
        let id = c
            .selected
            .with(|s| if s.len() == 1 { s.iter().next().cloned() } else { None })
            .or_else(|| c.edge.with(|e| e.as_ref().map(|(from, _)| from.clone())))?;
        let index = scenario.with_untracked(|s| s.steps.iter().position(|st| st.id == id))?;
        let old = id.clone();
        let on_apply = Callback::new(move |_: ()| {
            let new = scenario.with_untracked(|s| s.steps.get(index).map(|st| st.id.clone())).unwrap_or_default();
            if new != old {
                c.positions.update_value(|m| {
                    if let Some(p) = m.remove(&old) {
                        m.insert(new.clone(), p);
                    }
                });
                c.selected.set(BTreeSet::from([new]));
            }
            c.commit();
        });
        Some(view! {
            <StepForm scenario index issues read_only={!editable} on_apply
                on_close=Callback::new(move |_| c.selected.set(BTreeSet::new()))/>
        })
    };

    let tool = "rounded border border-slate-300 bg-white px-2 py-0.5 text-xs hover:bg-slate-100 disabled:opacity-40";
    view! {
        <div class="min-w-0" data-testid="canvas-view">
            <div class="relative min-w-0">
                <div class="mb-1 flex flex-wrap items-center gap-1" role="toolbar" aria-label=l(K::CanvasToolbar)>
                    {editable.then(|| view! {
                        <span class="mr-1 text-[11px] font-medium text-slate-500">{l(K::CanvasAdd)}</span>
                        {STEP_TYPES.into_iter().map(|kind| view! {
                            <button type="button" class=tool data-testid=format!("palette-{kind}") title=kind on:click=move |_| c.add_step(kind)>{move || step_type_text(locale.get(), kind)}</button>
                        }).collect_view()}
                        <span class="mx-1 h-4 w-px bg-slate-300"></span>
                        <button type="button" class=tool data-testid="canvas-undo" title="Ctrl+Z" disabled=move || !c.undoable.get().0
                            on:click=move |_| c.undo()>{l(K::CanvasUndo)}</button>
                        <button type="button" class=tool data-testid="canvas-redo" title="Ctrl+Shift+Z" disabled=move || !c.undoable.get().1
                            on:click=move |_| c.redo()>{l(K::CanvasRedo)}</button>
                        <button type="button" class=tool data-testid="canvas-layout" title="L" on:click=move |_| c.relayout()>{l(K::CanvasAutoLayout)}</button>
                    })}
                    // The view's controls wrap as one group, not split across lines.
                    <span class="inline-flex items-center gap-1 whitespace-nowrap">
                        <button type="button" class=tool title="0" data-testid="canvas-fit" on:click=move |_| c.fit()>{l(K::CanvasFit)}</button>
                        <button type="button" class=tool title="−" aria-label=l(K::CanvasZoomOut) on:click=move |_| c.zoom_by(1.0 / 1.2)>"−"</button>
                        <span class="w-10 text-center text-[11px] tabular-nums text-slate-500" data-testid="canvas-zoom">
                            {move || format!("{:.0}%", c.zoom.get() * 100.0)}
                        </span>
                        <button type="button" class=tool title="+" aria-label=l(K::CanvasZoomIn) on:click=move |_| c.zoom_by(1.2)>"+"</button>
                    </span>
                </div>
                <div node_ref=wrapper tabindex="0" data-testid="canvas" aria-label=l(K::CanvasLabel)
                    class="relative overflow-hidden rounded border border-slate-200 bg-slate-50 outline-none focus-visible:ring-2 focus-visible:ring-sky-500"
                    on:keydown=on_keydown>
                    <svg node_ref=c.svg class="block h-[70vh] min-h-96 w-full touch-none select-none"
                        on:pointerdown=on_pointerdown on:pointermove=on_pointermove on:pointerup=on_pointerup on:wheel=on_wheel>
                        <defs>
                            <marker id="canvas-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                                <path d="M0,0 L10,5 L0,10 z" class="fill-slate-400"/>
                            </marker>
                        </defs>
                        <g data-testid="canvas-world"
                            transform=move || { let (x, y) = c.pan.get(); format!("translate({x:.1},{y:.1}) scale({:.3})", c.zoom.get()) }>
                            <g>
                                <For each=move || edges.get() key=|e| e.clone() children=edge_view/>
                            </g>
                            <g>
                                <For each=move || ids.get() key=|id| id.clone() children=node_view/>
                            </g>
                            {move || link_line.get().map(|(a, b)| view! {
                                <line x1=a.0 y1=a.1 x2=b.0 y2=b.1 stroke-dasharray="4 3" stroke-width="1.5" class="stroke-sky-600"/>
                            })}
                            {move || band.get().map(|(a, b)| view! {
                                <rect x=a.0.min(b.0) y=a.1.min(b.1) width=(a.0 - b.0).abs() height=(a.1 - b.1).abs()
                                    class="fill-sky-500/10 stroke-sky-500" stroke-dasharray="3 2" data-testid="rubber-band"/>
                            })}
                        </g>
                    </svg>
                    {move || choosing.get().map(|choice| {
                        let Choice { from, to, fields } = choice;
                        let question = t(locale.get_untracked(), K::CanvasWhichLink).replacen("{}", &from, 1).replacen("{}", &to, 1);
                        view! {
                            <div class="absolute left-3 top-3 flex flex-wrap items-center gap-1 rounded border border-sky-200 bg-white p-2 text-xs shadow"
                                role="dialog" data-testid="link-choice">
                                <span class="mr-1 text-slate-600">{question}</span>
                                {fields.into_iter().enumerate().map(|(i, field)| {
                                    let (from, to, f, name) = (from.clone(), to.clone(), field.clone(), field.clone());
                                    view! {
                                        <button type="button" class=BUTTON autofocus={i == 0} data-link=name
                                            on:click=move |_| { choosing.set(None); c.connect(&from, &f, &to); }>{link_text(locale.get_untracked(), &field)}</button>
                                    }
                                }).collect_view()}
                                <button type="button" class="px-1 text-slate-500" on:click=move |_| choosing.set(None)>{l(K::Cancel)}</button>
                            </div>
                        }
                    })}
                </div>
                <p class="mt-1 text-[11px] text-slate-500">{l(K::CanvasHint)}</p>
                // The side panel floats over the canvas's right edge, so the canvas keeps its width.
                <div class="absolute right-2 top-9 z-10 max-h-[calc(70vh-1rem)] w-[22rem] max-w-[80%] overflow-y-auto">{side_form}</div>
            </div>
        </div>
    }
    .into_any()
}

/// The path of a link from the right of node `a` to the left of node `b`,
/// and the point its label sits on. A link going backwards (a loop) bows
/// below both nodes.
fn edge_geometry(a: (f64, f64), b: (f64, f64)) -> (String, (f64, f64)) {
    let (x1, y1) = (a.0 + W, a.1 + H / 2.0);
    let (x2, y2) = (b.0 - 2.0, b.1 + H / 2.0);
    let (c1, c2) = if x2 >= x1 + 20.0 {
        let dx = (x2 - x1) / 2.0;
        ((x1 + dx, y1), (x2 - dx, y2))
    } else {
        let drop = H + 30.0;
        ((x1 + 90.0, y1.max(y2) + drop), (x2 - 90.0, y1.max(y2) + drop))
    };
    // The curve's middle: (P0 + 3 P1 + 3 P2 + P3) / 8.
    let mid = ((x1 + 3.0 * c1.0 + 3.0 * c2.0 + x2) / 8.0, (y1 + 3.0 * c1.1 + 3.0 * c2.1 + y2) / 8.0);
    (format!("M{x1:.0},{y1:.0} C{:.0},{:.0} {:.0},{:.0} {x2:.0},{y2:.0}", c1.0, c1.1, c2.0, c2.1), mid)
}

/// At most `max` characters, with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    } else {
        text.to_string()
    }
}
