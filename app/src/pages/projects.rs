//! Projects: a dense table that creates and edits in place.

use crate::api::projects::{list_projects, CreateProject, DeleteProject, UpdateProject};
use crate::components::form::{can, field_error, general_error, ErrorBanner, TextField};
use crate::components::{format_millis, l};
use crate::components::list_pages::{words, Hidden, ListFilter, PagerRow};
use crate::i18n::{tr, use_locale, K};
use comops_core::{Permission, Project, ProjectDraft};
use crate::components::row_actions::RowActions;
use leptos::prelude::*;
use leptos_router::components::A;

/// Field signals of a project form.
#[derive(Clone, Copy)]
struct ProjectFields {
    name: RwSignal<String>,
    slug: RwSignal<String>,
    description: RwSignal<String>,
}

impl ProjectFields {
    fn new(project: Option<&Project>) -> Self {
        Self {
            name: RwSignal::new(project.map(|p| p.name.clone()).unwrap_or_default()),
            slug: RwSignal::new(project.map(|p| p.slug.clone()).unwrap_or_default()),
            description: RwSignal::new(project.map(|p| p.description.clone()).unwrap_or_default()),
        }
    }

    fn draft(&self) -> ProjectDraft {
        ProjectDraft { name: self.name.get_untracked(), slug: self.slug.get_untracked(), description: self.description.get_untracked() }
    }
}

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let locale = use_locale();
    let can_manage = can(Permission::ManageProjects);
    let create = ServerAction::<CreateProject>::new();
    let create_pending = create.pending();
    let update = ServerAction::<UpdateProject>::new();
    let delete = ServerAction::<DeleteProject>::new();
    let projects = Resource::new(
        move || (create.version().get(), update.version().get(), delete.version().get()),
        |_| list_projects(),
    );
    let show_new = RwSignal::new(false);
    let editing = RwSignal::new(None::<String>);
    let fields = ProjectFields::new(None);

    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            show_new.set(false);
            fields.name.set(String::new());
            fields.slug.set(String::new());
            fields.description.set(String::new());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = update.value().get() {
            editing.set(None);
        }
    });

    let submit_new = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateProject { draft: fields.draft() });
    };
    let filter = ListFilter::default();
    let other_errors = Signal::derive(move || {
        general_error(create.value()).get().or_else(|| general_error(update.value()).get()).or_else(|| general_error(delete.value()).get())
    });

    view! {
        <div class="flex items-start justify-between gap-4 mb-4">
            <div>
                <h1 class="text-xl font-semibold">{move || tr(K::Projects)}</h1>
                <p class="text-slate-600">{move || tr(K::ProjectsIntro)}</p>
            </div>
            <div class="flex flex-wrap items-center gap-2">
            <input type="search" name="filter" class="rounded border border-slate-300 px-2 py-1.5 text-sm" data-testid="project-filter"
                placeholder=l(K::Filter) bind:value=filter.text/>
            <Show when=move || can_manage fallback=move || view! {
                <span class="text-xs text-slate-500" data-testid="read-only">{move || tr(K::ReadOnlyHint)}</span>
            }>
                <button
                    class="rounded bg-slate-900 px-3 py-1.5 text-white hover:bg-slate-700"
                    data-testid="new-project"
                    on:click=move |_| show_new.update(|v| *v = !*v)
                >
                    {move || tr(K::NewProject)}
                </button>
            </Show>
            </div>
        </div>
        <ErrorBanner message=other_errors/>
        <Show when=move || show_new.get()>
            <form
                class="mb-4 grid gap-3 rounded border border-slate-200 bg-white p-4 md:grid-cols-[1fr_1fr_2fr_auto] items-start"
                data-testid="project-form"
                on:submit=submit_new
                on:keydown=move |ev| if ev.key() == "Escape" { show_new.set(false) }
            >
                <TextField label=K::Name name="name" value=fields.name error=field_error(create.value(), "name") autofocus=true/>
                <TextField label=K::Slug name="slug" value=fields.slug error=field_error(create.value(), "slug") hint=K::SlugHint/>
                <TextField label=K::Description name="description" value=fields.description error=field_error(create.value(), "description")/>
                <div class="flex gap-2 md:pt-5">
                    <button type="submit" class="rounded bg-sky-700 px-3 py-1.5 text-white hover:bg-sky-600" disabled=move || create_pending.get()>
                        {move || tr(K::Create)}
                    </button>
                    <button type="button" class="rounded border border-slate-300 px-3 py-1.5" on:click=move |_| show_new.set(false)>
                        {move || tr(K::Cancel)}
                    </button>
                </div>
            </form>
        </Show>
        <div class="overflow-x-auto rounded border border-slate-200 bg-white">
            <table class="w-full text-left" data-testid="projects-table">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th class="px-3 py-2">{move || tr(K::Name)}</th>
                        <th class="px-3 py-2">{move || tr(K::Slug)}</th>
                        <th class="px-3 py-2">{move || tr(K::Description)}</th>
                        <th class="px-3 py-2 text-right">{move || tr(K::Bots)}</th>
                        <th class="px-3 py-2">{move || tr(K::Updated)}</th>
                        <th class="px-3 py-2"></th>
                    </tr>
                </thead>
                <tbody>
                    <Transition fallback=move || view! { <tr><td class="px-3 py-2" colspan="6">{move || tr(K::Loading)}</td></tr> }>
                        {move || Suspend::new(async move {
                            match projects.await {
                                Err(err) => view! {
                                    <tr><td colspan="6" class="px-3 py-2 text-rose-700" role="alert">{err.message(locale.get_untracked())}</td></tr>
                                }.into_any(),
                                Ok(list) if list.is_empty() => view! {
                                    <tr><td colspan="6" class="px-3 py-6 text-center text-slate-500">{move || tr(K::NoProjects)}</td></tr>
                                }.into_any(),
                                Ok(list) => {
                                    let (rows, pages) = filter.rows(
                                        "",
                                        list,
                                        |p| words(&[&p.name, p.slug.as_str(), &p.description]),
                                        |project, hidden| view! { <ProjectRow project editing can_manage update delete hidden/> },
                                    );
                                    view! { {rows} <PagerRow pages colspan=6/> }.into_any()
                                }
                            }
                        })}
                    </Transition>
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn ProjectRow(
    project: Project,
    editing: RwSignal<Option<String>>,
    can_manage: bool,
    update: ServerAction<UpdateProject>,
    delete: ServerAction<DeleteProject>,
    /// Off screen: filtered out or on another page.
    hidden: Hidden,
) -> impl IntoView {
    let id = project.id.to_string();
    let fields = ProjectFields::new(Some(&project));
    let is_editing = {
        let id = id.clone();
        move || editing.get().as_deref() == Some(id.as_str())
    };
    let href = format!("/projects/{}", project.id);
    let row_view = {
        let id = id.clone();
        let project = project.clone();
        move || {
            let (id_edit, id_delete) = (id.clone(), id.clone());
            let name = project.name.clone();
            view! {
                <td class="px-3 py-2 font-medium"><A href=href.clone() attr:class="text-sky-800 hover:underline">{name}</A></td>
                <td class="px-3 py-2 font-mono text-xs">{project.slug.clone()}</td>
                <td class="px-3 py-2 text-slate-600 max-w-md truncate">{project.description.clone()}</td>
                <td class="px-3 py-2 text-right tabular-nums">{project.bot_count}</td>
                <td class="px-3 py-2 text-slate-500 whitespace-nowrap">{format_millis(project.updated_at)}</td>
                <td class="px-3 py-2 whitespace-nowrap text-right">
                    {can_manage.then(|| {
                        let (id_edit, id_delete) = (id_edit.clone(), id_delete.clone());
                        view! {
                            <RowActions
                                on_edit=Callback::new(move |_| editing.set(Some(id_edit.clone())))
                                on_delete=Callback::new(move |_| { delete.dispatch(DeleteProject { id: id_delete.clone() }); })
                            />
                        }
                    })}
                </td>
            }
        }
    };
    let edit_view = move || {
        let id = id.clone();
        view! {
            <td colspan="6" class="px-3 py-2 bg-sky-50">
                <form
                    class="grid gap-3 md:grid-cols-[1fr_1fr_2fr_auto] items-start"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        update.dispatch(UpdateProject { id: id.clone(), draft: fields.draft() });
                    }
                    on:keydown=move |ev| if ev.key() == "Escape" { editing.set(None) }
                >
                    <TextField label=K::Name name="name" value=fields.name error=field_error(update.value(), "name") autofocus=true/>
                    <TextField label=K::Slug name="slug" value=fields.slug error=field_error(update.value(), "slug")/>
                    <TextField label=K::Description name="description" value=fields.description error=field_error(update.value(), "description")/>
                    <div class="flex gap-2 md:pt-5">
                        <button type="submit" class="rounded bg-sky-700 px-3 py-1.5 text-white">{move || tr(K::Save)}</button>
                        <button type="button" class="rounded border border-slate-300 px-3 py-1.5" on:click=move |_| editing.set(None)>
                            {move || tr(K::Cancel)}
                        </button>
                    </div>
                </form>
            </td>
        }
    };
    view! {
        <tr class="border-t border-slate-100 hover:bg-slate-50" class:hidden=move || hidden.get() data-project=project.slug.clone()>
            <Show when=is_editing fallback=row_view>
                {edit_view.clone()}
            </Show>
        </tr>
    }
}
