//! Maps of a project (SPEC §6): the list, a new map, the «ТЗ» export, and
//! one map's editor.
//!
//! One job per file:
//! - this file: the list page (`/maps?project=…`) — the maps, "new map"
//!   for roles that may edit, the spec export in a printable view;
//! - [`editor`]: one map (`/maps/{id}`, `?v=3` for an old version) as an
//!   editable table, saving with a note and handling conflicts;
//! - [`history`]: versions, the side-by-side diff and restore;
//! - [`blueprint`]: the Service Blueprint drawn as lanes × stages;
//! - [`model`]: columns and new rows per kind of map, no views;
//! - [`loop_view`]: the ComOps loop (`/maps/loop?project=…`) on a
//!   read-only canvas, laid out by [`loop_model`] (no views).
//!
//! The table itself is the shared `components::editable_table`.

mod blueprint;
mod editor;
mod history;
mod loop_model;
mod loop_view;
mod model;

pub use editor::MapEditorPage;
pub use loop_view::LoopViewPage;

use crate::api::maps::{export_spec, list_maps, CreateMap, MapRow};
use crate::api::projects::list_projects;
use crate::components::form::{can, general_error, ErrorBanner};
use crate::components::{format_millis, l, load_error, loading};
use crate::i18n::{t, use_locale, K};
use comops_core::map::MapKind;
use comops_core::Permission;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

const BUTTON: &str = "rounded border border-slate-300 px-2.5 py-1 text-sm hover:bg-slate-100 disabled:opacity-50";
const PRIMARY: &str = "rounded bg-slate-900 px-3 py-1.5 text-sm text-white hover:bg-slate-700 disabled:opacity-50";
const INPUT: &str = "rounded border border-slate-300 px-2 py-1.5 text-sm";
const KINDS: [MapKind; 4] = [MapKind::Cjm, MapKind::Communication, MapKind::Blueprint, MapKind::Integration];

#[component]
pub fn MapsPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let project_param = move || query.with(|q| q.get("project").unwrap_or_default());
    let can_edit = can(Permission::EditMaps);
    // The project named in the query, else the first one.
    let page = Resource::new(project_param, |wanted| async move {
        let projects = list_projects().await?;
        let project = projects.iter().find(|p| p.id.to_string() == wanted).or(projects.first()).cloned();
        let maps = match &project {
            Some(p) => list_maps(p.id.to_string()).await?,
            None => Vec::new(),
        };
        Ok::<_, crate::error::AppError>((projects, project.map(|p| p.id.to_string()), maps))
    });
    let project_id = RwSignal::new(String::new());
    let create = ServerAction::<CreateMap>::new();
    let new_kind = RwSignal::new("cjm".to_string());
    let new_title = RwSignal::new(String::new());
    let show_new = RwSignal::new(false);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = create.value().get() {
            navigate(&format!("/maps/{id}"), Default::default());
        }
    });
    let create_error = Signal::derive(move || {
        create.value().with(|v| match v {
            Some(Err(err)) => Some(err.message(locale.get())),
            _ => None,
        })
    });
    let spec = Action::new(|project: &String| export_spec(project.clone()));
    let spec_open = RwSignal::new(false);
    let spec_error = general_error(spec.value());

    view! {
        <div class="flex flex-wrap items-start justify-between gap-4 mb-4 print:hidden">
            <div>
                <h1 class="text-xl font-semibold">{l(K::Maps)}</h1>
                <p class="text-slate-600">{l(K::SectionMaps)}</p>
            </div>
            <div class="flex gap-2">
                <a class=BUTTON href=move || format!("/maps/loop?project={}", project_id.get()) data-testid="open-loop">{l(K::LoopTitle)}</a>
                <button class=BUTTON data-testid="spec-export" on:click=move |_| {
                    spec_open.set(true);
                    spec.dispatch(project_id.get_untracked());
                }>{l(K::MapSpecExport)}</button>
                {can_edit.then(|| view! {
                    <button class=PRIMARY data-testid="new-map" on:click=move |_| show_new.update(|v| *v = !*v)>{l(K::MapNew)}</button>
                })}
            </div>
        </div>
        <ErrorBanner message=spec_error/>
        <Show when=move || spec_open.get()>
            <section class="mb-4 rounded border border-slate-200 bg-white p-4 print:border-0 print:p-0" data-testid="spec-view">
                <div class="mb-2 flex gap-2 print:hidden">
                    <button class=BUTTON on:click=move |_| print_page()>{l(K::MapPrint)}</button>
                    <button class=BUTTON on:click=move |_| spec_open.set(false)>{l(K::MapClose)}</button>
                </div>
                <pre class="whitespace-pre-wrap font-sans text-sm" data-testid="spec-markdown">
                    {move || spec.value().get().and_then(Result::ok).unwrap_or_else(|| t(locale.get(), K::Loading).to_string())}
                </pre>
            </section>
        </Show>
        <Show when=move || show_new.get()>
            <form class="mb-4 flex flex-wrap items-end gap-3 rounded border border-slate-200 bg-white p-3 print:hidden" data-testid="map-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    create.dispatch(CreateMap { project_id: project_id.get_untracked(), kind: new_kind.get_untracked(), title: new_title.get_untracked() });
                }>
                <label class="flex flex-col gap-1">
                    <span class="text-xs font-medium text-slate-600">{l(K::MapKind)}</span>
                    <select name="kind" class=INPUT prop:value=move || new_kind.get() on:change=move |ev| new_kind.set(event_target_value(&ev))>
                        {KINDS.into_iter().map(|k| view! { <option value=k.as_str()>{l(model::kind_label(k))}</option> }).collect_view()}
                    </select>
                </label>
                <label class="flex flex-col gap-1 grow">
                    <span class="text-xs font-medium text-slate-600">{l(K::MapTitle)}</span>
                    <input name="title" class=INPUT required bind:value=new_title/>
                </label>
                <button type="submit" class=PRIMARY data-testid="create-map">{l(K::MapCreate)}</button>
                <ErrorBanner message=create_error/>
            </form>
        </Show>
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                match page.await {
                    Ok((projects, project, maps)) => {
                        project_id.set(project.clone().unwrap_or_default());
                        view! { <MapList projects project=project.unwrap_or_default() maps/> }.into_any()
                    }
                    Err(err) => load_error(err, locale.get_untracked()),
                }
            })}
        </Transition>
    }
}

#[component]
fn MapList(projects: Vec<comops_core::Project>, project: String, maps: Vec<MapRow>) -> impl IntoView {
    let empty = maps.is_empty();
    let options = projects
        .into_iter()
        .map(|p| {
            let id = p.id.to_string();
            let selected = id == project;
            view! { <option value=id selected=selected>{p.name}</option> }
        })
        .collect_view();
    let navigate = use_navigate();
    let rows = maps
        .into_iter()
        .map(|m| {
            let href = format!("/maps/{}", m.id);
            view! {
                <tr class="border-t border-slate-100 hover:bg-slate-50" data-map=m.id.clone()>
                    <td class="px-3 py-2"><a class="text-sky-800 hover:underline" href=href data-testid="open-map">{m.title}</a></td>
                    <td class="px-3 py-2 text-slate-600">{l(model::kind_label(m.kind))}</td>
                    <td class="px-3 py-2">{format!("v{}", m.version)}</td>
                    <td class="px-3 py-2">{m.rows}</td>
                    <td class="px-3 py-2 whitespace-nowrap text-xs text-slate-600">{format_millis(m.updated_at)}" · "{m.author}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <label class="mb-3 flex items-center gap-2 text-sm print:hidden">
            <span class="text-slate-600">{l(K::MapProject)}</span>
            <select class=INPUT name="project" on:change=move |ev| navigate(&format!("/maps?project={}", event_target_value(&ev)), Default::default())>
                {options}
            </select>
        </label>
        <div class="overflow-x-auto rounded border border-slate-200 bg-white print:hidden">
            <table class="w-full text-left text-sm" data-testid="maps-table">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th class="px-3 py-2">{l(K::MapTitle)}</th>
                        <th class="px-3 py-2">{l(K::MapKind)}</th>
                        <th class="px-3 py-2">{l(K::MapVersion)}</th>
                        <th class="px-3 py-2">{l(K::MapRows)}</th>
                        <th class="px-3 py-2">{l(K::Updated)}</th>
                    </tr>
                </thead>
                <tbody>
                    {empty.then(|| view! {
                        <tr><td colspan="5" class="px-3 py-6 text-center text-slate-500" data-testid="no-maps">{l(K::MapNone)}</td></tr>
                    })}
                    {rows}
                </tbody>
            </table>
        </div>
    }
}

/// Opens the browser's print dialog (the spec view prints alone).
fn print_page() {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.print();
    }
}
