//! The loop's canvas: its shared state ([`Canvas`]: the graph, where
//! each node is, the selection, the view and a drag in progress), and the
//! drawing — toolbar (with the trace overlay's toggle), gap counts, the
//! forms for the first stage of a CJM or blueprint that has none, legend,
//! column titles, links, nodes, the rubber line of a drag and the side
//! panel.
//!
//! Cheap on a few hundred nodes: nodes and links are rendered once; a
//! node's place is one signal (its links' paths follow it), and a
//! selection or a drag only re-evaluates each one's class from one memo.
//! Zoom and pan move a single transform (`components::canvas::viewport`
//! does the arithmetic).

use super::super::loop_model::{Chain, Gap, Kind, LoopGraph, Node, NODE_H as H, NODE_W as W};
use super::gestures::Gesture;
use super::node::{gap_keys, kind_key, node_view, shape};
use super::overlay::{Overlay, RunsToolbar};
use super::panels::{stage_name_form, Edit, LinkPanel, SidePanel, StageForm};
use super::spots::Spots;
use super::super::model::list_of;
use super::super::loop_edit::{RefList, RowFor};
use super::{Change, DanglingCut, ItemPut, Kept, MapChange, Moved, NewPoint, NewRow, NewStage, Place, Planned, Rebind, RowLink, SetScenario, BUTTON, LINK};
use crate::api::maps::{BindableEndpoint, MapRow};
use comops_core::map::MapKind;
use crate::components::canvas::viewport;
use crate::components::{focus_without_scrolling, l};
use crate::i18n::{t, t1, use_locale, K};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use std::collections::BTreeSet;

/// The canvas's state, shared by its drawing and its gestures: handles
/// only, so it is `Copy` into every closure.
#[derive(Clone, Copy)]
pub(super) struct Canvas {
    pub graph: StoredValue<LoopGraph>,
    pub spots: Spots,
    pub maps: StoredValue<Vec<MapRow>>,
    pub endpoints: StoredValue<Vec<BindableEndpoint>>,
    pub selected: RwSignal<Option<usize>>,
    /// Nodes picked together (Ctrl+click, a Shift rubber band): Shift+drag
    /// on one of them moves them all.
    pub picked: RwSignal<BTreeSet<usize>>,
    /// The rubber band being drawn, corner to corner (model space).
    pub band: RwSignal<Option<((f64, f64), (f64, f64))>>,
    /// The selected link (a row's binding, stage or cell), by index into the graph's edges.
    pub link: RwSignal<Option<usize>>,
    pub chain: Memo<Option<Chain>>,
    pub pan: RwSignal<(f64, f64)>,
    pub zoom: RwSignal<f64>,
    pub svg: NodeRef<leptos::svg::Svg>,
    pub wrapper: NodeRef<leptos::html::Div>,
    pub gesture: StoredValue<Gesture>,
    /// A row being dragged, and the pointer in model space.
    pub drag: RwSignal<Option<(usize, (f64, f64))>>,
    /// The row being dragged and the endpoint it would be bound to.
    pub dragged: Memo<Option<usize>>,
    pub target: Memo<Option<usize>>,
    pub open: Callback<usize>,
    pub editable: bool,
    pub busy: Signal<bool>,
    /// A binding, a row's stage or cell, an item deleted or a row added: the page saves it.
    pub on_change: Callback<Change>,
    /// Ctrl+Z (`false`) and Ctrl+Shift+Z (`true`): the page takes back,
    /// or makes again, its last change.
    pub on_history: Callback<bool>,
    /// Nodes were moved by hand (a drag, an auto-layout): a step for Undo.
    pub on_moved: Callback<Moved>,
    /// The trace overlay ("Runs").
    pub overlay: Overlay,
}

impl Canvas {
    /// The canvas's size on screen. Before it is laid out it has none: a
    /// usual one stands in.
    pub fn size(self) -> (f64, f64) {
        match self.svg.get_untracked().map(|el| (el.client_width(), el.client_height())) {
            Some((w, h)) if w > 50 && h > 50 => (w as f64, h as f64),
            _ => (1000.0, 600.0),
        }
    }

    /// The canvas's top-left corner on the page.
    pub fn origin(self) -> (f64, f64) {
        #[cfg(feature = "hydrate")]
        if let Some(el) = self.svg.get_untracked() {
            let r = el.get_bounding_client_rect();
            return (r.left(), r.top());
        }
        (0.0, 0.0)
    }

    /// A pointer's page position in model space.
    pub fn to_model(self, client: (f64, f64)) -> (f64, f64) {
        let ((ox, oy), (px, py), k) = (self.origin(), self.pan.get_untracked(), self.zoom.get_untracked());
        ((client.0 - ox - px) / k, (client.1 - oy - py) / k)
    }

    /// Every node in view.
    pub fn fit(self) {
        let (p, k) = viewport::fit(self.graph.with_value(|g| g.bounds()), self.size(), 1.2);
        self.pan.set(p);
        self.zoom.set(k);
    }

    /// Zooms about the canvas's middle.
    pub fn zoom_by(self, factor: f64) {
        let (w, h) = self.size();
        let (p, k) = viewport::zoom_about(self.pan.get_untracked(), self.zoom.get_untracked(), factor, (w / 2.0, h / 2.0));
        self.pan.set(p);
        self.zoom.set(k);
    }

    /// Selects node `i` and pans it into view.
    pub fn select(self, i: usize) {
        self.selected.set(Some(i));
        self.link.set(None);
        let (x, y) = self.graph.with_value(|g| g.nodes[i].at);
        self.pan.set(viewport::reveal(self.pan.get_untracked(), self.zoom.get_untracked(), (x, y, W, H), self.size()));
    }

    /// Every node back in its column, in view: a step for Undo when any
    /// was elsewhere.
    pub fn auto_layout(self) {
        if self.busy.get_untracked() {
            return;
        }
        let before: Vec<(f64, f64)> = self.graph.with_value(|g| (0..g.nodes.len()).map(|i| self.spots.of(i).get_untracked()).collect());
        self.spots.auto_layout(self.graph);
        self.fit();
        self.moved(before.into_iter().enumerate());
    }

    /// Tells the page which nodes went elsewhere from where they were
    /// (`from`: index and place before), if any did; a place the layout
    /// gave is kept as the layout's, not as where it was this time.
    pub fn moved(self, from: impl IntoIterator<Item = (usize, (f64, f64))>) {
        let place = |i: usize, at: (f64, f64)| (at != self.spots.laid_out_of(i)).then_some(at);
        let moved: Vec<(String, Place, Place)> = self.graph.with_value(|g| {
            from.into_iter()
                .map(|(i, was)| (i, was, self.spots.of(i).get_untracked()))
                .filter(|(_, was, now)| was != now)
                .map(|(i, was, now)| (g.nodes[i].key.clone(), place(i, was), place(i, now)))
                .collect()
        });
        if !moved.is_empty() {
            self.on_moved.run(Moved(moved));
        }
    }

    /// Map `id`'s kind and the version the loop was drawn from.
    fn map_of(self, id: &str) -> Option<(MapKind, i64)> {
        self.maps.with_value(|m| m.iter().find(|m| m.id == id).map(|m| (m.kind, m.version)))
    }

    /// The project's endpoint drawn as node `n` (`None`: not one, or it
    /// does not exist).
    fn endpoint_of(self, n: &Node) -> Option<BindableEndpoint> {
        if n.kind != Kind::Endpoint {
            return None;
        }
        self.endpoints.with_value(|all| all.iter().find(|e| e.bot_id == n.bot && e.alias == n.name).cloned())
    }

    /// Asks the page to bind `row` to the endpoint node `to` (`None` unbinds).
    pub fn rebind(self, row: usize, to: Option<usize>) {
        let change = self.graph.with_value(|g| {
            let r = g.nodes.get(row)?;
            let (_, base) = self.map_of(&r.map)?;
            let (was_bot, was) = g.bound_endpoint(row).map(|e| (g.nodes[e].bot.clone(), g.nodes[e].name.clone())).unwrap_or_default();
            let endpoint = match to {
                Some(e) => Some(self.endpoint_of(g.nodes.get(e)?)?),
                None => None,
            };
            Some(Rebind { map: r.map.clone(), base, row: r.item().to_string(), endpoint, was, was_bot, restore: None, expect: None })
        });
        if let Some(change) = change {
            self.on_change.run(Change::Map(MapChange::Binding(change)));
        }
    }

    /// Asks the page to delete node `i` from its map: a stage or a row
    /// (`Kind::deletable`), else nothing. A stage takes along the links
    /// the project's other blueprints and communication maps hold to it
    /// (or to its cells).
    pub fn delete_node(self, i: usize) {
        let change = self.graph.with_value(|g| {
            let n = g.nodes.get(i).filter(|n| n.kind.deletable())?;
            let (kind, base) = self.map_of(&n.map)?;
            Some(ItemPut::new(n.map.clone(), base, list_of(kind), n.item().to_string(), None))
        });
        if let Some(change) = change {
            self.on_change.run(Change::Map(MapChange::Item(change)));
        }
    }

    /// Asks the page to add a communication row to map `map` for node
    /// `node`, a CJM stage (the row zooms into it) or an endpoint (the
    /// row's trigger calls it), its event `event`.
    pub fn add_row(self, node: usize, map: String, event: String) {
        let change = self.graph.with_value(|g| {
            let n = g.nodes.get(node)?;
            let purpose = match n.kind {
                Kind::Stage => RowFor::Stage { map: n.map.clone(), item: n.item().to_string() },
                Kind::Endpoint => RowFor::Endpoint(self.endpoint_of(n)?),
                _ => return None,
            };
            let (_, base) = self.map_of(&map)?;
            Some(NewRow { map, base, purpose, event })
        });
        if let Some(change) = change {
            self.on_change.run(Change::Map(MapChange::NewRow(change)));
        }
    }

    /// Asks the page to add a stage named `name` after node `node`, a CJM
    /// or blueprint stage, in its map.
    pub fn add_stage(self, node: usize, name: String) {
        let change = self.graph.with_value(|g| {
            let n = g.nodes.get(node).filter(|n| matches!(n.kind, Kind::Stage | Kind::BlueprintStage))?;
            let (_, base) = self.map_of(&n.map)?;
            Some(NewStage { map: n.map.clone(), base, after: n.item().to_string(), name })
        });
        if let Some(change) = change {
            self.on_change.run(Change::Map(MapChange::NewStage(change)));
        }
    }

    /// Asks the page to add endpoint node `node`'s row to integration
    /// points table `map`.
    pub fn add_point(self, node: usize, map: String) {
        let change = self.graph.with_value(|g| {
            let e = self.endpoint_of(g.nodes.get(node)?)?;
            let (_, base) = self.map_of(&map)?;
            Some(NewPoint { map, base, bot: e.bot_id, alias: e.alias })
        });
        if let Some(change) = change {
            self.on_change.run(Change::Map(MapChange::NewPoint(change)));
        }
    }

    /// Asks the page to make endpoint node `node` start `scenario` (empty:
    /// none) instead of the one drawn.
    pub fn set_scenario(self, node: usize, scenario: String) {
        let change = self.graph.with_value(|g| {
            let n = g.nodes.get(node)?;
            let was = self.endpoint_of(n)?.scenario;
            Some(SetScenario { bot: n.bot.clone(), alias: n.name.clone(), scenario, was })
        });
        if let Some(change) = change {
            self.on_change.run(Change::Scenario(change));
        }
    }

    /// Asks the page to create the endpoint node `node` draws, which the
    /// maps bind to and no bot has, as the maps plan it (project
    /// `project`'s maps).
    pub fn create_planned(self, project: String, node: usize) {
        let change = self.graph.with_value(|g| {
            let n = g.nodes.get(node).filter(|n| n.kind == Kind::Endpoint && n.live.is_none())?;
            Some(Planned { project, bot: n.bot.clone(), alias: n.name.clone(), made: None })
        });
        if let Some(change) = change {
            self.on_change.run(Change::Planned(change));
        }
    }

    /// Asks the page to link communication row `row` to node `to`, a CJM
    /// stage or a blueprint cell (`on`), or to unlink it.
    pub fn link(self, row: usize, to: usize, on: bool) {
        let change = self.graph.with_value(|g| {
            let (r, n) = (g.nodes.get(row)?, g.nodes.get(to)?);
            let list = match n.kind {
                Kind::Stage => RefList::Stages,
                Kind::Cell => RefList::Cells,
                _ => return None,
            };
            let (_, base) = self.map_of(&r.map)?;
            let (to_map, to, to_label) = (n.map.clone(), n.item().to_string(), g.link_name(to, None));
            Some(RowLink { map: r.map.clone(), base, row: r.item().to_string(), list, to_map, to, to_label, on, place: None, expect: None })
        });
        if let Some(change) = change {
            self.on_change.run(Change::Map(MapChange::RowLink(change)));
        }
    }

    /// A row dropped on node `target`: bound to it (an endpoint) or
    /// linked to it (a CJM stage, a blueprint cell).
    pub fn drop_on(self, row: usize, target: usize) {
        match self.graph.with_value(|g| g.nodes[target].kind) {
            Kind::Stage | Kind::Cell => self.link(row, target, true),
            _ => self.rebind(row, Some(target)),
        }
    }

    /// Removes link `k`: a row's binding (unbound), or its stage or cell
    /// (unlinked).
    pub fn unbind_link(self, k: usize) {
        let (binding, held) = self.graph.with_value(|g| (g.binding_link(k), g.row_link(k)));
        if let Some((row, _)) = binding {
            self.rebind(row, None);
        } else if let Some((row, to)) = held {
            self.link(row, to, false);
        }
    }
}

/// A link from the right of `a` to the left of `b`.
fn edge_path(a: (f64, f64), b: (f64, f64)) -> String {
    let (x1, y1) = (a.0 + W, a.1 + H / 2.0);
    let (x2, y2) = (b.0, b.1 + H / 2.0);
    let dx = ((x2 - x1) / 2.0).min(120.0);
    format!("M{x1:.0},{y1:.0} C{:.0},{y1:.0} {:.0},{y2:.0} {x2:.0},{y2:.0}", x1 + dx, x2 - dx)
}

#[component]
pub(super) fn LoopCanvas(
    graph: LoopGraph,
    maps: Vec<MapRow>,
    endpoints: Vec<BindableEndpoint>,
    editable: bool,
    busy: Signal<bool>,
    on_change: Callback<Change>,
    on_history: Callback<bool>,
    on_moved: Callback<Moved>,
    /// Places to put nodes at, by key (an undone or redone move).
    put: RwSignal<Option<Vec<(String, Place)>>>,
    kept: StoredValue<Kept>,
) -> impl IntoView {
    let locale = use_locale();
    let navigate = use_navigate();
    let counts = graph.gap_counts();
    let dangling = graph.dangling_links.len();
    let project = kept.with_value(|k| k.project.clone());
    let spots = Spots::new(&graph, &project);
    let project_id = project.clone();
    let graph = StoredValue::new(graph);
    let start_at = kept.with_value(|k| k.select.as_ref().and_then(|key| graph.with_value(|g| g.nodes.iter().position(|n| &n.key == key))));
    let selected = RwSignal::new(start_at);
    let drag = RwSignal::new(None::<(usize, (f64, f64))>);
    let canvas = Canvas {
        graph,
        spots,
        maps: StoredValue::new(maps),
        endpoints: StoredValue::new(endpoints),
        selected,
        picked: RwSignal::new(BTreeSet::new()),
        band: RwSignal::new(None),
        link: RwSignal::new(None),
        chain: Memo::new(move |_| selected.get().map(|i| graph.with_value(|g| g.chain(i)))),
        pan: RwSignal::new((0.0, 0.0)),
        zoom: RwSignal::new(1.0),
        svg: NodeRef::new(),
        wrapper: NodeRef::new(),
        gesture: StoredValue::new(Gesture::None),
        drag,
        dragged: Memo::new(move |_| drag.get().map(|(row, _)| row)),
        target: Memo::new(move |_| drag.get().and_then(|(row, at)| graph.with_value(|g| g.drop_target(row, at)))),
        open: Callback::new(move |i: usize| {
            let href = graph.with_value(|g| g.nodes[i].href());
            navigate(&href, Default::default());
        }),
        editable,
        busy,
        on_change,
        on_history,
        on_moved,
        overlay: Overlay::new(project, graph, kept.with_value(|k| k.runs)),
    };
    let Canvas { link, chain, pan, zoom, svg, wrapper, dragged, target, endpoints, maps, picked, band, .. } = canvas;

    // The canvas is created before it is attached (and laid out): fit (or
    // take back the view the loop had before it was read again) on the
    // next frame.
    let restore = kept.with_value(|k| k.view);
    // Set once the first view is in place (`data-ready`: tests wait for it).
    let ready = RwSignal::new(false);
    Effect::new(move |_| {
        if svg.get().is_some() {
            spots.restore(graph);
            request_animation_frame(move || {
                match restore {
                    Some((p, k)) => {
                        pan.set(p);
                        zoom.set(k);
                    }
                    None => canvas.fit(),
                }
                ready.set(true);
            });
        }
    });
    // An undone or redone move: its nodes, by key, where it says.
    Effect::watch(
        move || put.get(),
        move |places, _, _| {
            let Some(places) = places else { return };
            for (key, at) in places {
                if let Some(i) = graph.with_value(|g| g.nodes.iter().position(|n| &n.key == key)) {
                    spots.put(graph, i, at.unwrap_or_else(|| spots.laid_out_of(i)));
                }
            }
            spots.save(graph);
        },
        false,
    );
    Effect::new(move |_| {
        let view = (pan.get(), zoom.get());
        kept.update_value(|k| k.view = Some(view));
    });
    Effect::new(move |_| {
        let runs = canvas.overlay.kept();
        kept.update_value(|k| k.runs = runs);
    });
    Effect::new(move |_| {
        let key = selected.get().map(|i| graph.with_value(|g| g.nodes[i].key.clone()));
        kept.update_value(|k| k.select = key);
    });

    let (nodes, edges, columns) = graph.with_value(|g| {
        // (index, left node, right node, whether the loop may remove it)
        let edges: Vec<(usize, usize, usize, bool)> = g.edges.iter().enumerate().map(|(k, &(a, b))| (k, a, b, g.removable(k))).collect();
        let columns: Vec<(Kind, f64, usize)> = g.columns.iter().map(|&(kind, x)| (kind, x, g.nodes.iter().filter(|n| n.kind == kind).count())).collect();
        (g.nodes.clone(), edges, columns)
    });
    let (world_w, world_h) = graph.with_value(|g| g.size);

    let edge_views = edges
        .into_iter()
        .map(|(k, a, b, removable)| {
            let (from, to) = graph.with_value(|g| (g.nodes[a].key.clone(), g.nodes[b].key.clone()));
            let (pa, pb) = (spots.of(a), spots.of(b));
            let d = Memo::new(move |_| edge_path(pa.get(), pb.get()));
            let state = move || chain.with(|c| c.as_ref().map(|c| c.edges[k]));
            let chosen = move || link.get() == Some(k);
            let line = view! {
                <path d=move || d.get() stroke-width=move || if chosen() { "3" } else if state() == Some(true) { "2.5" } else { "1.2" }
                    data-on-chain=move || if state() == Some(true) { "true" } else { "false" }
                    class=move || match (chosen(), state()) {
                        (true, _) => "fill-none stroke-sky-700",
                        (_, Some(true)) => "fill-none stroke-sky-600",
                        (_, Some(false)) => "fill-none stroke-slate-300 opacity-40",
                        (_, None) => "fill-none stroke-slate-400",
                    }/>
            };
            // A row's binding, stage or cell, for whoever may change it: a wide
            // transparent stroke to hit, selectable and removable.
            let hit = (editable && removable).then(|| view! { <path d=move || d.get() class="fill-none stroke-transparent" stroke-width="12"/> });
            view! {
                <g data-link-from=from data-link-to=to data-link=(editable && removable).then_some(k)
                    data-selected=move || chosen().to_string() class:cursor-pointer=editable && removable>
                    {hit}
                    {line}
                </g>
            }
        })
        .collect_view();
    let node_views = nodes.into_iter().enumerate().map(|(i, node)| node_view(i, node, spots.of(i), canvas)).collect_view();
    let headers = columns
        .into_iter()
        .map(|(kind, x, n)| {
            view! {
                <text x=x + W / 2.0 y="30" text-anchor="middle" class="fill-slate-600 text-[13px] font-semibold">
                    {move || format!("{} · {n}", t(locale.get(), kind_key(kind)))}
                </text>
            }
        })
        .collect_view();
    // The rubber line of a drag: from the row's port to the pointer.
    let drag_line = move || {
        let (row, at) = drag.get()?;
        let (x, y) = spots.of(row).get_untracked();
        let (x1, y1) = (x + W, y + H / 2.0);
        let hit = target.get().is_some();
        Some(view! {
            <path data-testid="loop-drag-line" d=format!("M{x1:.0},{y1:.0} L{:.0},{:.0}", at.0, at.1) stroke-width="2" stroke-dasharray="6 4"
                class=if hit { "fill-none stroke-emerald-600" } else { "fill-none stroke-sky-600" } pointer-events="none"/>
        })
    };

    // The rubber band of a Shift+drag on empty space.
    let band_rect = move || {
        let ((ax, ay), (bx, by)) = band.get()?;
        Some(view! {
            <rect data-testid="loop-band" x=ax.min(bx) y=ay.min(by) width=(ax - bx).abs() height=(ay - by).abs()
                class="fill-sky-500/10 stroke-sky-500" stroke-dasharray="3 2" pointer-events="none"/>
        })
    };

    // Each gap count selects its nodes in turn.
    let next_gap = move |gap: Gap| {
        let at = selected.get_untracked();
        let found = graph.with_value(|g| {
            let with: Vec<usize> = (0..g.nodes.len()).filter(|&k| g.nodes[k].gap == Some(gap)).collect();
            with.iter().copied().find(|&k| Some(k) > at).or(with.first().copied())
        });
        if let Some(i) = found {
            canvas.select(i);
        }
    };
    let gap_bar = Gap::ALL
        .into_iter()
        .zip(counts)
        .map(|(gap, n)| {
            let (many, _) = gap_keys(gap);
            view! {
                <button type="button" class="rounded border px-2 py-0.5 text-xs disabled:opacity-50"
                    class=("border-rose-300", n > 0) class=("bg-rose-50", n > 0) class=("text-rose-800", n > 0)
                    class=("border-slate-200", n == 0) class=("text-slate-500", n == 0)
                    disabled=n == 0 data-testid=format!("gap-{}", gap.as_str()) data-count=n
                    on:click=move |_| { next_gap(gap); focus_without_scrolling(wrapper); }>
                    // "label: n" reads right in Russian for any n.
                    {l(many)}": "<span class="font-semibold tabular-nums">{n}</span>
                </button>
            }
        })
        .collect_view();
    let legend = Kind::ALL
        .into_iter()
        .filter(|k| graph.with_value(|g| g.columns.iter().any(|c| c.0 == *k)))
        .map(|kind| {
            view! {
                <span class="inline-flex items-center gap-1" data-legend=kind.as_str()>
                    <svg width="34" height="16" class="overflow-visible">{shape(kind, 32.0, 14.0)}</svg>
                    {l(kind_key(kind))}
                </span>
            }
        })
        .collect_view();

    let edit = Edit {
        editable,
        busy,
        endpoints,
        rebind: Callback::new(move |(row, to): (usize, Option<Rebind>)| match to {
            Some(change) => on_change.run(Change::Map(MapChange::Binding(change))),
            None => canvas.rebind(row, None),
        }),
        delete: Callback::new(move |i| canvas.delete_node(i)),
        add_row: Callback::new(move |(node, map, event)| canvas.add_row(node, map, event)),
        add_stage: Callback::new(move |(node, name)| canvas.add_stage(node, name)),
        add_point: Callback::new(move |(node, map)| canvas.add_point(node, map)),
        link: Callback::new(move |(row, to, on)| canvas.link(row, to, on)),
        set_scenario: Callback::new(move |(node, scenario)| canvas.set_scenario(node, scenario)),
        create_planned: Callback::new(move |node| canvas.create_planned(project_id.clone(), node)),
    };
    let panel = move || {
        // Out of the way while a row is dragged: it floats over the endpoints.
        if dragged.get().is_some() {
            return None;
        }
        if let Some(k) = link.get() {
            return Some(view! { <LinkPanel k graph edit select=Callback::new(move |i| canvas.select(i)) unbind=Callback::new(move |k| canvas.unbind_link(k)) on_close=Callback::new(move |_: ()| link.set(None))/> }.into_any());
        }
        let i = selected.get()?;
        Some(view! { <SidePanel i graph maps edit select=Callback::new(move |i| canvas.select(i)) on_close=Callback::new(move |_: ()| selected.set(None))/> }.into_any())
    };

    view! {
        <div class="mb-2 flex flex-wrap items-center gap-2" data-testid="loop-gaps">
            <span class="text-sm font-medium text-slate-700">{l(K::LoopGaps)}</span>
            {gap_bar}
            {(dangling > 0).then(|| dangling_list(canvas))}
        </div>
        {editable.then(|| canvas.maps.with_value(|maps| first_stages(maps, busy, on_change)))}
        <div class="mb-2 flex flex-wrap items-center gap-x-4 gap-y-1 text-xs text-slate-600" data-testid="loop-legend" aria-label=l(K::LoopLegend)>
            {legend}
            <span class="inline-flex items-center gap-1">
                <svg width="34" height="16" class="overflow-visible">
                    <rect x="1" y="1" width="30" height="13" rx="3" class="fill-white stroke-rose-500" stroke-width="1.5" stroke-dasharray="3 2"/>
                    <circle cx="30" cy="2" r="5" class="fill-rose-600"/>
                </svg>
                {l(K::LoopGapMark)}
            </span>
        </div>
        <div class="relative min-w-0" data-testid="loop-view" data-editable=editable.to_string()>
            <div class="mb-1 flex items-center gap-1" role="toolbar">
                <button type="button" class=BUTTON title="0" data-testid="canvas-fit" on:click=move |_| canvas.fit()>{l(K::CanvasFit)}</button>
                <button type="button" class=BUTTON title="−" aria-label=l(K::CanvasZoomOut) on:click=move |_| canvas.zoom_by(1.0 / 1.2)>"−"</button>
                <span class="w-10 text-center text-[11px] tabular-nums text-slate-500" data-testid="canvas-zoom">{move || format!("{:.0}%", zoom.get() * 100.0)}</span>
                <button type="button" class=BUTTON title="+" aria-label=l(K::CanvasZoomIn) on:click=move |_| canvas.zoom_by(1.2)>"+"</button>
                <button type="button" class=BUTTON title="L" data-testid="loop-auto-layout" on:click=move |_| canvas.auto_layout()>{l(K::CanvasAutoLayout)}</button>
                <RunsToolbar overlay=canvas.overlay/>
                {move || {
                    let n = picked.with(BTreeSet::len);
                    (n > 0).then(|| view! {
                        <span class="ml-2 rounded bg-sky-50 px-1.5 text-[11px] text-sky-800" data-testid="loop-picked" data-count=n>
                            {move || t1(locale.get(), K::LoopPicked, n)}
                        </span>
                    })
                }}
                <span class="ml-2 text-[11px] text-slate-500" data-testid="loop-chain-count">
                    {move || chain.with(|c| c.as_ref().map(|c| t1(locale.get(), K::LoopOnChain, c.nodes.iter().filter(|on| **on).count())))}
                </span>
            </div>
            <div node_ref=wrapper tabindex="0" data-testid="loop-canvas" data-ready=move || ready.get().to_string() aria-busy=move || busy.get().to_string() aria-label=l(K::LoopCanvasLabel)
                class="relative overflow-hidden rounded border border-slate-200 bg-slate-50 outline-none focus-visible:ring-2 focus-visible:ring-sky-500"
                on:keydown=move |ev| canvas.key_down(ev)>
                <svg node_ref=svg class="block h-[72vh] min-h-96 w-full touch-none select-none"
                    on:pointerdown=move |ev| canvas.pointer_down(ev) on:pointermove=move |ev| canvas.pointer_move(ev) on:pointerup=move |ev| canvas.pointer_up(ev)
                    on:pointercancel=move |_| canvas.pointer_cancel() on:wheel=move |ev| canvas.wheel(ev)>
                    <g data-testid="loop-world" data-width=world_w data-height=world_h
                        transform=move || { let (x, y) = pan.get(); format!("translate({x:.1},{y:.1}) scale({:.3})", zoom.get()) }>
                        <g>{headers}</g>
                        <g>{edge_views}</g>
                        <g>{node_views}</g>
                        {drag_line}
                        {band_rect}
                    </g>
                </svg>
            </div>
            <p class="mt-1 text-[11px] text-slate-500">{l(K::LoopHint)}</p>
            <div class="absolute right-2 top-9 z-10 max-h-[calc(72vh-1rem)] w-[22rem] max-w-[80%] overflow-y-auto" aria-live="polite">{panel}</div>
        </div>
    }
}

/// For editors, a form for the first stage of each CJM and blueprint of
/// `maps` that has none (the loop draws nothing of it, so there is no
/// stage to add one after): the name, then Enter or "Add stage" — above
/// the canvas, or in its place when the loop draws nothing at all.
pub(super) fn first_stages(maps: &[MapRow], busy: Signal<bool>, on_change: Callback<Change>) -> impl IntoView {
    let locale = use_locale();
    maps.iter()
        .filter(|m| matches!(m.kind, MapKind::Cjm | MapKind::Blueprint) && m.rows == 0)
        .map(|m| {
            let (map, base, title) = (m.id.clone(), m.version, m.title.clone());
            let label = view! { <span class="text-amber-900">{move || t1(locale.get(), K::LoopFirstStage, &title)}</span> };
            let add = move |name| on_change.run(Change::Map(MapChange::NewStage(NewStage { map: map.clone(), base, after: String::new(), name })));
            stage_name_form(StageForm::First { map: m.id.clone() }, label, busy, add)
        })
        .collect_view()
}

/// The count of links to items that no longer exist, opening to the list
/// of them: each by the communication row or blueprint stage that holds
/// it (selected on a click, the canvas focused for its keys, or opened in
/// its map's editor, where the link can be taken out) and the item it
/// names; editors take them all out at once ("Take them out",
/// `loop_view::DanglingCut`).
fn dangling_list(canvas: Canvas) -> impl IntoView {
    let locale = use_locale();
    let links = canvas.graph.with_value(|g| {
        g.dangling_links.iter().map(|(holder, to)| (*holder, g.nodes[*holder].clone(), to.clone())).collect::<Vec<_>>()
    });
    let dangling = links.len();
    let items = links
        .into_iter()
        .map(|(holder, node, to)| {
            let (key, href, label, named) = (node.key.clone(), node.href(), node.label, to.clone());
            view! {
                <li class="flex items-center gap-1" data-testid="loop-dangling-link" data-holder=key data-to=named>
                    <button type="button" class=format!("{LINK} min-w-0 max-w-[18rem] truncate text-left")
                        on:click=move |_| { canvas.select(holder); focus_without_scrolling(canvas.wrapper); }>{label}</button>
                    <span class="text-slate-400">"→"</span>
                    <span class="font-mono text-slate-500">{to}</span>
                    <a class=LINK href=href data-testid="loop-dangling-open">{l(K::LoopOpenItem)}</a>
                </li>
            }
        })
        .collect_view();
    // Editors take them all out of the maps holding them, in one commit.
    let cut = canvas.editable.then(|| {
        let take_out = move |_| {
            let change = canvas.graph.with_value(|g| {
                let mut cut = DanglingCut::default();
                for (holder, to) in &g.dangling_links {
                    let map = &g.nodes[*holder].map;
                    if !cut.holders.contains(map) {
                        cut.holders.push(map.clone());
                    }
                    if !cut.targets.contains(to) {
                        cut.targets.push(to.clone());
                    }
                }
                cut
            });
            canvas.on_change.run(Change::Dangling(change));
        };
        view! {
            <li class="pt-1">
                <button type="button" class=BUTTON data-testid="loop-dangling-cut" title=l(K::LoopDanglingCutHint)
                    disabled=move || canvas.busy.get() on:click=take_out>{l(K::LoopDanglingCut)}</button>
            </li>
        }
    });
    view! {
        <details class="self-start text-xs text-slate-500" data-testid="loop-dangling" data-count=dangling>
            <summary class="cursor-pointer">{move || t1(locale.get(), K::LoopDangling, dangling)}</summary>
            <ul class="mt-1 space-y-0.5">{items}{cut}</ul>
        </details>
    }
}
