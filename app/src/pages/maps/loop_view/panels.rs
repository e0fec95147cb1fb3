//! The side panels of the loop: the selected node's details, its links
//! (each selects that node: the loop is navigable both ways), where to
//! open it, and for editors a communication row's binding, stages and
//! cells, deleting a stage or row from its map, adding a communication
//! row for a CJM stage or bound to an endpoint, a stage after a CJM or
//! blueprint stage, an endpoint's integration point and scenario,
//! and creating an endpoint the maps plan; or the selected link (a
//! row's binding, stage or cell) and removing it.

use super::super::loop_model::{Kind, LinkName, LoopGraph};
use super::node::{gap_keys, kind_key};
use super::{Rebind, BUTTON, LINK};
use crate::api::maps::{BindableEndpoint, MapRow};
use crate::api::scenarios::list_scenarios;
use comops_core::map::MapKind;
use crate::components::{format_millis, l};
use crate::i18n::{t, t1, use_locale, K};
use leptos::prelude::*;

/// What the side panels need to change bindings.
#[derive(Clone, Copy)]
pub(super) struct Edit {
    pub editable: bool,
    pub busy: Signal<bool>,
    pub endpoints: StoredValue<Vec<BindableEndpoint>>,
    /// (row, `Some(change)` to save as it is, `None` to unbind the row).
    pub rebind: Callback<(usize, Option<Rebind>)>,
    /// Deletes a node's item from its map.
    pub delete: Callback<usize>,
    /// (CJM stage or endpoint, communication map, event): a new row for
    /// the stage, or bound to the endpoint.
    pub add_row: Callback<(usize, String, String)>,
    /// (CJM or blueprint stage, name): a new stage after it in its map.
    pub add_stage: Callback<(usize, String)>,
    /// (endpoint, integration-points table): its row in that table.
    pub add_point: Callback<(usize, String)>,
    /// (row, CJM stage or blueprint cell, `true` to link, `false` to unlink).
    pub link: Callback<(usize, usize, bool)>,
    /// (endpoint, the scenario it is to start; empty: none).
    pub set_scenario: Callback<(usize, String)>,
    /// Creates the endpoint a node draws that the maps bind to but no bot
    /// has (a "not live" gap), as the maps plan it.
    pub create_planned: Callback<usize>,
}

/// The selected node's details, links and where to open it; for editors,
/// a communication row's binding (unbind, or bind to any endpoint of the
/// project), its CJM stages and blueprint cells (unlink, or link to any
/// drawn), a new row for a CJM stage or an endpoint, a new stage after a
/// CJM or blueprint stage, an endpoint's integration point and scenario,
/// creating an endpoint rows name and no bot has (on a bot of the
/// project; on another bot, why not), and deleting a CJM or
/// blueprint stage or a row.
#[component]
pub(super) fn SidePanel(i: usize, graph: StoredValue<LoopGraph>, maps: StoredValue<Vec<MapRow>>, edit: Edit, select: Callback<usize>, on_close: Callback<()>) -> impl IntoView {
    let locale = use_locale();
    let (node, links, bound) = graph.with_value(|g| {
        let links: Vec<(usize, bool, Kind, LinkName)> = g.neighbours(i).into_iter().map(|(k, down)| (k, down, g.nodes[k].kind, g.link_name(k, None))).collect();
        let bound = g.bound_endpoint(i).map(|e| (e, g.nodes[e].bot.clone(), g.nodes[e].name.clone()));
        (g.nodes[i].clone(), links, bound)
    });
    let map = maps.with_value(|m| m.iter().find(|m| m.id == node.map).map(|m| (m.title.clone(), m.version)));
    // An endpoint no integration point describes yet: its row in a table.
    let pointless = !links.iter().any(|l| l.2 == Kind::IntegrationRow);
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
                                    <span class="text-slate-500">{l(kind_key(kind))}": "</span>{move || label.text(locale.get())}
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
                <a class=LINK href=crate::components::call_figures::docs_href(&bot, &alias) rel="external" data-testid="loop-docs">{l(K::MapDocs)}</a>
                <a class=LINK href=crate::components::call_figures::traces_href(&bot, &alias) data-testid="loop-traces">{l(K::Traces)}</a>
            }
            .into_any()
        }
        Kind::Endpoint => ().into_any(),
        Kind::Scenario => view! { <a class=LINK href=node.href() data-testid="loop-open">{l(K::LoopOpenScenario)}</a> }.into_any(),
        _ => view! { <a class=LINK href=node.href() data-testid="loop-open">{l(K::LoopOpenItem)}</a> }.into_any(),
    };
    let live = node.live.clone().map(|live| {
        let (calls, errors) = (live.calls, live.errors);
        view! {
            <p class="mt-1 text-xs text-slate-700" data-testid="loop-live">
                {move || t1(locale.get(), K::MapCalls, calls)}" · "{move || t1(locale.get(), K::MapErrors, errors)}" · "{l(K::LoopLastCall)}": "
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
        let was_bot = bound.as_ref().map(|b| b.1.clone()).unwrap_or_default();
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
                    let value = choice(e);
                    let selected = value == current;
                    view! { <option value=value selected=selected>{format!("{} /{}", e.bot_id, e.alias)}</option> }
                })
                .collect_view()
        });
        let pick = move |value: String| {
            let Some(base) = base else { return };
            let Some(endpoint) = edit.endpoints.with_value(|all| all.iter().find(|e| choice(e) == value).cloned()) else { return };
            let change = Rebind { map: row_map.clone(), base, row: row_item.clone(), endpoint: Some(endpoint), was: was.clone(), was_bot: was_bot.clone(), restore: None, expect: None };
            edit.rebind.run((i, Some(change)));
        };
        // What the select shows: the binding as drawn (the prompt when it
        // names an endpoint that does not exist), back to it after a pick
        // (a refused save leaves the drawing as it was).
        let drawn = if edit.endpoints.with_value(|all| all.iter().any(|e| choice(e) == current)) { current.clone() } else { String::new() };
        let none_bound = drawn.is_empty();
        let shown = RwSignal::new(drawn.clone());
        view! {
            <div class="mt-2 rounded border border-sky-100 bg-sky-50 px-2 py-1.5 text-xs" data-testid="loop-binding">
                {bound_view}
                <label class="mt-1 block">
                    <span class="sr-only">{l(K::LoopBindTo)}</span>
                    <select class="w-full rounded border border-slate-300 bg-white px-1 py-0.5 text-xs" data-testid="loop-bind-select"
                        prop:value=move || shown.get()
                        disabled=move || edit.busy.get() on:change=move |ev| { pick(event_target_value(&ev)); shown.set(drawn.clone()); }>
                        <option value="" selected=none_bound>{l(K::LoopBindTo)}</option>
                        {options}
                    </select>
                </label>
                <p class="mt-1 text-slate-500">{move || t(locale.get(), K::LoopDragHint)}</p>
            </div>
        }
    });
    // A row's stages and cells, where the project has any to link.
    let links_to = |kind: Kind| {
        let any = graph.with_value(|g| g.nodes.iter().any(|n| n.kind == kind));
        (edit.editable && node.kind == Kind::Row && any).then(|| row_links(i, kind, graph, maps, edit, select))
    };
    let (stages, cells) = (links_to(Kind::Stage), links_to(Kind::Cell));
    // A new row for a CJM stage, or bound to an endpoint that exists.
    let new_row = match node.kind {
        Kind::Stage => Some(K::LoopNewRow),
        Kind::Endpoint if node.live.is_some() => Some(K::LoopNewRowForEndpoint),
        _ => None,
    }
    .filter(|_| edit.editable)
    .map(|title| new_row_form(i, title, maps, edit));
    let new_stage = (edit.editable && matches!(node.kind, Kind::Stage | Kind::BlueprintStage)).then(|| new_stage_form(i, edit));
    let new_point = (edit.editable && node.kind == Kind::Endpoint && node.live.is_some() && pointless).then(|| new_point_form(i, maps, edit));
    let scenario = (edit.editable && node.kind == Kind::Endpoint && node.live.is_some()).then(|| endpoint_scenario(i, &node.bot, &node.name, edit));
    // An endpoint the maps bind to that no bot has: made as they plan it,
    // when its bot is one of the project's (else the server refuses it).
    let create = (edit.editable && node.kind == Kind::Endpoint && node.live.is_none()).then(|| {
        if graph.with_value(|g| g.project_bots.contains(&node.bot)) {
            view! {
                <div class="mt-2 rounded border border-sky-100 bg-sky-50 px-2 py-1.5 text-xs" data-testid="loop-create-endpoint">
                    <button type="button" class=BUTTON data-testid="loop-create-endpoint-button" disabled=move || edit.busy.get()
                        on:click=move |_| edit.create_planned.run(i)>{l(K::LoopCreatePlanned)}</button>
                    <p class="mt-1 text-slate-600">{l(K::LoopCreatePlannedHint)}</p>
                </div>
            }
            .into_any()
        } else {
            view! {
                <p class="mt-2 rounded border border-amber-100 bg-amber-50 px-2 py-1.5 text-xs text-slate-700" data-testid="loop-foreign-bot">
                    {let bot = node.bot.clone(); move || t1(locale.get(), K::LoopBotOutside, &bot)}
                </p>
            }
            .into_any()
        }
    });
    let delete = (edit.editable && node.kind.deletable()).then(|| {
        view! {
            <button type="button" class=format!("{BUTTON} text-rose-800") data-testid="loop-delete" title=l(K::LoopDeleteHint)
                disabled=move || edit.busy.get() on:click=move |_| edit.delete.run(i)>{l(K::LoopDelete)}</button>
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
            {create}
            {scenario}
            {binding}
            {stages}
            {cells}
            {new_row}
            {new_stage}
            {new_point}
            <div class="mt-2 flex flex-wrap items-center gap-x-3 gap-y-1 text-xs">{actions}{delete}</div>
            {up}
            {down}
        </aside>
    }
}

/// Row `row`'s links of one kind — its CJM stages (`Kind::Stage`) or its
/// blueprint cells (`Kind::Cell`) — each to unlink, and every other such
/// node drawn to link it to: what dragging the row onto one does, by
/// keyboard. A stage is named by itself, a cell by its blueprint stage,
/// lane and text; either with its map's title when the project has
/// several maps of that kind.
fn row_links(row: usize, kind: Kind, graph: StoredValue<LoopGraph>, maps: StoredValue<Vec<MapRow>>, edit: Edit, select: Callback<usize>) -> impl IntoView {
    let locale = use_locale();
    let (title, prompt, word, tint) = match kind {
        Kind::Cell => (K::LoopRowCells, K::LoopLinkCellTo, "cell", "border-violet-100 bg-violet-50 text-violet-900"),
        _ => (K::LoopRowStages, K::LoopLinkStageTo, "stage", "border-emerald-100 bg-emerald-50 text-emerald-900"),
    };
    let (linked, others) = graph.with_value(|g| {
        let linked: Vec<usize> = g.neighbours(row).into_iter().map(|(k, _)| k).filter(|&k| g.nodes[k].kind == kind).collect();
        let all: Vec<usize> = (0..g.nodes.len()).filter(|&k| g.nodes[k].kind == kind).collect();
        let several = all.iter().any(|&k| g.nodes[k].map != g.nodes[all[0]].map);
        let name = |k: usize| g.link_name(k, several.then(|| maps.with_value(|m| m.iter().find(|m| m.id == g.nodes[k].map).map(|m| m.title.clone()))).flatten());
        let (on, off): (Vec<usize>, Vec<usize>) = all.into_iter().partition(|k| linked.contains(k));
        (on.into_iter().map(|k| (k, name(k))).collect::<Vec<_>>(), off.into_iter().map(|k| (k, name(k))).collect::<Vec<_>>())
    });
    let linked = linked
        .into_iter()
        .map(|(k, name)| {
            view! {
                <li class="flex items-center justify-between gap-2">
                    <button type="button" class=format!("{LINK} truncate text-left") on:click=move |_| select.run(k)>{move || name.text(locale.get())}</button>
                    <button type="button" class=BUTTON data-testid=format!("loop-unlink-{word}") disabled=move || edit.busy.get()
                        on:click=move |_| edit.link.run((row, k, false))>{l(K::LoopUnlink)}</button>
                </li>
            }
        })
        .collect_view();
    let options = others.into_iter().map(|(k, name)| view! { <option value=k.to_string()>{move || name.text(locale.get())}</option> }).collect_view();
    let pick = move |value: String| {
        if let Ok(k) = value.parse::<usize>() {
            edit.link.run((row, k, true));
        }
    };
    // Back to the prompt after a pick (a refused save leaves nothing linked).
    let shown = RwSignal::new(String::new());
    view! {
        <div class=format!("mt-2 rounded border px-2 py-1.5 text-xs {tint}") data-testid=format!("loop-row-{word}s")>
            <div class="font-medium">{l(title)}</div>
            <ul class="mt-1 space-y-0.5 text-slate-900">{linked}</ul>
            <label class="mt-1 block">
                <span class="sr-only">{l(prompt)}</span>
                <select class="w-full rounded border border-slate-300 bg-white px-1 py-0.5 text-slate-900" data-testid=format!("loop-link-{word}-select")
                    prop:value=move || shown.get()
                    disabled=move || edit.busy.get() on:change=move |ev| { pick(event_target_value(&ev)); shown.set(String::new()); }>
                    <option value="" selected=true>{l(prompt)}</option>
                    {options}
                </select>
            </label>
        </div>
    }
}

/// The scenario endpoint node `i` (`alias` of `bot`) starts, to pick from
/// the bot's scenarios (read when the panel opens) or none: saved as the
/// endpoint's next version. What the select shows goes back to what is
/// drawn after a pick (a refused save changes nothing).
fn endpoint_scenario(i: usize, bot: &str, alias: &str, edit: Edit) -> impl IntoView {
    let drawn = edit.endpoints.with_value(|all| all.iter().find(|e| e.bot_id == bot && e.alias == alias).map(|e| e.scenario.clone())).unwrap_or_default();
    // Read into a signal of the panel's own, not a resource: read under
    // the page's Transition, a resource would make the whole loop busy
    // (no edits, no Undo) until the list is in.
    let scenarios = RwSignal::new(Vec::<String>::new());
    let bot = bot.to_string();
    Effect::new(move |_| {
        let bot = bot.clone();
        leptos::task::spawn_local(async move {
            if let Ok(list) = list_scenarios(bot).await {
                // The panel may have gone meanwhile.
                let _ = scenarios.try_set(list.into_iter().map(|s| s.name).collect());
            }
        });
    });
    let shown = RwSignal::new(drawn.clone());
    let options = {
        let drawn = drawn.clone();
        move || {
            let names = scenarios.get();
            // The one drawn, also while the list is read, or when it is gone.
            let missing = (!drawn.is_empty() && !names.contains(&drawn)).then(|| drawn.clone());
            missing
                .into_iter()
                .chain(names)
                .map(|name| {
                    let selected = name == drawn;
                    view! { <option value=name.clone() selected=selected>{name.clone()}</option> }
                })
                .collect_view()
        }
    };
    view! {
        <label class="mt-2 block rounded border border-fuchsia-100 bg-fuchsia-50 px-2 py-1.5 text-xs" data-testid="loop-scenario">
            <span class="font-medium text-fuchsia-900">{l(K::LoopScenarioOf)}</span>
            // Read again once the scenarios are in: set before its options, a select shows none.
            <select class="mt-1 w-full rounded border border-slate-300 bg-white px-1 py-0.5" data-testid="loop-scenario-select"
                prop:value=move || { scenarios.track(); shown.get() }
                disabled=move || edit.busy.get()
                on:change=move |ev| { edit.set_scenario.run((i, event_target_value(&ev))); shown.set(drawn.clone()); }>
                <option value="">{l(K::LoopNoScenarioOption)}</option>
                {options}
            </select>
        </label>
    }
}

/// An endpoint as the bind select names it: `bot|alias`.
fn choice(e: &BindableEndpoint) -> String {
    format!("{}|{}", e.bot_id, e.alias)
}

/// A new communication row for node `node` (a CJM stage it zooms into,
/// or an endpoint it is bound to), under the heading `title`: the map it
/// goes in (the project's communication maps) and its event, which it
/// needs.
fn new_row_form(node: usize, title: K, maps: StoredValue<Vec<MapRow>>, edit: Edit) -> AnyView {
    let locale = use_locale();
    let choices: Vec<(String, String)> = maps.with_value(|m| m.iter().filter(|m| m.kind == MapKind::Communication).map(|m| (m.id.clone(), m.title.clone())).collect());
    let Some(first) = choices.first().map(|c| c.0.clone()) else {
        return view! { <p class="mt-2 text-xs text-slate-500" data-testid="loop-new-row-none">{l(K::LoopNewRowNoMap)}</p> }.into_any();
    };
    let map = RwSignal::new(first);
    let event = RwSignal::new(String::new());
    let add = move || {
        let text = event.get_untracked();
        if !text.trim().is_empty() && !edit.busy.get_untracked() {
            edit.add_row.run((node, map.get_untracked(), text));
        }
    };
    let options = choices.into_iter().map(|(id, title)| view! { <option value=id>{title}</option> }).collect_view();
    view! {
        <form class="mt-2 space-y-1 rounded border border-emerald-100 bg-emerald-50 px-2 py-1.5 text-xs" data-testid="loop-new-row"
            on:submit=move |ev| { ev.prevent_default(); add(); }>
            <div class="font-medium text-emerald-900">{l(title)}</div>
            <label class="block">
                <span class="text-slate-600">{l(K::LoopNewRowMap)}</span>
                <select class="w-full rounded border border-slate-300 bg-white px-1 py-0.5" data-testid="loop-new-row-map"
                    on:change=move |ev| map.set(event_target_value(&ev))>{options}</select>
            </label>
            <label class="block">
                <span class="text-slate-600">{l(K::LoopNewRowEvent)}</span>
                <input class="w-full rounded border border-slate-300 bg-white px-1 py-0.5" data-testid="loop-new-row-event" required=true
                    prop:value=move || event.get() on:input=move |ev| event.set(event_target_value(&ev))
                    placeholder=move || t(locale.get(), K::LoopNewRowExample)/>
            </label>
            // `try_with`: a change of `busy` (the save's) can still reach
            // this button after the loop read again has replaced the panel.
            <button type="submit" class=BUTTON data-testid="loop-new-row-add"
                disabled=move || edit.busy.get() || event.try_with(|e| e.trim().is_empty()).unwrap_or(true)>{l(K::LoopNewRowAdd)}</button>
        </form>
    }
    .into_any()
}

/// A new stage after stage node `node` (a CJM's or a blueprint's), in its
/// map: its name, which it needs.
fn new_stage_form(node: usize, edit: Edit) -> impl IntoView {
    let label = view! { <span class="font-medium text-amber-900">{l(K::LoopNewStage)}</span> };
    stage_name_form(StageForm::Panel, label, edit.busy, move |name| edit.add_stage.run((node, name)))
}

/// Where a [`stage_name_form`] stands.
#[derive(Clone, PartialEq)]
pub(super) enum StageForm {
    /// In a stage's panel (`loop-new-stage`): after that stage.
    Panel,
    /// Above the canvas (`loop-first-stage`, `data-map`): the first of
    /// this map.
    First { map: String },
}

/// A stage's name under `label`, then Enter or "Add stage": `add` gets it
/// unless it is blank or a save is on its way. Its test ids are the
/// form's, `…-name` and `…-add`.
pub(super) fn stage_name_form(at: StageForm, label: impl IntoView + 'static, busy: Signal<bool>, add: impl Fn(String) + 'static) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let (form, label_class, input, id, map) = match at {
        StageForm::Panel => ("mt-2 space-y-1 rounded border border-amber-100 bg-amber-50 px-2 py-1.5 text-xs", "block", "w-full ", "loop-new-stage", None),
        StageForm::First { map } => ("mb-2 flex flex-wrap items-center gap-2 rounded border border-amber-100 bg-amber-50 px-2 py-1 text-xs", "flex items-center gap-2", "", "loop-first-stage", Some(map)),
    };
    let submit = move || {
        let text = name.get_untracked();
        if !text.trim().is_empty() && !busy.get_untracked() {
            add(text);
        }
    };
    view! {
        <form class=form data-testid=id data-map=map on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <label class=label_class>
                {label}
                <input class=format!("{input}rounded border border-slate-300 bg-white px-1 py-0.5") data-testid=format!("{id}-name") required=true
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            </label>
            // `try_with`: as the new row's button (the panel may be gone).
            <button type="submit" class=BUTTON data-testid=format!("{id}-add")
                disabled=move || busy.get() || name.try_with(|n| n.trim().is_empty()).unwrap_or(true)>{l(K::LoopNewStageAdd)}</button>
        </form>
    }
}

/// Endpoint node `node`'s row in an integration-points table (the
/// project's; a select when it has several), saying what the endpoint is.
fn new_point_form(node: usize, maps: StoredValue<Vec<MapRow>>, edit: Edit) -> AnyView {
    let choices: Vec<(String, String)> = maps.with_value(|m| m.iter().filter(|m| m.kind == MapKind::Integration).map(|m| (m.id.clone(), m.title.clone())).collect());
    let Some(first) = choices.first().map(|c| c.0.clone()) else {
        return ().into_any();
    };
    let map = RwSignal::new(first);
    let several = choices.len() > 1;
    let options = choices.into_iter().map(|(id, title)| view! { <option value=id>{title}</option> }).collect_view();
    view! {
        <div class="mt-2 space-y-1 rounded border border-teal-100 bg-teal-50 px-2 py-1.5 text-xs" data-testid="loop-new-point">
            <div class="font-medium text-teal-900">{l(K::LoopNewPoint)}</div>
            {several.then(|| view! {
                <select class="w-full rounded border border-slate-300 bg-white px-1 py-0.5" data-testid="loop-new-point-map" aria-label=l(K::LoopNewPointMap)
                    on:change=move |ev| map.set(event_target_value(&ev))>{options}</select>
            })}
            <button type="button" class=BUTTON data-testid="loop-new-point-add" disabled=move || edit.busy.get()
                on:click=move |_| edit.add_point.run((node, map.get_untracked()))>{l(K::LoopNewPointAdd)}</button>
            <p class="text-slate-600">{l(K::LoopNewPointHint)}</p>
        </div>
    }
    .into_any()
}

/// The selected link, a communication row's binding, stage or cell: both
/// ends, and removing it (also Delete/Backspace on the canvas).
#[component]
pub(super) fn LinkPanel(k: usize, graph: StoredValue<LoopGraph>, edit: Edit, select: Callback<usize>, unbind: Callback<usize>, on_close: Callback<()>) -> impl IntoView {
    let locale = use_locale();
    let ends = graph.with_value(|g| {
        let ((a, b), words) = match (g.binding_link(k), g.row_link(k)) {
            (Some(ends), _) => (ends, (K::LoopLinkTitle, K::LoopUnbind)),
            (None, Some((row, to))) if g.nodes[to].kind == Kind::Cell => ((row, to), (K::LoopLinkCellTitle, K::LoopUnlink)),
            (None, Some(ends)) => (ends, (K::LoopLinkStageTitle, K::LoopUnlink)),
            (None, None) => return None,
        };
        Some(((a, g.nodes[a].label.clone()), (b, g.link_name(b, None), g.nodes[b].key.clone()), words))
    });
    ends.map(|((row, row_label), (other, other_label, key), (title, remove))| {
        view! {
            <aside class="rounded border border-slate-200 bg-white p-3 text-sm shadow" data-testid="loop-link-panel" data-link-to=key>
                <div class="flex items-start justify-between gap-2">
                    <div class="text-[11px] font-medium uppercase text-slate-500">{l(title)}</div>
                    <button type="button" class="px-1 text-slate-500" aria-label=l(K::MapClose) on:click=move |_| on_close.run(())>"×"</button>
                </div>
                <p class="mt-1 break-words text-xs">
                    <button type="button" class=LINK on:click=move |_| select.run(row)>{row_label}</button>
                    " → "
                    <button type="button" class=LINK on:click=move |_| select.run(other)>{move || other_label.text(locale.get())}</button>
                </p>
                <button type="button" class=format!("{BUTTON} mt-2") data-testid="loop-unbind" disabled=move || edit.busy.get()
                    on:click=move |_| unbind.run(k)>{l(remove)}</button>
                <p class="mt-1 text-xs text-slate-500">{l(K::LoopLinkHint)}</p>
            </aside>
        }
    })
}
