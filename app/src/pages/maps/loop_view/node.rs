//! One node of the loop as drawn: its kind's outline, label and second
//! line, the selection ring and the gap mark; for editors a communication
//! row's ● port (drag it, or the row, onto an endpoint, a CJM stage or a
//! blueprint cell) and, during such a drag, the rings of the nodes it may drop on; the
//! trace overlay's figures in place of the second line while it is on.
//! Also the words and colours of kinds and gaps, shared with the legend
//! and the panels.

use super::super::loop_model::{Gap, Kind, Node, NODE_H as H, NODE_W as W};
use super::canvas::Canvas;
use super::overlay::node_figures;
use crate::i18n::{t, t1, use_locale, K};
use leptos::prelude::*;

pub(super) fn kind_key(kind: Kind) -> K {
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
pub(super) fn gap_keys(gap: Gap) -> (K, K) {
    match gap {
        Gap::NoRow => (K::LoopGapNoRow, K::LoopGapNoRowOne),
        Gap::NoEndpoint => (K::LoopGapNoEndpoint, K::LoopGapNoEndpointOne),
        Gap::NotLive => (K::LoopGapNotLive, K::LoopGapNotLiveOne),
        Gap::NoScenario => (K::LoopGapNoScenario, K::LoopGapNoScenarioOne),
        Gap::Unused => (K::LoopGapUnused, K::LoopGapUnusedOne),
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
pub(super) fn shape(kind: Kind, w: f64, h: f64) -> AnyView {
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

/// One node: its outline, label and second line, the selection ring, the
/// gap mark; for editors a communication row's ● port (drag it, or the
/// row, onto an endpoint, a CJM stage or a blueprint cell) and, during a
/// drag, the nodes it may drop on.
pub(super) fn node_view(i: usize, node: Node, at: RwSignal<(f64, f64)>, canvas: Canvas) -> impl IntoView {
    let locale = use_locale();
    let Canvas { selected, picked, chain, dragged, target, open, editable, overlay, .. } = canvas;
    let on_chain = move || chain.with(|c| c.as_ref().map(|c| c.nodes[i]));
    let is_selected = move || selected.get() == Some(i);
    let is_picked = move || picked.with(|p| p.contains(&i));
    let label = cut(&node.label, 26);
    let second = node.clone();
    let sub = move || {
        let loc = locale.get();
        match (&second.kind, &second.live) {
            (Kind::Endpoint, Some(live)) => format!("{} · {} · {}", second.bot, t1(loc, K::MapCalls, live.calls), t1(loc, K::MapErrors, live.errors)),
            (Kind::Endpoint | Kind::Scenario, _) => second.bot.clone(),
            _ => t(loc, kind_key(second.kind)).to_string(),
        }
    };
    let gap = node.gap;
    let draggable = editable && node.kind == Kind::Row;
    // During a drag a live endpoint, a CJM stage or a blueprint cell is a
    // place to drop; the one under the pointer is lit.
    let droppable = editable && node.takes_rows();
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
            data-picked=move || if is_picked() { "true" } else { "false" }
            data-drop-target=move || droppable.then(|| is_target().to_string())
            transform=move || { let (x, y) = at.get(); format!("translate({x:.0},{y:.0})") } class=if draggable { "cursor-grab" } else { "cursor-pointer" }
            class=("opacity-25", move || on_chain() == Some(false) && dragged.get().is_none())
            on:dblclick=move |_| open.run(i)>
            {drop_ring}
            <rect x="-4" y="-4" width=W + 8.0 height=H + 8.0 rx="9" stroke-width="2.5"
                class=move || if is_selected() { "fill-none stroke-sky-500" } else { "hidden" }/>
            <rect x="-7" y="-7" width=W + 14.0 height=H + 14.0 rx="11" stroke-width="1.5" stroke-dasharray="4 2"
                class=move || if is_picked() { "fill-sky-100/60 stroke-sky-600" } else { "hidden" }/>
            {shape(node.kind, W, H)}
            {gap.map(|g| view! {
                <g data-testid="gap-mark" data-gap-kind=g.as_str()>
                    <rect x="-2" y="-2" width=W + 4.0 height=H + 4.0 rx="7" class="fill-none stroke-rose-500" stroke-width="1.5" stroke-dasharray="4 3"/>
                    <circle cx=W - 4.0 cy="0" r="7" class="fill-rose-600"/>
                    <text x=W - 4.0 y="4" text-anchor="middle" class="fill-white text-[11px] font-bold">"!"</text>
                </g>
            })}
            <text x="14" y="17" class="fill-slate-900 text-[12px] font-medium">{label}</text>
            // The trace overlay's figures take the second line's place.
            <text x="14" y="32" class="fill-slate-500 text-[10px]" class:hidden=move || overlay.of(i).is_some()>{sub}</text>
            {node_figures(i, overlay)}
            {port}
        </g>
    }
}
