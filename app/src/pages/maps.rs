//! Maps of a project (SPEC §6): the list, a new map, the «ТЗ» export, and
//! one map's editor.
//!
//! One job per file:
//! - this file: the list page (`/maps?project=…`) — the maps, "new map"
//!   and "delete" (after a confirmation) for roles that may edit, the spec
//!   export in a printable view, the project's JSON export (a download)
//!   and import (a file, for architects and admins);
//! - [`editor`]: one map (`/maps/{id}`, `?v=3` for an old version,
//!   `?row=r1` to open at a row) as an editable table, saving with a note
//!   and handling conflicts;
//! - [`history`]: versions, the side-by-side diff and restore;
//! - [`blueprint`]: the Service Blueprint drawn as lanes × stages;
//! - [`model`]: columns and new rows per kind of map, no views;
//! - [`link_cascade`]: the links other maps hold to stages that go,
//!   taken out with them (the loop and the editor);
//! - [`loop_view`]: the ComOps loop (`/maps/loop?project=…`) on a
//!   canvas, laid out by [`loop_model`] (no views); architects bind and
//!   unbind communication rows on it, each a map save made by
//!   [`loop_edit`] (no views).
//!
//! The table itself is the shared `components::editable_table`.

mod blueprint;
mod editor;
mod history;
mod link_cascade;
mod loop_edit;
mod loop_model;
mod loop_view;
pub(crate) mod model;

pub use editor::MapEditorPage;
pub use loop_view::LoopViewPage;

use crate::api::maps::{export_project, export_spec, list_maps, CreateMap, DeleteMap, ImportProject, MapRow, ProjectImportOutcome};
use crate::api::projects::list_projects;
use crate::components::form::{can, field_error, general_error, ErrorBanner};
use crate::components::{download, format_millis, l, load_error, loading};
use crate::components::list_pages::{words, ListFilter, Pager};
use crate::i18n::{import_problem_text, t, t2, use_locale, K};
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
    let filter = ListFilter::default();
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
    // The title's problem under its field; any other in the banner.
    let title_error = field_error(create.value(), "title");
    let create_error = Signal::derive(move || {
        create.value().with(|v| match v {
            Some(Err(crate::error::AppError::Invalid(errors))) if errors.iter().all(|e| e.field == "title") => None,
            Some(Err(err)) => Some(err.message(locale.get())),
            _ => None,
        })
    });
    // The spec in the reader's language (the maps' texts as written).
    let spec = Action::new(move |project: &String| export_spec(project.clone(), Some(locale.get_untracked().as_str().to_string())));
    let spec_open = RwSignal::new(false);
    let spec_error = general_error(spec.value());
    let export = Action::new(|project: &String| export_project(project.clone()));
    let export_pending = export.pending();
    let export_error = general_error(export.value());
    Effect::new(move |_| {
        if let Some(Ok(text)) = export.value().get() {
            download(&format!("{}.comops-project.json", project_id.get_untracked()), "application/json", &text);
        }
    });
    let can_import = can(Permission::ManageProjects) && can(Permission::DesignIntegrations);
    let show_import = RwSignal::new(false);
    // A deletion's word on the maps whose links to it went, until the
    // next deletion or another project.
    let deleted_cut = RwSignal::new(None::<String>);
    Effect::new(move |before: Option<String>| {
        let now = project_param();
        if before.is_some_and(|before| before != now) {
            deleted_cut.set(None);
        }
        now
    });

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
                <button class=BUTTON data-testid="project-export" disabled=move || export_pending.get()
                    on:click=move |_| { export.dispatch(project_id.get_untracked()); }>{l(K::ProjectExport)}</button>
                {can_import.then(|| view! {
                    <button class=BUTTON data-testid="project-import-toggle" on:click=move |_| show_import.update(|v| *v = !*v)>{l(K::ProjectImport)}</button>
                })}
                {can_edit.then(|| view! {
                    <button class=PRIMARY data-testid="new-map" on:click=move |_| show_new.update(|v| *v = !*v)>{l(K::MapNew)}</button>
                })}
            </div>
        </div>
        <ErrorBanner message=spec_error/>
        <ErrorBanner message=export_error/>
        <Show when=move || show_import.get()>
            <ImportForm/>
        </Show>
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
                    <input name="title" class=INPUT required bind:value=new_title aria-invalid=move || title_error.get().is_some().to_string()/>
                    {move || title_error.get().map(|message| view! { <span class="text-xs text-rose-600" data-error-for="title">{message}</span> })}
                </label>
                <button type="submit" class=PRIMARY data-testid="create-map">{l(K::MapCreate)}</button>
                <ErrorBanner message=create_error/>
            </form>
        </Show>
        {move || deleted_cut.get().map(|said| view! {
            <p class="mb-3 rounded border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900 print:hidden" role="status" data-testid="deleted-links-cut">{said}</p>
        })}
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                match page.await {
                    Ok((projects, project, maps)) => {
                        project_id.set(project.clone().unwrap_or_default());
                        let on_deleted = Callback::new(move |_: ()| page.refetch());
                        view! { <MapList projects project=project.unwrap_or_default() maps on_deleted deleted_cut filter/> }.into_any()
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
fn MapList(
    projects: Vec<comops_core::Project>,
    project: String,
    maps: Vec<MapRow>,
    on_deleted: Callback<()>,
    /// What the last deletion did to the maps linking to it (`None`: no
    /// map held a link, or nothing to say any more).
    deleted_cut: RwSignal<Option<String>>,
    /// The list's filter box and page (kept across reloads).
    filter: ListFilter,
) -> impl IntoView {
    let locale = use_locale();
    let empty = maps.is_empty();
    // Hidden from roles the server would refuse: bound maps are the architect's.
    let (can_edit, can_bind) = (can(Permission::EditMaps), can(Permission::DesignIntegrations));
    let doomed = RwSignal::new(None::<Doomed>);
    let delete = ServerAction::<DeleteMap>::new();
    let delete_pending = delete.pending();
    let delete_error = general_error(delete.value());
    Effect::new(move |_| {
        if let Some(Ok(deleted)) = delete.value().get() {
            // Where the links to it went, said above the list.
            let maps: Vec<String> = deleted.links_taken_out.iter().map(|m| format!("«{}» v{}", m.title, m.version)).collect();
            deleted_cut.set((!maps.is_empty()).then(|| t2(locale.get_untracked(), K::MapDeletedLinksCut, &deleted.title, maps.join(", "))));
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
    let (rows, pages) = filter.rows(
        &project,
        maps,
        |m| words(&[&m.title, &m.author, m.kind.as_str()]),
        |m, hidden| {
            let href = format!("/maps/{}", m.id);
            let target = Doomed { id: m.id.clone(), title: m.title.clone(), version: m.version };
            let deletable = can_edit && (!m.bound || can_bind);
            view! {
                <tr class="border-t border-slate-100 hover:bg-slate-50" class:hidden=move || hidden.get() data-map=m.id.clone()>
                    <td class="px-3 py-2"><a class="text-sky-800 hover:underline" href=href data-testid="open-map">{m.title}</a></td>
                    <td class="px-3 py-2 text-slate-600">{l(model::kind_label(m.kind))}</td>
                    <td class="px-3 py-2">{format!("v{}", m.version)}</td>
                    <td class="px-3 py-2">{m.rows}</td>
                    <td class="px-3 py-2 whitespace-nowrap text-xs text-slate-600">{format_millis(m.updated_at)}" · "{m.author}</td>
                    <td class="px-3 py-2 text-right">
                        {deletable.then(|| view! {
                            <button class=BUTTON data-testid="delete-map" disabled=move || delete_pending.get()
                                on:click=move |_| doomed.set(Some(target.clone()))>{l(K::Delete)}</button>
                        })}
                    </td>
                </tr>
            }
        },
    );
    view! {
        <label class="mb-3 flex items-center gap-2 text-sm print:hidden">
            <span class="text-slate-600">{l(K::MapProject)}</span>
            <select class=INPUT name="project" on:change=move |ev| {
                filter.clear();
                navigate(&format!("/maps?project={}", event_target_value(&ev)), Default::default())
            }>
                {options}
            </select>
            <input type="search" name="filter" class=INPUT data-testid="map-filter" placeholder=l(K::Filter) bind:value=filter.text/>
        </label>
        {move || doomed.get().map(|d| {
            let question = t2(locale.get(), K::MapDeleteConfirm, &d.title, d.version);
            let id = d.id.clone();
            view! {
                <div class="mb-3 flex flex-wrap items-center gap-2 rounded border border-rose-200 bg-rose-50 p-3 text-sm text-rose-900 print:hidden"
                    role="alertdialog" data-testid="delete-confirm" data-map=id>
                    <span class="grow">{question}</span>
                    <button class="rounded bg-rose-700 px-3 py-1.5 text-sm text-white hover:bg-rose-600 disabled:opacity-50" data-testid="delete-confirm-yes"
                        disabled=move || delete_pending.get()
                        on:click=move |_| {
                            deleted_cut.set(None);
                            delete.dispatch(DeleteMap { map_id: d.id.clone() });
                        }>{l(K::MapDeleteYes)}</button>
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
        <div class="print:hidden"><Pager pages/></div>
    }
}

/// The largest project file the browser sends (the server's limit is 2 MB
/// of request body; JSON text grows a little when sent as a string).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const MAX_IMPORT_BYTES: f64 = 1_800_000.0;

/// Why a chosen file is not sent to the server (found in the browser).
#[derive(Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum FileProblem {
    TooLarge,
    Unreadable,
    NotJson { line: usize, column: usize },
}

/// A `comops.project/v1` file → a new project with a slug of the user's
/// choosing. The file is read and checked for JSON in the browser; the
/// server checks everything else and names each problem at its path.
#[component]
fn ImportForm() -> impl IntoView {
    let locale = use_locale();
    let import = ServerAction::<ImportProject>::new();
    let import_pending = import.pending();
    let text = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<FileProblem>);
    let missing = RwSignal::new(false);
    let slug = RwSignal::new(String::new());
    let slug_error = field_error(import.value(), "slug");
    let banner = general_error(import.value());
    let chosen = move |ev: leptos::ev::Event| {
        text.set(None);
        problem.set(None);
        missing.set(false);
        import.clear();
        read_chosen_file(ev, move |read| match read {
            Err(p) => problem.set(Some(p)),
            Ok(content) => match serde_json::from_slice::<serde_json::Value>(content.as_bytes()) {
                Ok(_) => text.set(Some(content)),
                Err(err) => problem.set(Some(FileProblem::NotJson { line: err.line(), column: err.column() })),
            },
        });
    };
    let file_message = move || {
        let locale = locale.get();
        if missing.get() {
            return Some(t(locale, K::ProjectImportNoFile).to_string());
        }
        problem.get().map(|p| match p {
            FileProblem::TooLarge => t(locale, K::ProjectImportTooLarge).to_string(),
            FileProblem::Unreadable => t(locale, K::ProjectImportUnreadable).to_string(),
            FileProblem::NotJson { line, column } => {
                t(locale, K::ProjectImportNotJson).replacen("{}", &line.to_string(), 1).replacen("{}", &column.to_string(), 1)
            }
        })
    };
    view! {
        <form class="mb-4 flex flex-col gap-3 rounded border border-slate-200 bg-white p-3 print:hidden" data-testid="project-import"
            on:submit=move |ev| {
                ev.prevent_default();
                match text.get_untracked() {
                    Some(json) => { import.dispatch(ImportProject { json, slug: slug.get_untracked().trim().to_string() }); }
                    None => if problem.get_untracked().is_none() { missing.set(true) },
                }
            }>
            <p class="text-sm text-slate-600">{l(K::ProjectImportHint)}</p>
            <div class="flex flex-wrap items-start gap-3">
                <label class="flex flex-col gap-1">
                    <span class="text-xs font-medium text-slate-600">{l(K::ProjectImportFile)}</span>
                    <input type="file" name="project-file" accept=".json,application/json" class="text-sm"
                        aria-invalid=move || file_message().is_some().to_string() on:change=chosen/>
                    <Show when=move || file_message().is_some()>
                        <span class="text-xs text-rose-600" data-error-for="project-file">{file_message}</span>
                    </Show>
                </label>
                <label class="flex flex-col gap-1">
                    <span class="text-xs font-medium text-slate-600">{l(K::ProjectImportSlug)}</span>
                    <input name="slug" class=INPUT placeholder="demo-copy" bind:value=slug
                        aria-invalid=move || slug_error.get().is_some().to_string()/>
                    <Show when=move || slug_error.get().is_some()>
                        <span class="text-xs text-rose-600" data-error-for="slug">{move || slug_error.get()}</span>
                    </Show>
                </label>
                <button type="submit" class=PRIMARY data-testid="project-import-submit" disabled=move || import_pending.get()>{l(K::ProjectImportGo)}</button>
            </div>
            <ErrorBanner message=banner/>
            {move || import.value().get().and_then(Result::ok).map(|outcome| match outcome {
                ProjectImportOutcome::Imported { project_id, bots, endpoints, scenarios, maps } => {
                    let done = t(locale.get(), K::ProjectImported)
                        .replacen("{}", &bots.to_string(), 1)
                        .replacen("{}", &endpoints.to_string(), 1)
                        .replacen("{}", &scenarios.to_string(), 1)
                        .replacen("{}", &maps.to_string(), 1);
                    view! {
                        <div role="status" class="rounded border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800" data-testid="import-done">
                            {done}" "
                            <a class="font-medium underline" href=format!("/maps?project={project_id}") data-testid="import-open">{l(K::ProjectImportOpen)}</a>
                        </div>
                    }.into_any()
                }
                ProjectImportOutcome::Invalid { problems } => {
                    let count = problems.len().to_string();
                    view! {
                    <div role="alert" class="rounded border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-900" data-testid="import-problems">
                        <p class="font-medium">{move || t(locale.get(), K::ProjectImportProblems).replacen("{}", &count, 1)}</p>
                        <ul class="mt-1 list-disc pl-5 text-xs">
                            {problems.iter().map(|p| view! {
                                <li data-problem=p.path.clone()>
                                    <span class="font-mono">{if p.path.is_empty() { "—".to_string() } else { p.path.clone() }}</span>": "{
                                        let p = p.clone();
                                        move || import_problem_text(locale.get(), &p)
                                    }
                                </li>
                            }).collect_view()}
                        </ul>
                    </div>
                    }.into_any()
                }
            })}
        </form>
    }
}

/// Reads the file chosen in a file input's `change` event as text and
/// hands it (or why not) to `done`.
fn read_chosen_file(ev: leptos::ev::Event, done: impl FnOnce(Result<String, FileProblem>) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
        if file.size() > MAX_IMPORT_BYTES {
            return done(Err(FileProblem::TooLarge));
        }
        let Ok(reader) = web_sys::FileReader::new() else { return done(Err(FileProblem::Unreadable)) };
        let result = reader.clone();
        let on_load = wasm_bindgen::closure::Closure::once_into_js(move || {
            match result.result().ok().and_then(|value| value.as_string()) {
                Some(text) => done(Ok(text)),
                None => done(Err(FileProblem::Unreadable)),
            }
        });
        reader.set_onload(Some(on_load.unchecked_ref()));
        if reader.read_as_text(&file).is_err() {
            reader.set_onload(None);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, done);
}

/// Opens the browser's print dialog (the spec view prints alone).
fn print_page() {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.print();
    }
}
