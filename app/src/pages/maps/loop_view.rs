//! The ComOps loop view (`/maps/loop?project=…`, SPEC §6): a project's
//! CJM stages, communication rows, blueprint stages and cells,
//! integration points, endpoints and scenarios on one SVG canvas, in
//! columns (`loop_model`), with every stored link.
//!
//! Selecting a node (click, or the arrow keys on the focused canvas)
//! lights up its chain — everything upstream and downstream of it — and
//! opens a side panel with its details, its links (each selects that
//! node: the loop is navigable both ways) and where to open it: the map
//! editor at that row, the endpoint, its docs and traces, the scenario
//! editor. Enter opens, Escape clears, double-click opens. Gaps are marked
//! on their nodes and counted at the top; a count cycles through its nodes.
//!
//! Whoever may bind rows to endpoints (architects, admins: the server's
//! `save_map` decides, `DesignIntegrations`) edits the loop's bindings
//! here: a communication row dragged onto an endpoint (by its body or its
//! ● port) binds the row's API trigger to it; a row's link, selected,
//! goes with Delete/Backspace or the panel's button; the row's panel also
//! binds by picking from every endpoint of the project. Escape cancels a
//! drag. Each change is one save of the row's map at the version the loop
//! was drawn from (`loop_edit`), so a loop drawn before someone else's
//! save gets the conflict, not an overwrite; then the loop is read again,
//! keeping the zoom, pan and selection. Everyone else reads it only.
//!
//! Anyone may move a node by hand (Shift+drag; Escape puts it back): the
//! positions are this browser's (`localStorage`, per project), never the
//! maps'; "Auto-layout" or L puts every node back in its column.
//!
//! Cheap on a few hundred nodes: nodes and links are rendered once; a
//! node's place is one signal (its links' paths follow it), and a
//! selection or a drag only re-evaluates each one's class from one memo.
//! Zoom and pan move a single transform (`components::canvas::viewport`
//! does the arithmetic).

use super::loop_edit;
use super::loop_model::{decode_positions, encode_positions, parse_loop_page, Chain, Dir, Gap, Kind, LoopGraph, Node, NODE_H, NODE_W};
use crate::api::maps::{list_maps, load_map, map_endpoints, project_loop, save_map, BindableEndpoint, MapRow, MapSaveOutcome};
use crate::api::projects::list_projects;
use crate::components::canvas::viewport;
use crate::components::form::can;
use crate::components::local_store;
use crate::components::{focus_without_scrolling, format_millis, l, load_error, loading};
use crate::error::AppError;
use crate::i18n::{problem_text, t, t1, use_locale, K};
use comops_core::{Locale, Permission};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use serde_json::Value;

const W: f64 = NODE_W;
const H: f64 = NODE_H;
const BUTTON: &str = "rounded border border-slate-300 bg-white px-2 py-0.5 text-xs hover:bg-slate-100";
const LINK: &str = "text-sky-800 hover:underline";

/// A change of one row's binding asked for on the canvas.
#[derive(Debug, Clone, PartialEq)]
struct Rebind {
    /// The row's map and the version the loop was drawn from.
    map: String,
    base: i64,
    /// The row's id in its map.
    row: String,
    /// The endpoint to bind to; `None` unbinds.
    endpoint: Option<BindableEndpoint>,
    /// The alias it is bound to now (the note of an unbinding).
    was: String,
}

/// What the last change of a binding came to, for the banner.
#[derive(Debug, Clone, PartialEq)]
enum SaveStatus {
    None,
    Saved { title: String, version: i64, note: String, map: String },
    Conflict { current: i64, author: String },
    Problem(String),
}

/// What survives the loop being read again after a save: the view and
/// the selected node, for the project they belong to.
#[derive(Debug, Clone, Default)]
struct Kept {
    project: String,
    view: Option<((f64, f64), f64)>,
    select: Option<String>,
}

/// `/maps/loop`, `?project=…` (else the first project).
#[component]
pub fn LoopViewPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let project_param = move || query.with(|q| q.get("project").unwrap_or_default());
    // Bumped to read the loop again (after a save, or to resolve a conflict).
    let reload = RwSignal::new(0u32);
    let page = Resource::new(
        move || (project_param(), reload.get()),
        |(wanted, _)| async move {
            let projects = list_projects().await?;
            let Some(project) = projects.iter().find(|p| p.id.to_string() == wanted).or(projects.first()).map(|p| p.id.to_string()) else {
                return Ok(None);
            };
            // The maps' versions before the loop: a save in between makes
            // a binding's base older than what is drawn — a conflict, never
            // a save over content nobody saw.
            let maps = list_maps(project.clone()).await?;
            let view = project_loop(project.clone()).await?;
            let endpoints = map_endpoints(project.clone()).await?;
            Ok::<_, AppError>(Some((project, view, endpoints, maps)))
        },
    );
    let editable = can(Permission::DesignIntegrations);
    let status = RwSignal::new(SaveStatus::None);
    let kept = StoredValue::new(Kept::default());
    let save = Action::new(move |change: &Rebind| {
        let (change, loc) = (change.clone(), locale.get_untracked());
        async move {
            kept.update_value(|k| k.select = Some(format!("{}#{}", change.map, change.row)));
            let next = match save_binding(change.clone(), loc).await {
                Ok((title, note, MapSaveOutcome::Saved { version })) => SaveStatus::Saved { title, version, note, map: change.map },
                Ok((_, _, MapSaveOutcome::Conflict { current, author })) => SaveStatus::Conflict { current, author },
                Ok((_, _, MapSaveOutcome::Invalid { errors })) => {
                    SaveStatus::Problem(errors.iter().map(|e| format!("{}: {}", e.field, problem_text(loc, &e.problem))).collect::<Vec<_>>().join("; "))
                }
                Ok((_, _, MapSaveOutcome::BadCsv { message, .. })) => SaveStatus::Problem(message),
                Err(None) => SaveStatus::Problem(t(loc, K::LoopRowGone).into()),
                Err(Some(err)) => SaveStatus::Problem(err.message(loc)),
            };
            let saved = matches!(next, SaveStatus::Saved { .. });
            status.set(next);
            if saved {
                reload.update(|r| *r += 1);
            }
        }
    });
    let busy = save.pending();
    let on_change = Callback::new(move |change: Rebind| {
        if !busy.get_untracked() {
            save.dispatch(change);
        }
    });
    let banner = move || {
        let loc = locale.get();
        if busy.get() {
            return view! { <p class="mb-2 text-sm text-slate-600" role="status" data-testid="loop-saving">{t(loc, K::LoopSaving)}</p> }.into_any();
        }
        match status.get() {
            SaveStatus::None => ().into_any(),
            SaveStatus::Saved { title, version, note, map } => {
                let text = t(loc, K::LoopSaved).replacen("{}", &format!("«{title}»"), 1).replacen("{}", &version.to_string(), 1);
                view! {
                    <p class="mb-2 text-sm text-emerald-700" role="status" data-testid="loop-saved" data-version=version>
                        {text}" "<span data-testid="loop-saved-note">{note}</span>" · "
                        <a class=LINK href=format!("/maps/{map}")>{t(loc, K::LoopOpenItem)}</a>
                    </p>
                }
                .into_any()
            }
            SaveStatus::Conflict { current, author } => view! {
                <div role="alert" class="mb-2 rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="loop-conflict">
                    <p>{t1(loc, K::LoopConflict, author)}" "{t1(loc, K::MapConflictCurrent, current)}</p>
                    <button type="button" class=format!("{BUTTON} mt-2") data-testid="loop-conflict-reload"
                        on:click=move |_| { status.set(SaveStatus::None); reload.update(|r| *r += 1); }>{t(loc, K::LoopReload)}</button>
                </div>
            }
            .into_any(),
            SaveStatus::Problem(message) => view! {
                <p role="alert" class="mb-2 rounded border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800" data-testid="loop-save-error">{message}</p>
            }
            .into_any(),
        }
    };
    view! {
        <div class="mb-3 flex flex-wrap items-start justify-between gap-4">
            <div>
                <h1 class="text-xl font-semibold" data-testid="loop-title">{l(K::LoopTitle)}</h1>
                <p class="text-slate-600">{l(K::LoopIntro)}</p>
                {editable.then(|| view! { <p class="text-sm text-slate-600" data-testid="loop-edit-hint">{l(K::LoopEditHint)}</p> })}
            </div>
            <a class=BUTTON href=move || format!("/maps?project={}", project_param()) data-testid="loop-back">{l(K::LoopBack)}</a>
        </div>
        {banner}
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(Some((project, text, endpoints, maps))) => {
                        let graph = LoopGraph::build(&parse_loop_page(&text), &endpoints);
                        if kept.with_value(|k| k.project != project) {
                            kept.set_value(Kept { project, ..Default::default() });
                        }
                        if graph.nodes.is_empty() {
                            view! { <p class="text-slate-500" data-testid="loop-empty">{l(K::LoopEmpty)}</p> }.into_any()
                        } else {
                            view! { <LoopCanvas graph maps endpoints editable busy=busy.into() on_change kept/> }.into_any()
                        }
                    }
                    Ok(None) => view! { <p class="text-slate-500" data-testid="loop-empty">{l(K::LoopEmpty)}</p> }.into_any(),
                    Err(err) => load_error(err, locale.get_untracked()),
                }
            })}
        </Transition>
    }
}

/// Saves one binding change: the row's map at the version the loop was
/// drawn from, changed (`loop_edit::bind_row`), as the next version with
/// a note — through `save_map`, which refuses a stale base and checks the
/// role. `Err(None)`: the row is not in that version. On success, the
/// map's title and the note.
async fn save_binding(change: Rebind, locale: Locale) -> Result<(String, String, MapSaveOutcome), Option<AppError>> {
    let loaded = load_map(change.map.clone(), change.base).await.map_err(Some)?;
    let mut content: Value = serde_json::from_slice(loaded.content.as_bytes()).unwrap_or(Value::Null);
    let number = loop_edit::bind_row(&mut content, &change.row, change.endpoint.as_ref()).ok_or(None)?;
    let note = loop_edit::note(locale, number, change.endpoint.as_ref(), &change.was);
    let outcome = save_map(change.map, loaded.title.clone(), content.to_string(), note.clone(), change.base).await.map_err(Some)?;
    Ok((loaded.title, note, outcome))
}

fn kind_key(kind: Kind) -> K {
    match kind {
        Kind::Stage => K::LoopKindStage,
        Kind::Row => K::LoopKindRow,
        Kind::BlueprintStage => K::LoopKindBlueprintStage,
        Kind::Cell => K::LoopKindCell,
        Kind::IntegrationRow => K::LoopKindIntegration,
        Kind::Endpoint => K::LoopKindEndpoint,
        Kind::Scenario => K::LoopKindScenario,
    }
}

/// The count's text and the one node's explanation.
fn gap_keys(gap: Gap) -> (K, K) {
    match gap {
        Gap::NoRow => (K::LoopGapNoRow, K::LoopGapNoRowOne),
        Gap::NoEndpoint => (K::LoopGapNoEndpoint, K::LoopGapNoEndpointOne),
        Gap::NotLive => (K::LoopGapNotLive, K::LoopGapNotLiveOne),
        Gap::NoScenario => (K::LoopGapNoScenario, K::LoopGapNoScenarioOne),
    }
}

/// Fill and stroke of a kind.
fn kind_class(kind: Kind) -> &'static str {
    match kind {
        Kind::Stage => "fill-emerald-50 stroke-emerald-600",
        Kind::Row => "fill-sky-50 stroke-sky-600",
        Kind::BlueprintStage => "fill-slate-100 stroke-slate-500",
        Kind::Cell => "fill-violet-50 stroke-violet-500",
        Kind::IntegrationRow => "fill-cyan-50 stroke-cyan-700",
        Kind::Endpoint => "fill-amber-50 stroke-amber-600",
        Kind::Scenario => "fill-fuchsia-50 stroke-fuchsia-600",
    }
}

/// A kind's outline in a `w` × `h` box: a pill for a CJM stage, a square
/// box for a blueprint stage, a dashed one for a cell, a rounded one for a
/// row, a tag for an integration point, a hexagon for an endpoint and a
/// slanted box for a scenario.
fn shape(kind: Kind, w: f64, h: f64) -> AnyView {
    let class = kind_class(kind);
    let poly = |points: String| view! { <polygon points=points class=class stroke-width="1.5"/> }.into_any();
    match kind {
        Kind::Stage => view! { <rect width=w height=h rx=h / 2.0 class=class stroke-width="1.5"/> }.into_any(),
        Kind::Row => view! { <rect width=w height=h rx="6" class=class stroke-width="1.5"/> }.into_any(),
        Kind::BlueprintStage => view! { <rect width=w height=h class=class stroke-width="1.5"/> }.into_any(),
        Kind::Cell => view! { <rect width=w height=h rx="2" class=class stroke-width="1.5" stroke-dasharray="5 3"/> }.into_any(),
        Kind::IntegrationRow => poly(format!("{},0 {w},0 {w},{h} {},{h} 0,{}", h / 3.0, h / 3.0, h / 2.0)),
        Kind::Endpoint => poly(format!("{},0 {},0 {w},{} {},{h} {},{h} 0,{}", h / 3.0, w - h / 3.0, h / 2.0, w - h / 3.0, h / 3.0, h / 2.0)),
        Kind::Scenario => poly(format!("{},0 {w},0 {},{h} 0,{h}", h / 4.0, w - h / 4.0)),
    }
}

/// At most `max` characters, with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    } else {
        text.to_string()
    }
}

/// A link from the right of `a` to the left of `b`.
fn edge_path(a: (f64, f64), b: (f64, f64)) -> String {
    let (x1, y1) = (a.0 + W, a.1 + H / 2.0);
    let (x2, y2) = (b.0, b.1 + H / 2.0);
    let dx = ((x2 - x1) / 2.0).min(120.0);
    format!("M{x1:.0},{y1:.0} C{:.0},{y1:.0} {:.0},{y2:.0} {x2:.0},{y2:.0}", x1 + dx, x2 - dx)
}

/// A press on the canvas, until it is let go.
#[derive(Debug, Clone, Copy, Default)]
enum Gesture {
    #[default]
    None,
    /// Panning: where the pointer and the pan started, and whether it moved.
    Pan { from: (f64, f64), start: (f64, f64), moved: bool },
    /// Dragging communication row `row` towards an endpoint: where the
    /// press was (page pixels) and whether it has moved yet.
    Bind { row: usize, from: (f64, f64), moved: bool },
    /// Moving `node` by hand (Shift+drag): where the press was (model
    /// space), where the node was, and whether it has moved yet.
    Move { node: usize, from: (f64, f64), start: (f64, f64), moved: bool },
}

/// What each node's look depends on, shared by all of them.
#[derive(Clone, Copy)]
struct Look {
    selected: RwSignal<Option<usize>>,
    chain: Memo<Option<Chain>>,
    /// The row being dragged and the endpoint it would be bound to.
    dragged: Memo<Option<usize>>,
    target: Memo<Option<usize>>,
    open: Callback<usize>,
    editable: bool,
}

/// Every node's place on the canvas, one signal each: the layout's, or
/// where it was moved by hand (Shift+drag), kept per project in this
/// browser's `localStorage` until "Auto-layout" (or L) puts it back.
#[derive(Clone, Copy)]
struct Spots {
    at: StoredValue<Vec<RwSignal<(f64, f64)>>>,
    laid_out: StoredValue<Vec<(f64, f64)>>,
    storage_key: StoredValue<String>,
}

impl Spots {
    fn new(graph: &LoopGraph, project: &str) -> Spots {
        let laid_out: Vec<(f64, f64)> = graph.nodes.iter().map(|n| n.at).collect();
        Spots {
            at: StoredValue::new(laid_out.iter().map(|&p| RwSignal::new(p)).collect()),
            laid_out: StoredValue::new(laid_out),
            storage_key: StoredValue::new(format!("comops.loop.positions.{project}")),
        }
    }

    fn of(self, i: usize) -> RwSignal<(f64, f64)> {
        self.at.with_value(|at| at[i])
    }

    /// Puts node `i` at `p`, on screen and in the graph (which hit-tests).
    fn put(self, graph: StoredValue<LoopGraph>, i: usize, p: (f64, f64)) {
        self.of(i).set(p);
        graph.update_value(|g| g.nodes[i].at = p);
    }

    /// The positions kept in this browser, put back (after hydration: the
    /// server drew the layout).
    fn restore(self, graph: StoredValue<LoopGraph>) {
        let Some(text) = local_store::get(&self.storage_key.get_value()) else { return };
        let kept = decode_positions(&text);
        for i in graph.try_update_value(|g| g.place(&kept)).unwrap_or_default() {
            self.of(i).set(graph.with_value(|g| g.nodes[i].at));
        }
    }

    /// Keeps the nodes moved by hand (or forgets them all, when none is).
    fn save(self, graph: StoredValue<LoopGraph>) {
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
    fn auto_layout(self, graph: StoredValue<LoopGraph>) {
        let laid_out = self.laid_out.get_value();
        for (i, p) in laid_out.into_iter().enumerate() {
            self.put(graph, i, p);
        }
        local_store::remove(&self.storage_key.get_value());
    }
}

#[component]
fn LoopCanvas(
    graph: LoopGraph,
    maps: Vec<MapRow>,
    endpoints: Vec<BindableEndpoint>,
    editable: bool,
    busy: Signal<bool>,
    on_change: Callback<Rebind>,
    kept: StoredValue<Kept>,
) -> impl IntoView {
    let locale = use_locale();
    let navigate = use_navigate();
    let counts = graph.gap_counts();
    let dangling = graph.dangling;
    let spots = Spots::new(&graph, &kept.with_value(|k| k.project.clone()));
    let graph = StoredValue::new(graph);
    let maps = StoredValue::new(maps);
    let endpoints = StoredValue::new(endpoints);
    let start_at = kept.with_value(|k| k.select.as_ref().and_then(|key| graph.with_value(|g| g.nodes.iter().position(|n| &n.key == key))));
    let selected = RwSignal::new(start_at);
    // The selected link (a row's binding), by index into the graph's edges.
    let link = RwSignal::new(None::<usize>);
    let chain = Memo::new(move |_| selected.get().map(|i| graph.with_value(|g| g.chain(i))));
    let pan = RwSignal::new((0.0, 0.0));
    let zoom = RwSignal::new(1.0);
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let wrapper = NodeRef::<leptos::html::Div>::new();
    let gesture = StoredValue::new(Gesture::None);
    // A row being dragged, and the pointer in model space.
    let drag = RwSignal::new(None::<(usize, (f64, f64))>);
    let dragged = Memo::new(move |_| drag.get().map(|(row, _)| row));
    let target = Memo::new(move |_| drag.get().and_then(|(row, at)| graph.with_value(|g| g.drop_target(row, at))));

    // Before the canvas is laid out it has no size: a usual one stands in.
    let size = move || match svg.get_untracked().map(|el| (el.client_width(), el.client_height())) {
        Some((w, h)) if w > 50 && h > 50 => (w as f64, h as f64),
        _ => (1000.0, 600.0),
    };
    // The canvas's top-left corner on the page.
    let origin = move || {
        #[cfg(feature = "hydrate")]
        if let Some(el) = svg.get_untracked() {
            let r = el.get_bounding_client_rect();
            return (r.left(), r.top());
        }
        (0.0, 0.0)
    };
    // A pointer's page position in model space.
    let to_model = move |client: (f64, f64)| {
        let ((ox, oy), (px, py), k) = (origin(), pan.get_untracked(), zoom.get_untracked());
        ((client.0 - ox - px) / k, (client.1 - oy - py) / k)
    };
    let fit = move || {
        let (p, k) = viewport::fit(graph.with_value(|g| g.bounds()), size(), 1.2);
        pan.set(p);
        zoom.set(k);
    };
    let zoom_by = move |factor: f64| {
        let (w, h) = size();
        let (p, k) = viewport::zoom_about(pan.get_untracked(), zoom.get_untracked(), factor, (w / 2.0, h / 2.0));
        pan.set(p);
        zoom.set(k);
    };
    let select = move |i: usize| {
        selected.set(Some(i));
        link.set(None);
        let (x, y) = graph.with_value(|g| g.nodes[i].at);
        pan.set(viewport::reveal(pan.get_untracked(), zoom.get_untracked(), (x, y, W, H), size()));
    };
    let open = Callback::new(move |i: usize| {
        let href = graph.with_value(|g| g.nodes[i].href());
        navigate(&href, Default::default());
    });
    // Asks the page to bind `row` to the endpoint node `to` (`None` unbinds).
    let rebind = move |row: usize, to: Option<usize>| {
        let change = graph.with_value(|g| {
            let r = g.nodes.get(row)?;
            let base = maps.with_value(|m| m.iter().find(|m| m.id == r.map).map(|m| m.version))?;
            let was = g.bound_endpoint(row).map(|e| g.nodes[e].name.clone()).unwrap_or_default();
            let endpoint = match to {
                Some(e) => {
                    let n = g.nodes.get(e)?;
                    Some(endpoints.with_value(|all| all.iter().find(|x| x.bot_id == n.bot && x.alias == n.name).cloned())?)
                }
                None => None,
            };
            Some(Rebind { map: r.map.clone(), base, row: r.item().to_string(), endpoint, was })
        });
        if let Some(change) = change {
            on_change.run(change);
        }
    };
    let unbind_link = move |k: usize| {
        if let Some((row, _)) = graph.with_value(|g| g.binding_link(k)) {
            rebind(row, None);
        }
    };
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
                    None => fit(),
                }
                ready.set(true);
            });
        }
    });
    Effect::new(move |_| {
        let view = (pan.get(), zoom.get());
        kept.update_value(|k| k.view = Some(view));
    });
    Effect::new(move |_| {
        let key = selected.get().map(|i| graph.with_value(|g| g.nodes[i].key.clone()));
        kept.update_value(|k| k.select = key);
    });

    let capture = move |id: i32| {
        if let Some(el) = svg.get_untracked() {
            let _ = el.set_pointer_capture(id);
        }
    };
    // Escape: a row's drag ends without a binding, a moved node goes back.
    let cancel_drag = move || {
        match gesture.get_value() {
            Gesture::Bind { .. } => gesture.set_value(Gesture::None),
            Gesture::Move { node, start, .. } => {
                spots.of(node).set(start);
                gesture.set_value(Gesture::None);
            }
            _ => {}
        }
        drag.set(None);
    };
    let dragging = move || matches!(gesture.get_value(), Gesture::Bind { .. } | Gesture::Move { .. });
    let on_pointerdown = move |ev: leptos::ev::PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        let target = event_target::<leptos::web_sys::Element>(&ev);
        let attr = |sel: &str, name: &str| target.closest(sel).ok().flatten().and_then(|el| el.get_attribute(name)).and_then(|v| v.parse::<usize>().ok());
        let client = (ev.client_x() as f64, ev.client_y() as f64);
        focus_without_scrolling(wrapper);
        if let Some(i) = attr("[data-index]", "data-index") {
            selected.set(Some(i));
            link.set(None);
            if ev.shift_key() {
                capture(ev.pointer_id());
                let start = spots.of(i).get_untracked();
                gesture.set_value(Gesture::Move { node: i, from: to_model(client), start, moved: false });
                return;
            }
            let row = graph.with_value(|g| g.nodes.get(i).is_some_and(|n| n.kind == Kind::Row));
            // The pointer is captured only once the row moves: a click or
            // double-click stays on the node.
            gesture.set_value(if editable && row && !busy.get_untracked() { Gesture::Bind { row: i, from: client, moved: false } } else { Gesture::None });
        } else if let Some(k) = attr("[data-link]", "data-link").filter(|_| editable) {
            selected.set(None);
            link.set(Some(k));
            gesture.set_value(Gesture::None);
        } else {
            capture(ev.pointer_id());
            gesture.set_value(Gesture::Pan { from: client, start: pan.get_untracked(), moved: false });
        }
    };
    let on_pointermove = move |ev: leptos::ev::PointerEvent| {
        let client = (ev.client_x() as f64, ev.client_y() as f64);
        match gesture.get_value() {
            Gesture::None => {}
            Gesture::Pan { from, start, .. } => {
                let (dx, dy) = (client.0 - from.0, client.1 - from.1);
                if dx.abs() + dy.abs() > 3.0 {
                    gesture.set_value(Gesture::Pan { from, start, moved: true });
                    pan.set((start.0 + dx, start.1 + dy));
                }
            }
            Gesture::Bind { row, from, moved } => {
                if !moved {
                    if (client.0 - from.0).abs() + (client.1 - from.1).abs() < 4.0 {
                        return;
                    }
                    capture(ev.pointer_id());
                    gesture.set_value(Gesture::Bind { row, from, moved: true });
                }
                drag.set(Some((row, to_model(client))));
            }
            Gesture::Move { node, from, start, moved } => {
                let at = to_model(client);
                let (dx, dy) = (at.0 - from.0, at.1 - from.1);
                if !moved && dx.abs() + dy.abs() < 3.0 {
                    return;
                }
                gesture.set_value(Gesture::Move { node, from, start, moved: true });
                spots.of(node).set((start.0 + dx, start.1 + dy));
            }
        }
    };
    let on_pointerup = move |ev: leptos::ev::PointerEvent| {
        let client = (ev.client_x() as f64, ev.client_y() as f64);
        match gesture.get_value() {
            // A click on empty space (no drag) clears the selection.
            Gesture::Pan { moved: false, .. } => {
                selected.set(None);
                link.set(None);
            }
            Gesture::Bind { row, moved: true, .. } => {
                if let Some(e) = graph.with_value(|g| g.drop_target(row, to_model(client))) {
                    rebind(row, Some(e));
                }
            }
            Gesture::Move { node, moved: true, .. } => {
                spots.put(graph, node, spots.of(node).get_untracked());
                spots.save(graph);
            }
            _ => {}
        }
        gesture.set_value(Gesture::None);
        drag.set(None);
    };
    let on_wheel = move |ev: leptos::ev::WheelEvent| {
        ev.prevent_default();
        let (ox, oy) = origin();
        let factor = (-ev.delta_y() * 0.0015).exp();
        let (p, k) = viewport::zoom_about(pan.get_untracked(), zoom.get_untracked(), factor, (ev.client_x() as f64 - ox, ev.client_y() as f64 - oy));
        pan.set(p);
        zoom.set(k);
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let dir = match ev.key().as_str() {
            "ArrowUp" => Some(Dir::Up),
            "ArrowDown" => Some(Dir::Down),
            "ArrowLeft" => Some(Dir::Left),
            "ArrowRight" => Some(Dir::Right),
            _ => None,
        };
        if let Some(dir) = dir {
            if let Some(next) = graph.with_value(|g| g.step(selected.get_untracked(), dir)) {
                select(next);
            }
            ev.prevent_default();
            return;
        }
        match ev.key().as_str() {
            "Enter" => match selected.get_untracked() {
                Some(i) => open.run(i),
                None => return,
            },
            // Escape first cancels a drag, then clears the selection.
            "Escape" if drag.get_untracked().is_some() || dragging() => cancel_drag(),
            "Escape" => {
                selected.set(None);
                link.set(None);
            }
            "Delete" | "Backspace" if editable && !busy.get_untracked() => match link.get_untracked() {
                Some(k) => unbind_link(k),
                None => return,
            },
            "+" | "=" => zoom_by(1.2),
            "-" | "_" => zoom_by(1.0 / 1.2),
            "0" => fit(),
            "l" | "L" if !ev.ctrl_key() && !ev.meta_key() => {
                spots.auto_layout(graph);
                fit();
            }
            _ => return,
        }
        ev.prevent_default();
    };

    let (nodes, edges, columns) = graph.with_value(|g| {
        // (index, left node, right node, whether it is a row's binding)
        let edges: Vec<(usize, usize, usize, bool)> = g.edges.iter().enumerate().map(|(k, &(a, b))| (k, a, b, g.binding_link(k).is_some())).collect();
        let columns: Vec<(Kind, f64, usize)> = g.columns.iter().map(|&(kind, x)| (kind, x, g.nodes.iter().filter(|n| n.kind == kind).count())).collect();
        (g.nodes.clone(), edges, columns)
    });
    let (world_w, world_h) = graph.with_value(|g| g.size);

    let edge_views = edges
        .into_iter()
        .map(|(k, a, b, binding)| {
            let (from, to) = graph.with_value(|g| (g.nodes[a].key.clone(), g.nodes[b].key.clone()));
            let (pa, pb) = (spots.of(a), spots.of(b));
            let d = Memo::new(move |_| edge_path(pa.get(), pb.get()));
            let state = move || chain.with(|c| c.as_ref().map(|c| c.edges[k]));
            let picked = move || link.get() == Some(k);
            let line = view! {
                <path d=move || d.get() stroke-width=move || if picked() { "3" } else if state() == Some(true) { "2.5" } else { "1.2" }
                    data-on-chain=move || if state() == Some(true) { "true" } else { "false" }
                    class=move || match (picked(), state()) {
                        (true, _) => "fill-none stroke-sky-700",
                        (_, Some(true)) => "fill-none stroke-sky-600",
                        (_, Some(false)) => "fill-none stroke-slate-300 opacity-40",
                        (_, None) => "fill-none stroke-slate-400",
                    }/>
            };
            // A row's binding, for whoever may change it: a wide
            // transparent stroke to hit, selectable and removable.
            let hit = (editable && binding).then(|| view! { <path d=move || d.get() class="fill-none stroke-transparent" stroke-width="12"/> });
            view! {
                <g data-link-from=from data-link-to=to data-link=(editable && binding).then_some(k)
                    data-selected=move || picked().to_string() class:cursor-pointer=editable && binding>
                    {hit}
                    {line}
                </g>
            }
        })
        .collect_view();
    let look = Look { selected, chain, dragged, target, open, editable };
    let node_views = nodes.into_iter().enumerate().map(|(i, node)| node_view(i, node, spots.of(i), look)).collect_view();
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

    // Each gap count selects its nodes in turn.
    let next_gap = move |gap: Gap| {
        let at = selected.get_untracked();
        let found = graph.with_value(|g| {
            let with: Vec<usize> = (0..g.nodes.len()).filter(|&k| g.nodes[k].gap == Some(gap)).collect();
            with.iter().copied().find(|&k| Some(k) > at).or(with.first().copied())
        });
        if let Some(i) = found {
            select(i);
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
                    <span class="font-semibold tabular-nums">{n}</span>" "{l(many)}
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

    let edit = Edit { editable, busy, endpoints, rebind: Callback::new(move |(row, to): (usize, Option<Rebind>)| match to {
        Some(change) => on_change.run(change),
        None => rebind(row, None),
    }) };
    let panel = move || {
        // Out of the way while a row is dragged: it floats over the endpoints.
        if dragged.get().is_some() {
            return None;
        }
        if let Some(k) = link.get() {
            return Some(view! { <LinkPanel k graph edit select=Callback::new(select) unbind=Callback::new(unbind_link) on_close=Callback::new(move |_: ()| link.set(None))/> }.into_any());
        }
        let i = selected.get()?;
        Some(view! { <SidePanel i graph maps edit select=Callback::new(select) on_close=Callback::new(move |_: ()| selected.set(None))/> }.into_any())
    };

    view! {
        <div class="mb-2 flex flex-wrap items-center gap-2" data-testid="loop-gaps">
            <span class="text-sm font-medium text-slate-700">{l(K::LoopGaps)}</span>
            {gap_bar}
            {(dangling > 0).then(|| view! {
                <span class="text-xs text-slate-500" data-testid="loop-dangling">{move || t1(locale.get(), K::LoopDangling, dangling)}</span>
            })}
        </div>
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
                <button type="button" class=BUTTON title="0" data-testid="canvas-fit" on:click=move |_| fit()>{l(K::CanvasFit)}</button>
                <button type="button" class=BUTTON title="−" aria-label=l(K::CanvasZoomOut) on:click=move |_| zoom_by(1.0 / 1.2)>"−"</button>
                <span class="w-10 text-center text-[11px] tabular-nums text-slate-500" data-testid="canvas-zoom">{move || format!("{:.0}%", zoom.get() * 100.0)}</span>
                <button type="button" class=BUTTON title="+" aria-label=l(K::CanvasZoomIn) on:click=move |_| zoom_by(1.2)>"+"</button>
                <button type="button" class=BUTTON title="L" data-testid="loop-auto-layout" on:click=move |_| { spots.auto_layout(graph); fit(); }>{l(K::CanvasAutoLayout)}</button>
                <span class="ml-2 text-[11px] text-slate-500" data-testid="loop-chain-count">
                    {move || chain.with(|c| c.as_ref().map(|c| t1(locale.get(), K::LoopOnChain, c.nodes.iter().filter(|on| **on).count())))}
                </span>
            </div>
            <div node_ref=wrapper tabindex="0" data-testid="loop-canvas" data-ready=move || ready.get().to_string() aria-label=l(K::LoopCanvasLabel)
                class="relative overflow-hidden rounded border border-slate-200 bg-slate-50 outline-none focus-visible:ring-2 focus-visible:ring-sky-500"
                on:keydown=on_keydown>
                <svg node_ref=svg class="block h-[72vh] min-h-96 w-full touch-none select-none"
                    on:pointerdown=on_pointerdown on:pointermove=on_pointermove on:pointerup=on_pointerup
                    on:pointercancel=move |_| { gesture.set_value(Gesture::None); drag.set(None); } on:wheel=on_wheel>
                    <g data-testid="loop-world" data-width=world_w data-height=world_h
                        transform=move || { let (x, y) = pan.get(); format!("translate({x:.1},{y:.1}) scale({:.3})", zoom.get()) }>
                        <g>{headers}</g>
                        <g>{edge_views}</g>
                        <g>{node_views}</g>
                        {drag_line}
                    </g>
                </svg>
            </div>
            <p class="mt-1 text-[11px] text-slate-500">{l(K::LoopHint)}</p>
            <div class="absolute right-2 top-9 z-10 max-h-[calc(72vh-1rem)] w-[22rem] max-w-[80%] overflow-y-auto" aria-live="polite">{panel}</div>
        </div>
    }
}

/// One node: its outline, label and second line, the selection ring, the
/// gap mark; for editors a communication row's ● port (drag it, or the
/// row, onto an endpoint) and, during a drag, the endpoints it may drop on.
fn node_view(i: usize, node: Node, at: RwSignal<(f64, f64)>, look: Look) -> impl IntoView {
    let locale = use_locale();
    let Look { selected, chain, dragged, target, open, editable } = look;
    let on_chain = move || chain.with(|c| c.as_ref().map(|c| c.nodes[i]));
    let is_selected = move || selected.get() == Some(i);
    let label = cut(&node.label, 26);
    let second = node.clone();
    let sub = move || {
        let loc = locale.get();
        match (&second.kind, &second.live) {
            (Kind::Endpoint, Some(live)) => format!("{} · {} {} · {} {}", second.bot, live.calls, t(loc, K::LoopCalls), live.errors, t(loc, K::LoopErrors)),
            (Kind::Endpoint | Kind::Scenario, _) => second.bot.clone(),
            _ => t(loc, kind_key(second.kind)).to_string(),
        }
    };
    let gap = node.gap;
    let draggable = editable && node.kind == Kind::Row;
    // During a drag a live endpoint is a place to drop; the one under the pointer is lit.
    let droppable = editable && node.kind == Kind::Endpoint && node.live.is_some();
    let is_target = move || target.get() == Some(i);
    let drop_ring = droppable.then(|| {
        view! {
            <rect x="-6" y="-6" width=W + 12.0 height=H + 12.0 rx="10" stroke-width=move || if is_target() { "3" } else { "1.5" }
                stroke-dasharray=move || if is_target() { "" } else { "4 3" }
                class=move || match (dragged.get().is_some(), is_target()) {
                    (true, true) => "fill-emerald-100 stroke-emerald-600",
                    (true, false) => "fill-none stroke-emerald-500",
                    _ => "hidden",
                }/>
        }
    });
    let port = draggable.then(|| {
        view! { <circle data-port="" cx=W cy=H / 2.0 r="6" stroke-width="1.5" class="cursor-crosshair fill-white stroke-sky-600 hover:fill-sky-500"/> }
    });
    view! {
        <g data-node=node.key.clone() data-index=i data-kind=node.kind.as_str() data-gap=gap.map(Gap::as_str)
            data-live=node.live.as_ref().map(|l| l.calls.to_string())
            data-on-chain=move || if on_chain() == Some(true) { "true" } else { "false" }
            data-selected=move || if is_selected() { "true" } else { "false" }
            data-drop-target=move || droppable.then(|| is_target().to_string())
            transform=move || { let (x, y) = at.get(); format!("translate({x:.0},{y:.0})") } class=if draggable { "cursor-grab" } else { "cursor-pointer" }
            class=("opacity-25", move || on_chain() == Some(false) && dragged.get().is_none())
            on:dblclick=move |_| open.run(i)>
            {drop_ring}
            <rect x="-4" y="-4" width=W + 8.0 height=H + 8.0 rx="9" stroke-width="2.5"
                class=move || if is_selected() { "fill-none stroke-sky-500" } else { "hidden" }/>
            {shape(node.kind, W, H)}
            {gap.map(|g| view! {
                <g data-testid="gap-mark" data-gap-kind=g.as_str()>
                    <rect x="-2" y="-2" width=W + 4.0 height=H + 4.0 rx="7" class="fill-none stroke-rose-500" stroke-width="1.5" stroke-dasharray="4 3"/>
                    <circle cx=W - 4.0 cy="0" r="7" class="fill-rose-600"/>
                    <text x=W - 4.0 y="4" text-anchor="middle" class="fill-white text-[11px] font-bold">"!"</text>
                </g>
            })}
            <text x="14" y="17" class="fill-slate-900 text-[12px] font-medium">{label}</text>
            <text x="14" y="32" class="fill-slate-500 text-[10px]">{sub}</text>
            {port}
        </g>
    }
}

/// What the side panels need to change bindings.
#[derive(Clone, Copy)]
struct Edit {
    editable: bool,
    busy: Signal<bool>,
    endpoints: StoredValue<Vec<BindableEndpoint>>,
    /// (row, `Some(change)` to save as it is, `None` to unbind the row).
    rebind: Callback<(usize, Option<Rebind>)>,
}

/// The selected node's details, links and where to open it; for editors,
/// a communication row's binding (unbind, or bind to any endpoint of the
/// project — also those no map binds yet, which the loop does not draw).
#[component]
fn SidePanel(i: usize, graph: StoredValue<LoopGraph>, maps: StoredValue<Vec<MapRow>>, edit: Edit, select: Callback<usize>, on_close: Callback<()>) -> impl IntoView {
    let locale = use_locale();
    let (node, links, bound) = graph.with_value(|g| {
        let links: Vec<(usize, bool, Kind, String)> = g.neighbours(i).into_iter().map(|(k, down)| (k, down, g.nodes[k].kind, g.nodes[k].label.clone())).collect();
        let bound = g.bound_endpoint(i).map(|e| (e, g.nodes[e].bot.clone(), g.nodes[e].name.clone()));
        (g.nodes[i].clone(), links, bound)
    });
    let map = maps.with_value(|m| m.iter().find(|m| m.id == node.map).map(|m| (m.title.clone(), m.version)));
    let list = move |down: bool| {
        let items: Vec<_> = links.iter().filter(|l| l.1 == down).cloned().collect();
        (!items.is_empty()).then(|| {
            let title = if down { K::LoopDownstream } else { K::LoopUpstream };
            view! {
                <div class="mt-2">
                    <div class="text-[11px] font-medium uppercase text-slate-500">{l(title)}</div>
                    <ul class="mt-1 space-y-0.5" data-testid=if down { "loop-downstream" } else { "loop-upstream" }>
                        {items.into_iter().map(|(k, _, kind, label)| view! {
                            <li>
                                <button type="button" class="w-full truncate text-left text-xs text-sky-800 hover:underline" data-link-kind=kind.as_str()
                                    on:click=move |_| select.run(k)>
                                    <span class="text-slate-500">{l(kind_key(kind))}": "</span>{label}
                                </button>
                            </li>
                        }).collect_view()}
                    </ul>
                </div>
            }
        })
    };
    let (up, down) = (list(false), list(true));
    let actions = match node.kind {
        Kind::Endpoint if node.live.is_some() => {
            let (bot, alias) = (node.bot.clone(), node.name.clone());
            view! {
                <a class=LINK href=node.href() data-testid="loop-open">{l(K::LoopOpenEndpoint)}</a>
                <a class=LINK href=format!("/docs/{bot}") rel="external" data-testid="loop-docs">{l(K::MapDocs)}</a>
                <a class=LINK href=format!("/traces?endpoint={alias}&bot={bot}") data-testid="loop-traces">{l(K::Traces)}</a>
            }
            .into_any()
        }
        Kind::Endpoint => ().into_any(),
        Kind::Scenario => view! { <a class=LINK href=node.href() data-testid="loop-open">{l(K::LoopOpenScenario)}</a> }.into_any(),
        _ => view! { <a class=LINK href=node.href() data-testid="loop-open">{l(K::LoopOpenItem)}</a> }.into_any(),
    };
    let live = node.live.clone().map(|live| {
        view! {
            <p class="mt-1 text-xs text-slate-700" data-testid="loop-live">
                {format!("{} ", live.calls)}{l(K::LoopCalls)}" · "{format!("{} ", live.errors)}{l(K::LoopErrors)}" · "{l(K::LoopLastCall)}": "
                {live.last_call_at.map(format_millis).unwrap_or_else(|| "—".into())}
                {(!live.enabled).then(|| view! { " · " <span class="text-rose-700">{l(K::LoopDisabled)}</span> })}
            </p>
        }
    });
    let subtitle = match node.kind {
        Kind::Endpoint => format!("/bots/{}/call/{}", node.bot, node.name),
        Kind::Scenario => node.bot.clone(),
        _ => map.as_ref().map(|m| m.0.clone()).unwrap_or_else(|| node.map.clone()),
    };
    // A communication row's binding, for whoever may change it.
    let binding = (edit.editable && node.kind == Kind::Row).then(|| {
        let (row_map, row_item) = (node.map.clone(), node.item().to_string());
        let base = map.as_ref().map(|m| m.1);
        let was = bound.as_ref().map(|b| b.2.clone()).unwrap_or_default();
        let current = bound.as_ref().map(|b| format!("{}|{}", b.1, b.2)).unwrap_or_default();
        let bound_view = bound.clone().map(|(e, _, alias)| {
            view! {
                <p class="mt-1">
                    {l(K::LoopBoundTo)}": "
                    <button type="button" class=LINK data-testid="loop-bound-endpoint" on:click=move |_| select.run(e)>{alias}</button>" "
                    <button type="button" class=BUTTON data-testid="loop-unbind" disabled=move || edit.busy.get()
                        on:click=move |_| edit.rebind.run((i, None))>{l(K::LoopUnbind)}</button>
                </p>
            }
        });
        let options = edit.endpoints.with_value(|all| {
            all.iter()
                .map(|e| {
                    let value = format!("{}|{}", e.bot_id, e.alias);
                    let selected = value == current;
                    view! { <option value=value selected=selected>{format!("{} /{}", e.bot_id, e.alias)}</option> }
                })
                .collect_view()
        });
        let pick = move |value: String| {
            let Some(base) = base else { return };
            let Some(endpoint) = edit.endpoints.with_value(|all| all.iter().find(|e| format!("{}|{}", e.bot_id, e.alias) == value).cloned()) else { return };
            let change = Rebind { map: row_map.clone(), base, row: row_item.clone(), endpoint: Some(endpoint), was: was.clone() };
            edit.rebind.run((i, Some(change)));
        };
        view! {
            <div class="mt-2 rounded border border-sky-100 bg-sky-50 px-2 py-1.5 text-xs" data-testid="loop-binding">
                {bound_view}
                <label class="mt-1 block">
                    <span class="sr-only">{l(K::LoopBindTo)}</span>
                    <select class="w-full rounded border border-slate-300 bg-white px-1 py-0.5 text-xs" data-testid="loop-bind-select"
                        disabled=move || edit.busy.get() on:change=move |ev| pick(event_target_value(&ev))>
                        <option value="" selected=current.is_empty()>{l(K::LoopBindTo)}</option>
                        {options}
                    </select>
                </label>
                <p class="mt-1 text-slate-500">{move || t(locale.get(), K::LoopDragHint)}</p>
            </div>
        }
    });
    let gap = node.gap.map(|g| view! { <p class="mt-2 rounded bg-rose-50 px-2 py-1 text-xs text-rose-800" data-testid="loop-gap-note">{l(gap_keys(g).1)}</p> });
    view! {
        <aside class="rounded border border-slate-200 bg-white p-3 text-sm shadow" data-testid="loop-panel" data-node=node.key.clone()>
            <div class="flex items-start justify-between gap-2">
                <div class="min-w-0">
                    <div class="text-[11px] font-medium uppercase text-slate-500">{l(kind_key(node.kind))}</div>
                    <div class="break-words font-medium text-slate-900" data-testid="loop-panel-label">{node.label.clone()}</div>
                    <div class="truncate text-xs text-slate-500" title=subtitle.clone()>
                        {node.kind.in_map().then(|| view! { {l(K::LoopInMap)}": " })}{subtitle.clone()}
                    </div>
                </div>
                <button type="button" class="px-1 text-slate-500" aria-label=l(K::MapClose) on:click=move |_| on_close.run(())>"×"</button>
            </div>
            {gap}
            {live}
            {binding}
            <div class="mt-2 flex flex-wrap gap-x-3 gap-y-1 text-xs">{actions}</div>
            {up}
            {down}
        </aside>
    }
}

/// The selected link, a communication row's binding: both ends, and
/// unbinding it (also Delete/Backspace on the canvas).
#[component]
fn LinkPanel(k: usize, graph: StoredValue<LoopGraph>, edit: Edit, select: Callback<usize>, unbind: Callback<usize>, on_close: Callback<()>) -> impl IntoView {
    let ends = graph.with_value(|g| g.binding_link(k).map(|(a, b)| ((a, g.nodes[a].label.clone()), (b, g.nodes[b].label.clone(), g.nodes[b].key.clone()))));
    ends.map(|((row, row_label), (endpoint, endpoint_label, key))| {
        view! {
            <aside class="rounded border border-slate-200 bg-white p-3 text-sm shadow" data-testid="loop-link-panel" data-link-to=key>
                <div class="flex items-start justify-between gap-2">
                    <div class="text-[11px] font-medium uppercase text-slate-500">{l(K::LoopLinkTitle)}</div>
                    <button type="button" class="px-1 text-slate-500" aria-label=l(K::MapClose) on:click=move |_| on_close.run(())>"×"</button>
                </div>
                <p class="mt-1 break-words text-xs">
                    <button type="button" class=LINK on:click=move |_| select.run(row)>{row_label}</button>
                    " → "
                    <button type="button" class=LINK on:click=move |_| select.run(endpoint)>{endpoint_label}</button>
                </p>
                <button type="button" class=format!("{BUTTON} mt-2") data-testid="loop-unbind" disabled=move || edit.busy.get()
                    on:click=move |_| unbind.run(k)>{l(K::LoopUnbind)}</button>
                <p class="mt-1 text-xs text-slate-500">{l(K::LoopLinkHint)}</p>
            </aside>
        }
    })
}
