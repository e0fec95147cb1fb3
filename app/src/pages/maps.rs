//! Maps of a project (SPEC §6): the list, a new map, the «ТЗ» export, and
//! one map's editor.
//!
//! One job per file:
//! - this file: the list page (`/maps?project=…`) — the maps, "new map"
//!   and "delete" (after a confirmation) for roles that may edit, the spec
//!   export in a printable view;
//! - [`editor`]: one map (`/maps/{id}`, `?v=3` for an old version) as an
//!   editable table, saving with a note and handling conflicts;
//! - [`history`]: versions, the side-by-side diff and restore;
//! - [`blueprint`]: the Service Blueprint drawn as lanes × stages;
//! - [`model`]: columns and new rows per kind of map, no views.
//!
//! The table itself is the shared `components::editable_table`.

mod blueprint;
mod editor;
mod history;
mod model;

pub use editor::MapEditorPage;

use crate::api::maps::{export_spec, list_maps, CreateMap, DeleteMap, MapRow};
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
                        let on_deleted = Callback::new(move |_: ()| page.refetch());
                        view! { <MapList projects project=project.unwrap_or_default() maps on_deleted/> }.into_any()
                    }
                    Err(err) => load_error(err, locale.get_untracked()),
                }
            })}
        </Transition>
    }
}

/// A map the user asked to delete, waiting for the confirmation.
#[derive(Clone)]
struct Doomed {
    id: String,
    title: String,
    version: i64,
}

#[component]
fn MapList(projects: Vec<comops_core::Project>, project: String, maps: Vec<MapRow>, on_deleted: Callback<()>) -> impl IntoView {
    let locale = use_locale();
    let empty = maps.is_empty();
    // Hidden from roles the server would refuse: bound maps are the architect's.
    let (can_edit, can_bind) = (can(Permission::EditMaps), can(Permission::DesignIntegrations));
    let doomed = RwSignal::new(None::<Doomed>);
    let delete = ServerAction::<DeleteMap>::new();
    let delete_error = general_error(delete.value());
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            doomed.set(None);
            on_deleted.run(());
        }
    });
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
            let target = Doomed { id: m.id.clone(), title: m.title.clone(), version: m.version };
            let deletable = can_edit && (!m.bound || can_bind);
            view! {
                <tr class="border-t border-slate-100 hover:bg-slate-50" data-map=m.id.clone()>
                    <td class="px-3 py-2"><a class="text-sky-800 hover:underline" href=href data-testid="open-map">{m.title}</a></td>
                    <td class="px-3 py-2 text-slate-600">{l(model::kind_label(m.kind))}</td>
                    <td class="px-3 py-2">{format!("v{}", m.version)}</td>
                    <td class="px-3 py-2">{m.rows}</td>
                    <td class="px-3 py-2 whitespace-nowrap text-xs text-slate-600">{format_millis(m.updated_at)}" · "{m.author}</td>
                    <td class="px-3 py-2 text-right">
                        {deletable.then(|| view! {
                            <button class=BUTTON data-testid="delete-map" on:click=move |_| doomed.set(Some(target.clone()))>{l(K::Delete)}</button>
                        })}
                    </td>
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
        {move || doomed.get().map(|d| {
            let question = t(locale.get(), K::MapDeleteConfirm).replacen("{}", &d.title, 1).replacen("{}", &d.version.to_string(), 1);
            let id = d.id.clone();
            view! {
                <div class="mb-3 flex flex-wrap items-center gap-2 rounded border border-rose-200 bg-rose-50 p-3 text-sm text-rose-900 print:hidden"
                    role="alertdialog" data-testid="delete-confirm" data-map=id>
                    <span class="grow">{question}</span>
                    <button class="rounded bg-rose-700 px-3 py-1.5 text-sm text-white hover:bg-rose-600 disabled:opacity-50" data-testid="delete-confirm-yes"
                        disabled=move || delete.pending().get()
                        on:click=move |_| { delete.dispatch(DeleteMap { map_id: d.id.clone() }); }>{l(K::MapDeleteYes)}</button>
                    <button class=BUTTON data-testid="delete-cancel" on:click=move |_| { delete.clear(); doomed.set(None); }>{l(K::Cancel)}</button>
                </div>
            }
        })}
        <div class="mb-3 print:hidden"><ErrorBanner message=delete_error/></div>
        <div class="overflow-x-auto rounded border border-slate-200 bg-white print:hidden">
            <table class="w-full text-left text-sm" data-testid="maps-table">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th class="px-3 py-2">{l(K::MapTitle)}</th>
                        <th class="px-3 py-2">{l(K::MapKind)}</th>
                        <th class="px-3 py-2">{l(K::MapVersion)}</th>
                        <th class="px-3 py-2">{l(K::MapRows)}</th>
                        <th class="px-3 py-2">{l(K::Updated)}</th>
                        <th class="px-3 py-2"><span class="sr-only">{l(K::Actions)}</span></th>
                    </tr>
                </thead>
                <tbody>
                    {empty.then(|| view! {
                        <tr><td colspan="6" class="px-3 py-6 text-center text-slate-500" data-testid="no-maps">{l(K::MapNone)}</td></tr>
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
