//! The ComOps loop view (`/maps/loop?project=…`, SPEC §6): a project's
//! CJM stages, communication rows, blueprint stages and cells,
//! integration points, endpoints and scenarios on one read-only SVG
//! canvas, in columns (`loop_model`), with every stored link.
//!
//! Selecting a node (click, or the arrow keys on the focused canvas)
//! lights up its chain — everything upstream and downstream of it — and
//! opens a side panel with its details, its links (each selects that
//! node: the loop is navigable both ways) and where to open it: the map
//! editor, the endpoint, its docs and traces, the scenario editor. Enter
//! opens, Escape clears, double-click opens. Gaps are marked on their
//! nodes and counted at the top; a count cycles through its nodes.
//!
//! Cheap on a few hundred nodes: positions never change, so nodes and
//! links are rendered once, and a selection only re-evaluates each one's
//! class from the one chain memo. Zoom and pan move a single transform
//! (`components::canvas::viewport` does the arithmetic). Every role that
//! may view reads it; editing links stays in the map editor.

use super::loop_model::{parse_loop_page, Dir, Gap, Kind, LoopGraph, Node, NODE_H, NODE_W};
use crate::api::maps::{list_maps, map_endpoints, project_loop, MapRow};
use crate::api::projects::list_projects;
use crate::components::canvas::viewport;
use crate::components::{focus_without_scrolling, format_millis, l, load_error, loading};
use crate::i18n::{t, t1, use_locale, K};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

const W: f64 = NODE_W;
const H: f64 = NODE_H;
const BUTTON: &str = "rounded border border-slate-300 bg-white px-2 py-0.5 text-xs hover:bg-slate-100";
const LINK: &str = "text-sky-800 hover:underline";

/// `/maps/loop`, `?project=…` (else the first project).
#[component]
pub fn LoopViewPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let project_param = move || query.with(|q| q.get("project").unwrap_or_default());
    let page = Resource::new(project_param, |wanted| async move {
        let projects = list_projects().await?;
        let Some(project) = projects.iter().find(|p| p.id.to_string() == wanted).or(projects.first()).map(|p| p.id.to_string()) else {
            return Ok(None);
        };
        let view = project_loop(project.clone()).await?;
        let endpoints = map_endpoints(project.clone()).await?;
        let maps = list_maps(project.clone()).await?;
        Ok::<_, crate::error::AppError>(Some((project, view, endpoints, maps)))
    });
    view! {
        <div class="mb-3 flex flex-wrap items-start justify-between gap-4">
            <div>
                <h1 class="text-xl font-semibold" data-testid="loop-title">{l(K::LoopTitle)}</h1>
                <p class="text-slate-600">{l(K::LoopIntro)}</p>
            </div>
            <a class=BUTTON href=move || format!("/maps?project={}", project_param()) data-testid="loop-back">{l(K::LoopBack)}</a>
        </div>
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(Some((_, text, endpoints, maps))) => {
                        let graph = LoopGraph::build(&parse_loop_page(&text), &endpoints);
                        if graph.nodes.is_empty() {
                            view! { <p class="text-slate-500" data-testid="loop-empty">{l(K::LoopEmpty)}</p> }.into_any()
                        } else {
                            view! { <LoopCanvas graph maps/> }.into_any()
                        }
                    }
                    Ok(None) => view! { <p class="text-slate-500" data-testid="loop-empty">{l(K::LoopEmpty)}</p> }.into_any(),
                    Err(err) => load_error(err, locale.get_untracked()),
                }
            })}
        </Transition>
    }
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

#[component]
fn LoopCanvas(graph: LoopGraph, maps: Vec<MapRow>) -> impl IntoView {
    let locale = use_locale();
    let navigate = use_navigate();
    let counts = graph.gap_counts();
    let dangling = graph.dangling;
    let graph = StoredValue::new(graph);
    let maps = StoredValue::new(maps);
    let selected = RwSignal::new(None::<usize>);
    let chain = Memo::new(move |_| selected.get().map(|i| graph.with_value(|g| g.chain(i))));
    let pan = RwSignal::new((0.0, 0.0));
    let zoom = RwSignal::new(1.0);
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let wrapper = NodeRef::<leptos::html::Div>::new();
    // A pan in progress: where the pointer and the pan started, and whether it moved.
    let panning = StoredValue::new(None::<((f64, f64), (f64, f64), bool)>);

    // Before the canvas is laid out it has no size: a usual one stands in.
    let size = move || match svg.get_untracked().map(|el| (el.client_width(), el.client_height())) {
        Some((w, h)) if w > 50 && h > 50 => (w as f64, h as f64),
        _ => (1000.0, 600.0),
    };
    let fit = move || {
        let (w, h) = graph.with_value(|g| g.size);
        let (p, k) = viewport::fit((0.0, 0.0, w, h), size(), 1.2);
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
        let (x, y) = graph.with_value(|g| g.nodes[i].at);
        pan.set(viewport::reveal(pan.get_untracked(), zoom.get_untracked(), (x, y, W, H), size()));
    };
    let open = Callback::new(move |i: usize| {
        let href = graph.with_value(|g| g.nodes[i].href());
        navigate(&href, Default::default());
    });
    // The canvas is created before it is attached (and laid out): fit on
    // the next frame.
    Effect::new(move |_| {
        if svg.get().is_some() {
            request_animation_frame(fit);
        }
    });

    let on_pointerdown = move |ev: leptos::ev::PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        let target = event_target::<leptos::web_sys::Element>(&ev);
        let hit = target.closest("[data-index]").ok().flatten().and_then(|el| el.get_attribute("data-index")).and_then(|v| v.parse::<usize>().ok());
        focus_without_scrolling(wrapper);
        match hit {
            Some(i) => {
                selected.set(Some(i));
                panning.set_value(None);
            }
            None => {
                if let Some(el) = svg.get_untracked() {
                    let _ = el.set_pointer_capture(ev.pointer_id());
                }
                panning.set_value(Some(((ev.client_x() as f64, ev.client_y() as f64), pan.get_untracked(), false)));
            }
        }
    };
    let on_pointermove = move |ev: leptos::ev::PointerEvent| {
        let Some((from, start, _)) = panning.get_value() else { return };
        let (dx, dy) = (ev.client_x() as f64 - from.0, ev.client_y() as f64 - from.1);
        if dx.abs() + dy.abs() > 3.0 {
            panning.set_value(Some((from, start, true)));
            pan.set((start.0 + dx, start.1 + dy));
        }
    };
    let on_pointerup = move |_: leptos::ev::PointerEvent| {
        // A click on empty space (no drag) clears the selection.
        if let Some((_, _, false)) = panning.get_value() {
            selected.set(None);
        }
        panning.set_value(None);
    };
    let on_wheel = move |ev: leptos::ev::WheelEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        let (ox, oy) = svg.get_untracked().map_or((0.0, 0.0), |el| {
            let r = el.get_bounding_client_rect();
            (r.left(), r.top())
        });
        #[cfg(not(feature = "hydrate"))]
        let (ox, oy) = (0.0, 0.0);
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
            "Escape" => selected.set(None),
            "+" | "=" => zoom_by(1.2),
            "-" | "_" => zoom_by(1.0 / 1.2),
            "0" => fit(),
            _ => return,
        }
        ev.prevent_default();
    };

    let (nodes, edges, columns) = graph.with_value(|g| {
        let edges: Vec<(usize, String)> = g.edges.iter().enumerate().map(|(k, &(a, b))| (k, edge_path(g.nodes[a].at, g.nodes[b].at))).collect();
        let columns: Vec<(Kind, f64, usize)> = g.columns.iter().map(|&(kind, x)| (kind, x, g.nodes.iter().filter(|n| n.kind == kind).count())).collect();
        (g.nodes.clone(), edges, columns)
    });
    let (world_w, world_h) = graph.with_value(|g| g.size);

    let edge_views = edges
        .into_iter()
        .map(|(k, d)| {
            let state = move || chain.with(|c| c.as_ref().map(|c| c.edges[k]));
            view! {
                <path d=d stroke-width=move || if state() == Some(true) { "2.5" } else { "1.2" }
                    data-on-chain=move || if state() == Some(true) { "true" } else { "false" }
                    class=move || match state() {
                        Some(true) => "fill-none stroke-sky-600",
                        Some(false) => "fill-none stroke-slate-300 opacity-40",
                        None => "fill-none stroke-slate-400",
                    }/>
            }
        })
        .collect_view();
    let node_views = nodes.into_iter().enumerate().map(|(i, node)| node_view(i, node, selected, chain, open)).collect_view();
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

    let panel = move || {
        let i = selected.get()?;
        Some(view! { <SidePanel i graph maps select=Callback::new(select) on_close=Callback::new(move |_: ()| selected.set(None))/> })
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
        <div class="relative min-w-0" data-testid="loop-view">
            <div class="mb-1 flex items-center gap-1" role="toolbar">
                <button type="button" class=BUTTON title="0" data-testid="canvas-fit" on:click=move |_| fit()>{l(K::CanvasFit)}</button>
                <button type="button" class=BUTTON title="−" aria-label=l(K::CanvasZoomOut) on:click=move |_| zoom_by(1.0 / 1.2)>"−"</button>
                <span class="w-10 text-center text-[11px] tabular-nums text-slate-500" data-testid="canvas-zoom">{move || format!("{:.0}%", zoom.get() * 100.0)}</span>
                <button type="button" class=BUTTON title="+" aria-label=l(K::CanvasZoomIn) on:click=move |_| zoom_by(1.2)>"+"</button>
                <span class="ml-2 text-[11px] text-slate-500" data-testid="loop-chain-count">
                    {move || chain.with(|c| c.as_ref().map(|c| t1(locale.get(), K::LoopOnChain, c.nodes.iter().filter(|on| **on).count())))}
                </span>
            </div>
            <div node_ref=wrapper tabindex="0" data-testid="loop-canvas" aria-label=l(K::LoopCanvasLabel)
                class="relative overflow-hidden rounded border border-slate-200 bg-slate-50 outline-none focus-visible:ring-2 focus-visible:ring-sky-500"
                on:keydown=on_keydown>
                <svg node_ref=svg class="block h-[72vh] min-h-96 w-full touch-none select-none"
                    on:pointerdown=on_pointerdown on:pointermove=on_pointermove on:pointerup=on_pointerup on:wheel=on_wheel>
                    <g data-testid="loop-world" data-width=world_w data-height=world_h
                        transform=move || { let (x, y) = pan.get(); format!("translate({x:.1},{y:.1}) scale({:.3})", zoom.get()) }>
                        <g>{headers}</g>
                        <g>{edge_views}</g>
                        <g>{node_views}</g>
                    </g>
                </svg>
            </div>
            <p class="mt-1 text-[11px] text-slate-500">{l(K::LoopHint)}</p>
            <div class="absolute right-2 top-9 z-10 max-h-[calc(72vh-1rem)] w-[22rem] max-w-[80%] overflow-y-auto" aria-live="polite">{panel}</div>
        </div>
    }
}

/// One node: its outline, label and second line, the selection ring and
/// the gap mark.
fn node_view(i: usize, node: Node, selected: RwSignal<Option<usize>>, chain: Memo<Option<super::loop_model::Chain>>, open: Callback<usize>) -> impl IntoView {
    let locale = use_locale();
    let on_chain = move || chain.with(|c| c.as_ref().map(|c| c.nodes[i]));
    let is_selected = move || selected.get() == Some(i);
    let (x, y) = node.at;
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
    view! {
        <g data-node=node.key.clone() data-index=i data-kind=node.kind.as_str() data-gap=gap.map(Gap::as_str)
            data-live=node.live.as_ref().map(|l| l.calls.to_string())
            data-on-chain=move || if on_chain() == Some(true) { "true" } else { "false" }
            data-selected=move || if is_selected() { "true" } else { "false" }
            transform=format!("translate({x:.0},{y:.0})") class="cursor-pointer"
            class=("opacity-25", move || on_chain() == Some(false))
            on:dblclick=move |_| open.run(i)>
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
        </g>
    }
}

/// The selected node's details, links and where to open it.
#[component]
fn SidePanel(i: usize, graph: StoredValue<LoopGraph>, maps: StoredValue<Vec<MapRow>>, select: Callback<usize>, on_close: Callback<()>) -> impl IntoView {
    let (node, links) = graph.with_value(|g| {
        let links: Vec<(usize, bool, Kind, String)> = g.neighbours(i).into_iter().map(|(k, down)| (k, down, g.nodes[k].kind, g.nodes[k].label.clone())).collect();
        (g.nodes[i].clone(), links)
    });
    let map_title = maps.with_value(|m| m.iter().find(|m| m.id == node.map).map(|m| m.title.clone()));
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
        _ => map_title.unwrap_or_else(|| node.map.clone()),
    };
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
            <div class="mt-2 flex flex-wrap gap-x-3 gap-y-1 text-xs">{actions}</div>
            {up}
            {down}
        </aside>
    }
}
