//! One project: its details and its bots, created and edited in place.

use crate::api::projects::{get_project, CreateBot, DeleteBot, UpdateBot};
use crate::components::form::{can, field_error, general_error, ErrorBanner, TextField};
use crate::components::l;
use crate::components::list_pages::{words, Hidden, ListFilter, Pager};
use crate::i18n::{tr, use_locale, K};
use comops_core::{Bot, BotDraft, Permission};
use crate::components::row_actions::RowActions;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[derive(Clone, Copy)]
struct BotFields {
    name: RwSignal<String>,
    username: RwSignal<String>,
    description: RwSignal<String>,
    enabled: RwSignal<bool>,
}

impl BotFields {
    fn new(bot: Option<&Bot>) -> Self {
        Self {
            name: RwSignal::new(bot.map(|b| b.name.clone()).unwrap_or_default()),
            username: RwSignal::new(bot.map(|b| b.username.clone()).unwrap_or_default()),
            description: RwSignal::new(bot.map(|b| b.description.clone()).unwrap_or_default()),
            enabled: RwSignal::new(bot.is_none_or(|b| b.enabled)),
        }
    }

    fn draft(&self) -> BotDraft {
        BotDraft {
            name: self.name.get_untracked(),
            username: self.username.get_untracked(),
            description: self.description.get_untracked(),
            enabled: self.enabled.get_untracked(),
        }
    }
}

#[component]
pub fn ProjectPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_params_map();
    let project_id = move || params.with(|p| p.get("id").unwrap_or_default());
    let can_manage = can(Permission::ManageProjects);
    let create = ServerAction::<CreateBot>::new();
    let update = ServerAction::<UpdateBot>::new();
    let delete = ServerAction::<DeleteBot>::new();
    let detail = Resource::new(
        move || (project_id(), create.version().get(), update.version().get(), delete.version().get()),
        |(id, ..)| get_project(id),
    );
    let show_new = RwSignal::new(false);
    let editing = RwSignal::new(None::<String>);
    let fields = BotFields::new(None);
    // The id a new bot is given (empty: generated); fixed once made.
    let new_id = RwSignal::new(String::new());
    let filter = ListFilter::default();
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            show_new.set(false);
            fields.name.set(String::new());
            fields.username.set(String::new());
            fields.description.set(String::new());
            new_id.set(String::new());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = update.value().get() {
            editing.set(None);
        }
    });
    let other_errors = Signal::derive(move || {
        general_error(create.value()).get().or_else(|| general_error(update.value()).get()).or_else(|| general_error(delete.value()).get())
    });

    view! {
        <A href="/projects" attr:class="text-xs text-sky-800 hover:underline">"← " {move || tr(K::Projects)}</A>
        <Transition fallback=move || view! { <p>{move || tr(K::Loading)}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(err) => view! { <p class="mt-4 text-rose-700" role="alert">{err.message(locale.get_untracked())}</p> }.into_any(),
                    Ok(detail) => {
                        let empty = detail.bots.is_empty();
                        let (rows, pages) = filter.rows(
                            detail.project.id.as_str(),
                            detail.bots.clone(),
                            |b| words(&[&b.name, b.id.as_str(), &b.username, &b.description]),
                            |bot, hidden| view! { <BotRow bot editing can_manage update delete hidden/> },
                        );
                        view! {
                            <div class="mt-2 mb-4 flex items-start justify-between gap-4">
                                <div>
                                    <h1 class="text-xl font-semibold" data-testid="project-name">{detail.project.name.clone()}</h1>
                                    <p class="text-slate-600">{detail.project.description.clone()}</p>
                                </div>
                                <Show when=move || can_manage>
                                    <button class="rounded bg-slate-900 px-3 py-1.5 text-white hover:bg-slate-700" data-testid="new-bot"
                                        on:click=move |_| show_new.update(|v| *v = !*v)>
                                        {move || tr(K::NewBot)}
                                    </button>
                                </Show>
                            </div>
                            <ErrorBanner message=other_errors/>
                            <Show when=move || show_new.get()>
                                <form
                                    class="mb-4 grid gap-3 rounded border border-slate-200 bg-white p-4 md:grid-cols-[1fr_1fr_1fr_2fr_auto] items-start"
                                    data-testid="bot-form"
                                    on:submit=move |ev| {
                                        ev.prevent_default();
                                        let id = Some(new_id.get_untracked()).filter(|id| !id.trim().is_empty());
                                        create.dispatch(CreateBot { project_id: project_id(), draft: fields.draft(), id });
                                    }
                                    on:keydown=move |ev| if ev.key() == "Escape" { show_new.set(false) }
                                >
                                    <TextField label=K::Name name="name" value=fields.name error=field_error(create.value(), "name") autofocus=true/>
                                    <TextField label=K::Username name="username" value=fields.username error=field_error(create.value(), "username") hint=K::UsernameHint/>
                                    <TextField label=K::BotId name="id" value=new_id error=field_error(create.value(), "id") hint=K::BotIdHint/>
                                    <TextField label=K::Description name="description" value=fields.description error=field_error(create.value(), "description")/>
                                    <div class="flex gap-2 md:pt-5">
                                        <button type="submit" class="rounded bg-sky-700 px-3 py-1.5 text-white">{move || tr(K::Create)}</button>
                                        <button type="button" class="rounded border border-slate-300 px-3 py-1.5" on:click=move |_| show_new.set(false)>
                                            {move || tr(K::Cancel)}
                                        </button>
                                    </div>
                                </form>
                            </Show>
                            <div class="mb-2 flex items-center justify-between gap-3">
                                <h2 class="font-semibold">{move || tr(K::Bots)}</h2>
                                <input type="search" name="filter" class="rounded border border-slate-300 px-2 py-1.5 text-sm" data-testid="bot-filter"
                                    placeholder=l(K::Filter) bind:value=filter.text/>
                            </div>
                            <div class="overflow-x-auto rounded border border-slate-200 bg-white">
                                <table class="w-full text-left" data-testid="bots-table">
                                    <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                                        <tr>
                                            <th class="px-3 py-2">{move || tr(K::Name)}</th>
                                            <th class="px-3 py-2">{move || tr(K::BotId)}</th>
                                            <th class="px-3 py-2">{move || tr(K::Username)}</th>
                                            <th class="px-3 py-2">{move || tr(K::Description)}</th>
                                            <th class="px-3 py-2">{move || tr(K::Status)}</th>
                                            <th class="px-3 py-2"></th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {empty.then(|| view! {
                                            <tr><td colspan="6" class="px-3 py-6 text-center text-slate-500">{move || tr(K::NoBots)}</td></tr>
                                        })}
                                        {rows}
                                    </tbody>
                                </table>
                            </div>
                            <Pager pages/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn BotRow(
    bot: Bot,
    editing: RwSignal<Option<String>>,
    can_manage: bool,
    update: ServerAction<UpdateBot>,
    delete: ServerAction<DeleteBot>,
    /// Off screen: filtered out or on another page.
    hidden: Hidden,
) -> impl IntoView {
    let id = bot.id.to_string();
    let fields = BotFields::new(Some(&bot));
    let is_editing = {
        let id = id.clone();
        move || editing.get().as_deref() == Some(id.as_str())
    };
    let show = {
        let id = id.clone();
        let bot = bot.clone();
        move || {
            let (id_edit, id_delete) = (id.clone(), id.clone());
            view! {
                <td class="px-3 py-2 font-medium">{bot.name.clone()}</td>
                <td class="px-3 py-2 font-mono text-xs">{bot.id.to_string()}</td>
                <td class="px-3 py-2 font-mono text-xs">{(!bot.username.is_empty()).then(|| format!("@{}", bot.username))}</td>
                <td class="px-3 py-2 text-slate-600 max-w-md">{bot.description.clone()}</td>
                <td class="px-3 py-2">{let enabled = bot.enabled; move || tr(if enabled { K::Enabled } else { K::Disabled })}</td>
                <td class="px-3 py-2 whitespace-nowrap text-right">
                    {can_manage.then(|| {
                        let (id_edit, id_delete) = (id_edit.clone(), id_delete.clone());
                        view! {
                            <RowActions
                                on_edit=Callback::new(move |_| editing.set(Some(id_edit.clone())))
                                on_delete=Callback::new(move |_| { delete.dispatch(DeleteBot { id: id_delete.clone() }); })
                            />
                        }
                    })}
                </td>
            }
        }
    };
    let edit = move || {
        let id = id.clone();
        view! {
            <td colspan="6" class="px-3 py-2 bg-sky-50">
                <form
                    class="grid gap-3 md:grid-cols-[1fr_1fr_2fr_auto_auto] items-start"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        update.dispatch(UpdateBot { id: id.clone(), draft: fields.draft() });
                    }
                    on:keydown=move |ev| if ev.key() == "Escape" { editing.set(None) }
                >
                    <TextField label=K::Name name="name" value=fields.name error=field_error(update.value(), "name") autofocus=true/>
                    <TextField label=K::Username name="username" value=fields.username error=field_error(update.value(), "username")/>
                    <TextField label=K::Description name="description" value=fields.description error=field_error(update.value(), "description")/>
                    <label class="flex items-center gap-2 md:pt-6">
                        <input type="checkbox" bind:checked=fields.enabled/>
                        <span>{move || tr(K::Enabled)}</span>
                    </label>
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
        <tr class="border-t border-slate-100 hover:bg-slate-50" class:hidden=move || hidden.get() data-bot=bot.id.to_string()>
            <Show when=is_editing fallback=show>{edit.clone()}</Show>
        </tr>
    }
}
