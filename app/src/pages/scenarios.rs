//! Scenarios of one bot: pick the bot, then the scenario list; open one in
//! the structured editor (SPEC §4; the visual canvas comes later).
//!
//! The editor holds the whole scenario as one value. Two views edit it:
//! a dense step table with a side form per step (fields of its type), and
//! the raw JSON for power users and for anything the forms do not cover.
//! Core's structural checks run in the browser on every change, so
//! problems show next to their step at once; the server re-checks on save
//! (templates and scripts too) and its answer replaces the local one until
//! the next edit. Saving asks for a change note and names the version it
//! started from, so a concurrent save is reported, never overwritten.
//!
//! The history lists every version; an old one opens read-only with
//! "Restore", which saves it again as the newest. The chosen bot and
//! scenario live in the query string (`?bot=bot_shop&name=order_status`).

use crate::api::scenarios::{
    issues, load_scenario, load_scenario_page, scenario_versions, CreateScenario, DeleteOutcome, DeleteScenario, LoadedScenario,
    RestoreScenario, SaveOutcome, SaveScenario, ScenarioPage, ScenarioRow, StepIssue, VersionRow, TEMPLATES,
};
use crate::components::form::{can, field_error, general_error, ErrorBanner, TextField};
use crate::components::format_millis;
use crate::i18n::{t, tr, use_locale, K};
use comops_core::scenario::{Button, ButtonKind, Case, Expect, Header, HttpMethod, Scenario, Step, StepKind};
use comops_core::{Locale, Permission};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use std::collections::BTreeMap;

/// Step types in the add-step picker, in the order SPEC §4 lists them.
const STEP_TYPES: [&str; 12] = ["message", "ask", "http", "script", "set", "if", "switch", "wait", "goto", "run", "handover", "end"];
const EXPECTS: [&str; 7] = ["text", "number", "phone", "email", "choice", "contact", "rating"];
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const BUTTON_KINDS: [&str; 4] = ["reply", "inline", "url", "contact"];

/// The text of `key` in the current language, reactive. One closure type
/// for every label of the page (each `move || tr(K::…)` would be its own
/// type, compiled into the browser bundle again).
fn l(key: K) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    move || tr(key)
}

const INPUT: &str = "w-full rounded border border-slate-300 px-2 py-1 text-sm aria-[invalid=true]:border-rose-500";
const BUTTON: &str = "rounded border border-slate-300 px-2.5 py-1 hover:bg-slate-100 disabled:opacity-50";
const PRIMARY: &str = "rounded bg-sky-700 px-3 py-1 text-white hover:bg-sky-600 disabled:opacity-50";

#[component]
pub fn ScenariosPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let bot_param = move || query.with(|q| q.get("bot").unwrap_or_default());
    let name_param = Memo::new(move |_| query.with(|q| q.get("name").unwrap_or_default()));
    let can_design = can(Permission::DesignIntegrations);
    let create = ServerAction::<CreateScenario>::new();
    let delete = ServerAction::<DeleteScenario>::new();
    // Bumped after every change that alters the list.
    let changes = RwSignal::new(0u32);
    let page = Resource::new(move || (bot_param(), changes.get()), |(bot, _)| load_scenario_page(bot));
    let current_bot = move || page.get_untracked().and_then(Result::ok).map(|p| p.bot_id).unwrap_or_default();
    let show_new = RwSignal::new(false);
    let new_name = RwSignal::new(String::new());
    let new_description = RwSignal::new(String::new());
    let new_template = RwSignal::new("message".to_string());
    let navigate = use_navigate();

    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            show_new.set(false);
            let name = new_name.get_untracked().trim().to_string();
            new_name.set(String::new());
            new_description.set(String::new());
            changes.update(|n| *n += 1);
            navigate(&format!("/scenarios?bot={}&name={name}", current_bot()), Default::default());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(DeleteOutcome::Deleted)) = delete.value().get() {
            changes.update(|n| *n += 1);
        }
    });
    let refused = move || match delete.value().get() {
        Some(Ok(DeleteOutcome::Refused { endpoints, entry, active_runs, scheduled_jobs })) => {
            Some(refusal_text(locale.get(), &endpoints, entry, active_runs, scheduled_jobs))
        }
        _ => None,
    };
    let other_errors = Signal::derive(move || general_error(create.value()).get().or_else(|| general_error(delete.value()).get()));
    let on_saved = Callback::new(move |_: ()| changes.update(|n| *n += 1));

    view! {
        <div class="flex flex-wrap items-start justify-between gap-4 mb-4">
            <div>
                <h1 class="text-xl font-semibold">{l(K::Scenarios)}</h1>
                <p class="text-slate-600">{l(K::SectionScenarios)}</p>
            </div>
            <Show when=move || can_design fallback=move || view! {
                <span class="text-xs text-slate-500" data-testid="read-only">{l(K::ReadOnlyHint)}</span>
            }>
                <button class="rounded bg-slate-900 px-3 py-1.5 text-white hover:bg-slate-700" data-testid="new-scenario"
                    on:click=move |_| show_new.update(|v| *v = !*v)>
                    {l(K::ScnNewScenario)}
                </button>
            </Show>
        </div>
        <ErrorBanner message=other_errors/>
        <Show when=move || refused().is_some()>
            <div role="alert" class="mb-3 rounded border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="delete-refused">
                {refused}
            </div>
        </Show>
        <Show when=move || show_new.get()>
            <form class="mb-4 flex flex-wrap items-start gap-3 rounded border border-slate-200 bg-white p-3" data-testid="scenario-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    create.dispatch(CreateScenario {
                        bot_id: current_bot(),
                        name: new_name.get_untracked(),
                        description: new_description.get_untracked(),
                        template: new_template.get_untracked(),
                    });
                }
                on:keydown=move |ev| if ev.key() == "Escape" { show_new.set(false) }>
                <div class="w-56">
                    <TextField label=K::Name name="name" value=new_name error=field_error(create.value(), "name") hint=K::ScnScenarioNameHint autofocus=true/>
                </div>
                <div class="w-72">
                    <TextField label=K::Description name="description" value=new_description error=Signal::derive(|| None::<String>)/>
                </div>
                <label class="flex flex-col gap-1">
                    <span class="text-xs font-medium text-slate-600">{l(K::ScnTemplate)}</span>
                    <select name="template" class="rounded border border-slate-300 px-2 py-1.5 text-sm"
                        on:change=move |ev| new_template.set(event_target_value(&ev))>
                        {TEMPLATES.into_iter().map(|name| {
                            let label = if name == "empty" { K::ScnTemplateEmpty } else { K::ScnTemplateMessage };
                            view! { <option value=name selected=move || new_template.get() == name>{l(label)}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <div class="flex gap-2 self-end">
                    <button type="submit" class=PRIMARY disabled=move || create.pending().get()>{l(K::Create)}</button>
                    <button type="button" class=BUTTON on:click=move |_| show_new.set(false)>{l(K::Cancel)}</button>
                </div>
            </form>
        </Show>
        <Transition fallback=move || view! { <p>{l(K::Loading)}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => view! { <p class="mt-4 text-rose-700" role="alert">{err.message(locale.get_untracked())}</p> }.into_any(),
                    Ok(page) => view! { <ScenarioList page selected=name_param can_design delete/> }.into_any(),
                }
            })}
        </Transition>
        {move || {
            let name = name_param.get();
            let bot = bot_param();
            (!name.is_empty()).then(|| view! { <ScenarioEditor bot name can_design on_saved/> })
        }}
    }
    .into_any()
}

/// "Not deleted: …" with every reason.
fn refusal_text(locale: Locale, endpoints: &[String], entry: bool, runs: i64, jobs: i64) -> String {
    let mut reasons = Vec::new();
    if !endpoints.is_empty() {
        reasons.push(t(locale, K::ScnRefusedEndpoints).replacen("{}", &endpoints.join(", "), 1));
    }
    if entry {
        reasons.push(t(locale, K::ScnRefusedEntry).to_string());
    }
    if runs > 0 {
        reasons.push(t(locale, K::ScnRefusedRuns).replacen("{}", &runs.to_string(), 1));
    }
    if jobs > 0 {
        reasons.push(t(locale, K::ScnRefusedJobs).replacen("{}", &jobs.to_string(), 1));
    }
    format!("{} {}.", t(locale, K::ScnDeleteRefused), reasons.join("; "))
}

/// The bot picker and the scenario table.
#[component]
fn ScenarioList(page: ScenarioPage, selected: Memo<String>, can_design: bool, delete: ServerAction<DeleteScenario>) -> impl IntoView {
    let navigate = use_navigate();
    let mut projects: Vec<String> = Vec::new();
    for bot in &page.bots {
        if !projects.contains(&bot.project) {
            projects.push(bot.project.clone());
        }
    }
    let groups = projects
        .into_iter()
        .map(|project| {
            let options = page
                .bots
                .iter()
                .filter(|b| b.project == project)
                .map(|b| view! { <option value=b.id.clone() selected={b.id == page.bot_id}>{format!("{} ({})", b.name, b.id)}</option> })
                .collect_view();
            view! { <optgroup label=project>{options}</optgroup> }
        })
        .collect_view();
    let empty = page.scenarios.is_empty();
    let bot_id = page.bot_id.clone();
    let filter = RwSignal::new(String::new());
    let rows = page
        .scenarios
        .into_iter()
        .map(|row| view! { <ScenarioListRow row bot_id=bot_id.clone() selected filter can_design delete/> })
        .collect_view();
    view! {
        <div class="mb-3 flex flex-wrap items-center gap-3">
            <label class="flex items-center gap-2 text-sm">
                <span class="text-xs font-medium text-slate-600">{l(K::Bot)}</span>
                <select class="rounded border border-slate-300 px-2 py-1.5 text-sm" data-testid="bot-select"
                    on:change=move |ev| navigate(&format!("/scenarios?bot={}", event_target_value(&ev)), Default::default())>
                    {groups}
                </select>
            </label>
            <input type="search" name="filter" class="rounded border border-slate-300 px-2 py-1.5 text-sm" data-testid="scenario-filter"
                placeholder=l(K::Filter) bind:value=filter/>
        </div>
        <div class="overflow-x-auto rounded border border-slate-200 bg-white">
            <table class="w-full text-left text-sm" data-testid="scenarios-table" data-bot=page.bot_id.clone()>
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th class="px-3 py-2">{l(K::Name)}</th>
                        <th class="px-3 py-2">{l(K::Description)}</th>
                        <th class="px-3 py-2">{l(K::ScnVersion)}</th>
                        <th class="px-3 py-2">{l(K::ScnStepsCount)}</th>
                        <th class="px-3 py-2">{l(K::Endpoints)}</th>
                        <th class="px-3 py-2">{l(K::Updated)}</th>
                        <th class="px-3 py-2"></th>
                    </tr>
                </thead>
                <tbody>
                    {empty.then(|| view! {
                        <tr><td colspan="7" class="px-3 py-6 text-center text-slate-500" data-testid="no-scenarios">{l(K::ScnNoScenarios)}</td></tr>
                    })}
                    {rows}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn ScenarioListRow(
    row: ScenarioRow,
    bot_id: String,
    selected: Memo<String>,
    filter: RwSignal<String>,
    can_design: bool,
    delete: ServerAction<DeleteScenario>,
) -> impl IntoView {
    let haystack = format!("{} {} {}", row.name, row.description, row.endpoints.join(" ")).to_lowercase();
    let hidden = move || filter.with(|f| !f.trim().is_empty() && !haystack.contains(&f.trim().to_lowercase()));
    let href = format!("/scenarios?bot={bot_id}&name={}", row.name);
    let endpoints_href = format!("/endpoints?bot={bot_id}");
    let is_open = {
        let name = row.name.clone();
        move || selected.get() == name
    };
    let confirming = RwSignal::new(false);
    let name = row.name.clone();
    let delete_it = move |_| {
        confirming.set(false);
        delete.dispatch(DeleteScenario { bot_id: bot_id.clone(), name: name.clone() });
    };
    let endpoints = row.endpoints.join(", ");
    view! {
        <tr class="border-t border-slate-100 hover:bg-slate-50 align-top" class:bg-sky-50=is_open class:hidden=hidden data-scenario=row.name.clone()>
            <td class="px-3 py-2 font-mono text-xs whitespace-nowrap">
                <a class="text-sky-800 hover:underline" href=href data-testid="open-scenario">{row.name.clone()}</a>
                {row.entry.then(|| view! {
                    <span class="ml-2 rounded bg-violet-100 px-1.5 py-0.5 text-[10px] uppercase text-violet-800">{l(K::ScnEntryBadge)}</span>
                })}
            </td>
            <td class="px-3 py-2 text-slate-600 max-w-md">{row.description.clone()}</td>
            <td class="px-3 py-2" data-testid="scenario-version">{format!("v{}", row.version)}</td>
            <td class="px-3 py-2">{row.steps}</td>
            <td class="px-3 py-2 font-mono text-xs">
                <a class="text-sky-800 hover:underline" href=endpoints_href>{endpoints}</a>
            </td>
            <td class="px-3 py-2 whitespace-nowrap text-xs text-slate-600">{format_millis(row.updated_at)}" · "{row.author.clone()}</td>
            <td class="px-3 py-2 whitespace-nowrap text-right">
                {can_design.then(|| view! {
                    <Show when=move || confirming.get() fallback=move || view! {
                        <button class="text-rose-700 hover:underline" data-testid="delete" on:click=move |_| confirming.set(true)>{l(K::Delete)}</button>
                    }>
                        <span class="text-rose-700 mr-2">{l(K::ConfirmDelete)}</span>
                        <button class="text-rose-700 font-medium mr-2" data-testid="confirm-delete" on:click=delete_it.clone()>{l(K::Delete)}</button>
                        <button class="text-slate-600" on:click=move |_| confirming.set(false)>{l(K::Cancel)}</button>
                    </Show>
                })}
            </td>
        </tr>
    }
    .into_any()
}

/// One scenario: the editor of its current version, the history on the
/// side, and an old version read-only in place of the editor when opened.
#[component]
fn ScenarioEditor(bot: String, name: String, can_design: bool, on_saved: Callback<()>) -> impl IntoView {
    let locale = use_locale();
    // Bumped to reload the current version (after a restore).
    let reloads = RwSignal::new(0u32);
    // Bumped after every save; the history reloads on it.
    let saves = RwSignal::new(0u32);
    let viewing = RwSignal::new(None::<i64>);
    let (bot_c, name_c) = (bot.clone(), name.clone());
    let loaded = Resource::new(move || reloads.get(), move |_| load_scenario(bot_c.clone(), name_c.clone(), 0));
    let (bot_v, name_v) = (bot.clone(), name.clone());
    let versions = Resource::new(move || saves.get(), move |_| scenario_versions(bot_v.clone(), name_v.clone()));
    let saved = Callback::new(move |_: ()| {
        saves.update(|n| *n += 1);
        on_saved.run(());
    });
    let restored = Callback::new(move |_: ()| {
        viewing.set(None);
        reloads.update(|n| *n += 1);
        saves.update(|n| *n += 1);
        on_saved.run(());
    });
    let (bot_o, name_o) = (bot.clone(), name.clone());
    let name_attr = name.clone();
    view! {
        <section class="mt-6" data-testid="scenario-editor" data-name=name_attr>
            <div class="grid gap-4 lg:grid-cols-[minmax(0,1fr)_18rem] items-start">
                <div class="min-w-0">
                    <div class:hidden=move || viewing.get().is_some()>
                        <Transition fallback=move || view! { <p>{l(K::Loading)}</p> }>
                            {move || {
                                let (bot, name) = (bot.clone(), name.clone());
                                Suspend::new(async move {
                                    match loaded.await {
                                        Err(err) => view! { <p class="text-rose-700" role="alert">{err.message(locale.get_untracked())}</p> }.into_any(),
                                        Ok(loaded) => view! { <EditorBody bot name loaded can_design on_saved=saved/> }.into_any(),
                                    }
                                })
                            }}
                        </Transition>
                    </div>
                    {move || viewing.get().map(|version| {
                        view! {
                            <OldVersion bot=bot_o.clone() name=name_o.clone() version can_design on_restored=restored
                                on_close=Callback::new(move |_| viewing.set(None))/>
                        }
                    })}
                </div>
                <aside class="rounded border border-slate-200 bg-white p-3 lg:sticky lg:top-4" data-testid="versions">
                    <h3 class="mb-2 text-xs font-semibold uppercase text-slate-500">{l(K::ScnVersions)}</h3>
                    <Transition fallback=move || view! { <p>{l(K::Loading)}</p> }>
                        {move || Suspend::new(async move {
                            match versions.await {
                                Err(err) => view! { <p class="text-rose-700">{err.message(locale.get_untracked())}</p> }.into_any(),
                                Ok(rows) => view! { <VersionList rows viewing/> }.into_any(),
                            }
                        })}
                    </Transition>
                </aside>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn VersionList(rows: Vec<VersionRow>, viewing: RwSignal<Option<i64>>) -> impl IntoView {
    let current = rows.first().map(|r| r.version).unwrap_or_default();
    rows.into_iter()
        .map(|row| {
            let version = row.version;
            let is_current = version == current;
            let open = move |_| viewing.set(if is_current { None } else { Some(version) });
            let active = move || viewing.get().map_or(is_current, |v| v == version);
            view! {
                <button class="block w-full rounded px-2 py-1.5 text-left hover:bg-slate-100" class:bg-sky-50=active
                    data-version=version on:click=open>
                    <span class="font-medium">{format!("v{version}")}</span>
                    {is_current.then(|| view! {
                        <span class="ml-2 rounded bg-emerald-100 px-1.5 py-0.5 text-[10px] uppercase text-emerald-800">{l(K::ScnCurrent)}</span>
                    })}
                    <span class="block text-xs text-slate-700">{row.note.clone()}</span>
                    <span class="block text-[11px] text-slate-500">{format!("{} · {}", format_millis(row.created_at), row.author)}</span>
                </button>
            }
        })
        .collect_view()
        .into_any()
}

/// An old version, read-only, with "Restore".
#[component]
fn OldVersion(bot: String, name: String, version: i64, can_design: bool, on_restored: Callback<()>, on_close: Callback<()>) -> impl IntoView {
    let locale = use_locale();
    let (bot_l, name_l) = (bot.clone(), name.clone());
    let loaded = Resource::new(|| (), move |_| load_scenario(bot_l.clone(), name_l.clone(), version));
    let restore = ServerAction::<RestoreScenario>::new();
    Effect::new(move |_| {
        if let Some(Ok(SaveOutcome::Saved { .. })) = restore.value().get() {
            on_restored.run(());
        }
    });
    let problem = move || match restore.value().get() {
        Some(Ok(SaveOutcome::Invalid { errors })) => Some(format!(
            "{} {}",
            t(locale.get(), K::ScnRestoreInvalid),
            errors.iter().map(|e| format!("{}: {}", e.path, e.message)).collect::<Vec<_>>().join("; ")
        )),
        Some(Err(err)) => Some(err.message(locale.get())),
        _ => None,
    };
    view! {
        <div class="rounded border border-amber-200 bg-amber-50/40 p-3" data-testid="old-version" data-version=version
            on:keydown=move |ev| if ev.key() == "Escape" { on_close.run(()) }>
            <Transition fallback=move || view! { <p>{l(K::Loading)}</p> }>
                {move || {
                    let (bot, name) = (bot.clone(), name.clone());
                    Suspend::new(async move {
                        match loaded.await {
                            Err(err) => view! { <p class="text-rose-700" role="alert">{err.message(locale.get_untracked())}</p> }.into_any(),
                            Ok(loaded) => {
                                let scenario = RwSignal::new(loaded.definition.clone());
                                let selected = RwSignal::new(None::<usize>);
                                let no_issues = Signal::derive(Vec::new);
                                let restore_it = move |_| { restore.dispatch(RestoreScenario { bot_id: bot.clone(), name: name.clone(), version }); };
                                view! {
                                    <div class="mb-3 flex flex-wrap items-center justify-between gap-2">
                                        <div>
                                            <span class="font-medium">{move || t(locale.get(), K::ScnReadOnlyVersion).replacen("{}", &version.to_string(), 1)}</span>
                                            <span class="ml-2 text-xs text-slate-600">{format!("{} · {} · {}", loaded.note, loaded.author, format_millis(loaded.created_at))}</span>
                                        </div>
                                        <div class="flex gap-2">
                                            {can_design.then(|| view! {
                                                <button class=PRIMARY data-testid="restore" disabled=move || restore.pending().get() on:click=restore_it.clone()>
                                                    {l(K::ScnRestore)}
                                                </button>
                                            })}
                                            <button class=BUTTON data-testid="close-version" on:click=move |_| on_close.run(())>{l(K::Close)}</button>
                                        </div>
                                    </div>
                                    <ErrorBanner message=Signal::derive(problem)/>
                                    <StepsTable scenario issues=no_issues selected editable=false on_change=Callback::new(|_| {})/>
                                    {move || selected.get().map(|index| view! {
                                        <div class="mt-3">
                                            <StepForm scenario index issues=no_issues read_only=true
                                                on_apply=Callback::new(|_| {}) on_close=Callback::new(move |_| selected.set(None))/>
                                        </div>
                                    })}
                                }.into_any()
                            }
                        }
                    })
                }}
            </Transition>
        </div>
    }
    .into_any()
}

/// The editor of one loaded version: toolbar, problems, steps or JSON, and
/// the side form of the selected step.
#[component]
fn EditorBody(bot: String, name: String, loaded: LoadedScenario, can_design: bool, on_saved: Callback<()>) -> impl IntoView {
    let locale = use_locale();
    let scenario = RwSignal::new(loaded.definition);
    let base = RwSignal::new(loaded.version);
    let dirty = RwSignal::new(false);
    let selected = RwSignal::new(None::<usize>);
    let json_mode = RwSignal::new(false);
    let json_text = RwSignal::new(String::new());
    let json_error = RwSignal::new(None::<String>);
    let server_issues = RwSignal::new(None::<Vec<StepIssue>>);
    let asking_note = RwSignal::new(false);
    let note = RwSignal::new(String::new());
    let new_type = RwSignal::new("message".to_string());
    let save = ServerAction::<SaveScenario>::new();

    let issues_now = Memo::new(move |_| {
        server_issues.get().unwrap_or_else(|| scenario.with(|s| s.validate().err().map(|e| issues(s, e)).unwrap_or_default()))
    });
    let issue_signal = Signal::derive(move || issues_now.get());
    let changed = Callback::new(move |_: ()| {
        dirty.set(true);
        server_issues.set(None);
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(SaveOutcome::Saved { version })) => {
            base.set(version);
            dirty.set(false);
            server_issues.set(None);
            asking_note.set(false);
            note.set(String::new());
            on_saved.run(());
        }
        Some(Ok(SaveOutcome::Invalid { errors })) => {
            server_issues.set(Some(errors));
            asking_note.set(false);
        }
        _ => {}
    });
    let message = move || -> Option<(bool, String)> {
        let locale = locale.get();
        match save.value().get() {
            Some(Ok(SaveOutcome::Saved { version })) if !dirty.get() => {
                Some((true, t(locale, K::ScnSaved).replacen("{}", &version.to_string(), 1)))
            }
            Some(Ok(SaveOutcome::Conflict { current, author })) => Some((
                false,
                t(locale, K::ScnSaveConflict).replacen("{}", &author, 1).replacen("{}", &current.to_string(), 1),
            )),
            Some(Err(err)) => Some((false, err.message(locale))),
            _ => None,
        }
    };
    let open_json = move || {
        let text = scenario.with_untracked(|s| serde_json::to_value(s).and_then(|v| serde_json::to_string_pretty(&v)).unwrap_or_default());
        json_text.set(text);
        json_error.set(None);
        selected.set(None);
        json_mode.set(true);
    };
    let on_json_input = move |text: String| {
        json_text.set(text.clone());
        // `from_slice`, like server_fn's decoder: one copy of the parser in the bundle.
        match serde_json::from_slice::<Scenario>(text.as_bytes()) {
            Ok(mut parsed) => {
                parsed.name = scenario.with_untracked(|s| s.name.clone());
                scenario.set(parsed);
                json_error.set(None);
                changed.run(());
            }
            Err(err) => json_error.set(Some(err.to_string())),
        }
    };
    let add_step = move || {
        let kind = new_type.get_untracked();
        let mut at = 0;
        scenario.update(|s| {
            let id = unique_id(s, &kind);
            let step = default_step(&kind, id);
            at = selected.get_untracked().map_or(s.steps.len(), |i| (i + 1).min(s.steps.len()));
            s.steps.insert(at, step);
        });
        changed.run(());
        selected.set(Some(at));
    };
    let (bot_s, name_s) = (bot.clone(), name.clone());
    let do_save = move || {
        let json = scenario.with_untracked(|s| serde_json::to_value(s).map(|v| v.to_string()).unwrap_or_default());
        save.dispatch(SaveScenario {
            bot_id: bot_s.clone(),
            name: name_s.clone(),
            json,
            note: note.get_untracked(),
            base_version: base.get_untracked(),
        });
    };
    let do_save_click = do_save.clone();

    view! {
        <div class="mb-2 flex flex-wrap items-center justify-between gap-2">
            <div class="flex items-baseline gap-2">
                <h2 class="font-mono text-base font-semibold">{name.clone()}</h2>
                <span class="text-xs text-slate-500" data-testid="base-version">{move || format!("v{}", base.get())}</span>
                <Show when=move || dirty.get()>
                    <span class="rounded bg-amber-100 px-1.5 py-0.5 text-[11px] text-amber-900" data-testid="unsaved">{l(K::ScnUnsaved)}</span>
                </Show>
            </div>
            <div class="flex flex-wrap items-center gap-2">
                <div class="flex overflow-hidden rounded border border-slate-300" role="group">
                    <button class="px-2.5 py-1 text-xs aria-pressed:bg-slate-800 aria-pressed:text-white" data-testid="view-steps"
                        aria-pressed=move || (!json_mode.get()).to_string()
                        disabled=move || json_error.get().is_some()
                        on:click=move |_| json_mode.set(false)>{l(K::ScnStepsView)}</button>
                    <button class="px-2.5 py-1 text-xs aria-pressed:bg-slate-800 aria-pressed:text-white" data-testid="view-json"
                        aria-pressed=move || json_mode.get().to_string()
                        on:click=move |_| if !json_mode.get_untracked() { open_json() }>"JSON"</button>
                </div>
                {can_design.then(|| view! {
                    <button class=PRIMARY data-testid="save-scenario"
                        disabled=move || !dirty.get() || json_error.get().is_some() || save.pending().get()
                        on:click=move |_| asking_note.set(true)>
                        {l(K::ScnSaveEllipsis)}
                    </button>
                })}
            </div>
        </div>
        <Show when=move || asking_note.get()>
            <form class="mb-3 flex flex-wrap items-end gap-2 rounded border border-sky-200 bg-sky-50 p-2" data-testid="note-form"
                on:submit={
                    let do_save = do_save_click.clone();
                    move |ev| { ev.prevent_default(); do_save(); }
                }
                on:keydown=move |ev| if ev.key() == "Escape" { asking_note.set(false) }>
                <label class="flex min-w-64 flex-1 flex-col gap-1">
                    <span class="text-xs font-medium text-slate-600">{l(K::ScnChangeNote)}</span>
                    <input name="note" class=INPUT autofocus placeholder=l(K::ScnChangeNoteHint) bind:value=note/>
                </label>
                <button type="submit" class=PRIMARY disabled=move || save.pending().get()>{l(K::Save)}</button>
                <button type="button" class=BUTTON on:click=move |_| asking_note.set(false)>{l(K::Cancel)}</button>
            </form>
        </Show>
        {move || message().map(|(ok, text)| view! {
            <div role=if ok { "status" } else { "alert" } data-testid="save-message"
                class=if ok { "mb-3 rounded border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800" }
                    else { "mb-3 rounded border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800" }>
                {text}
            </div>
        })}
        <ProblemList issues=issue_signal selected/>
        <div class="mb-2 flex flex-wrap items-end gap-3">
            <label class="flex min-w-64 flex-1 flex-col gap-1">
                <span class="text-xs font-medium text-slate-600">{l(K::Description)}</span>
                <input name="scenario-description" class=INPUT disabled={!can_design}
                    prop:value=move || scenario.with(|s| s.description.clone())
                    on:change=move |ev| { let text = event_target_value(&ev); scenario.update(|s| s.description = text); changed.run(()); }/>
            </label>
            {can_design.then(|| view! {
                <div class="flex items-end gap-2" data-testid="add-step">
                    <label class="flex flex-col gap-1">
                        <span class="text-xs font-medium text-slate-600">{l(K::ScnStepType)}</span>
                        <select name="new-step-type" class="rounded border border-slate-300 px-2 py-1 text-sm"
                            on:change=move |ev| new_type.set(event_target_value(&ev))>
                            {STEP_TYPES.into_iter().map(|kind| view! { <option value=kind selected=move || new_type.get() == kind>{kind}</option> }).collect_view()}
                        </select>
                    </label>
                    <button class=BUTTON data-testid="add-step-button" disabled=move || json_mode.get() on:click=move |_| add_step()>
                        {l(K::ScnAddStep)}
                    </button>
                </div>
            })}
        </div>
        <Show when=move || json_mode.get() fallback=move || view! {
            <div class=move || if selected.get().is_some() { "grid items-start gap-3 xl:grid-cols-[minmax(0,1fr)_22rem]" } else { "grid gap-3" }>
                <StepsTable scenario issues=issue_signal selected editable=can_design on_change=changed/>
                {move || selected.get().map(|index| view! {
                    <StepForm scenario index issues=issue_signal read_only={!can_design}
                        on_apply=Callback::new(move |_| { changed.run(()); selected.set(None); })
                        on_close=Callback::new(move |_| selected.set(None))/>
                })}
            </div>
        }>
            <div class="flex flex-col gap-1" data-testid="json-editor">
                <textarea name="scenario-json" rows=24 spellcheck="false" readonly={!can_design}
                    class="w-full rounded border border-slate-300 p-2 font-mono text-xs aria-[invalid=true]:border-rose-500"
                    aria-invalid=move || json_error.get().is_some().to_string()
                    prop:value=move || json_text.get()
                    on:input=move |ev| on_json_input(event_target_value(&ev))></textarea>
                <Show when=move || json_error.get().is_some()>
                    <span class="text-xs text-rose-600" data-error-for="json">
                        {move || t(locale.get(), K::ScnJsonInvalid).replacen("{}", &json_error.get().unwrap_or_default(), 1)}
                    </span>
                </Show>
                <span class="text-xs text-slate-500">{l(K::ScnNameFixedHint)}</span>
            </div>
        </Show>
    }
    .into_any()
}

/// Every problem, at the top; a click opens the step it points at.
#[component]
fn ProblemList(issues: Signal<Vec<StepIssue>>, selected: RwSignal<Option<usize>>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <Show when=move || issues.with(|i| !i.is_empty())>
            <div class="mb-3 rounded border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-900" role="alert" data-testid="problems">
                <p class="font-medium">{move || t(locale.get(), K::ScnProblemsFound).replacen("{}", &issues.with(Vec::len).to_string(), 1)}</p>
                <ul class="mt-1 list-disc pl-5 text-xs">
                    {move || issues.get().into_iter().map(|issue| {
                        let index = issue.index;
                        let place = match &issue.step {
                            Some(step) => format!("{step} · {}", issue.field),
                            None => issue.path.clone(),
                        };
                        view! {
                            <li data-problem=issue.path.clone()>
                                <button class="font-mono hover:underline" on:click=move |_| if index.is_some() { selected.set(index) }>{place}</button>
                                ": "{issue.message.clone()}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </div>
        </Show>
    }
    .into_any()
}

/// The dense step table: position, id (start marked), type, a one-line
/// summary, where it goes, its problems, and row actions.
#[component]
fn StepsTable(
    scenario: RwSignal<Scenario>,
    issues: Signal<Vec<StepIssue>>,
    selected: RwSignal<Option<usize>>,
    editable: bool,
    on_change: Callback<()>,
) -> impl IntoView {
    let move_step = move |from: usize, to: usize| {
        scenario.update(|s| {
            if from < s.steps.len() && to < s.steps.len() {
                s.steps.swap(from, to);
            }
        });
        selected.update(|sel| {
            *sel = match *sel {
                Some(i) if i == from => Some(to),
                Some(i) if i == to => Some(from),
                other => other,
            }
        });
        on_change.run(());
    };
    let remove = move |at: usize| {
        scenario.update(|s| {
            if at < s.steps.len() {
                s.steps.remove(at);
            }
        });
        selected.update(|sel| {
            *sel = match *sel {
                Some(i) if i == at => None,
                Some(i) if i > at => Some(i - 1),
                other => other,
            }
        });
        on_change.run(());
    };
    let make_start = move |at: usize| {
        scenario.update(|s| {
            if let Some(step) = s.steps.get(at) {
                s.start = step.id.clone();
            }
        });
        on_change.run(());
    };
    let rows = move || {
        let (steps, start) = scenario.with(|s| (s.steps.clone(), s.start.clone()));
        let all_issues = issues.get();
        let count = steps.len();
        steps
            .into_iter()
            .enumerate()
            .map(|(i, step)| {
                let mine: Vec<StepIssue> = all_issues.iter().filter(|e| e.index == Some(i)).cloned().collect();
                let is_start = step.id == start;
                let has_issues = !mine.is_empty();
                let branches = step
                    .kind
                    .transitions()
                    .into_iter()
                    .map(|(field, target)| format!("{field} → {target}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let summary = summary(&step.kind);
                let type_name = step.kind.type_name();
                let stop = |ev: leptos::ev::MouseEvent| ev.stop_propagation();
                view! {
                    <tr class="cursor-pointer border-t border-slate-100 align-top hover:bg-slate-50"
                        class:bg-sky-50=move || selected.get() == Some(i)
                        class:border-l-4=has_issues class:border-l-rose-500=has_issues
                        data-step=step.id.clone() data-step-index=i
                        on:click=move |_| selected.set(Some(i))>
                        <td class="px-2 py-1.5 text-xs text-slate-400">{i + 1}</td>
                        <td class="px-2 py-1.5 font-mono text-xs whitespace-nowrap">
                            {step.id.clone()}
                            {is_start.then(|| view! {
                                <span class="ml-1.5 rounded bg-emerald-100 px-1 py-0.5 text-[10px] uppercase text-emerald-800" data-testid="start-badge">{l(K::ScnStartStep)}</span>
                            })}
                        </td>
                        <td class="px-2 py-1.5 text-xs"><span class="rounded bg-slate-100 px-1.5 py-0.5">{type_name}</span></td>
                        <td class="px-2 py-1.5 text-slate-700">
                            <span class="line-clamp-1 break-all">{summary}</span>
                            {has_issues.then(|| view! {
                                <ul class="mt-0.5 text-xs text-rose-700" data-testid="step-problems">
                                    {mine.into_iter().map(|e| view! { <li>{format!("{}: {}", e.field, e.message)}</li> }).collect_view()}
                                </ul>
                            })}
                        </td>
                        <td class="px-2 py-1.5 font-mono text-[11px] text-slate-600">{branches}</td>
                        <td class="px-2 py-1.5 whitespace-nowrap text-right text-xs" on:click=stop>
                            {editable.then(|| view! {
                                <button class="px-1 text-slate-600 hover:text-slate-900 disabled:opacity-30" title=l(K::ScnMoveUp)
                                    data-testid="step-up" disabled={i == 0} on:click=move |_| move_step(i, i.saturating_sub(1))>"↑"</button>
                                <button class="px-1 text-slate-600 hover:text-slate-900 disabled:opacity-30" title=l(K::ScnMoveDown)
                                    data-testid="step-down" disabled={i + 1 >= count} on:click=move |_| move_step(i, i + 1)>"↓"</button>
                                <button class="px-1 text-sky-800 hover:underline disabled:opacity-30" data-testid="make-start"
                                    disabled=is_start on:click=move |_| make_start(i)>{l(K::ScnSetStart)}</button>
                                <button class="px-1 text-rose-700 hover:underline" data-testid="remove-step" title=l(K::ScnRemoveStep)
                                    on:click=move |_| remove(i)>"×"</button>
                            })}
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="overflow-x-auto rounded border border-slate-200 bg-white">
            <table class="w-full text-left text-sm" data-testid="steps-table">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th class="px-2 py-1.5">"#"</th>
                        <th class="px-2 py-1.5">{l(K::ScnStepId)}</th>
                        <th class="px-2 py-1.5">{l(K::ScnStepType)}</th>
                        <th class="px-2 py-1.5">{l(K::ScnSummary)}</th>
                        <th class="px-2 py-1.5">{l(K::ScnBranches)}</th>
                        <th class="px-2 py-1.5"></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// One line about what a step does.
fn summary(kind: &StepKind) -> String {
    fn cut(text: &str, max: usize) -> String {
        let line = text.lines().next().unwrap_or_default();
        if line.chars().count() > max || text.lines().nth(1).is_some() {
            format!("{}…", line.chars().take(max).collect::<String>())
        } else {
            line.to_string()
        }
    }
    match kind {
        StepKind::Message { text, buttons, media_url, .. } => {
            let mut out = cut(text, 80);
            if !buttons.is_empty() {
                out.push_str(&format!(" [{}]", buttons.iter().map(|b| b.label.as_str()).collect::<Vec<_>>().join(" | ")));
            }
            if media_url.is_some() {
                out.push_str(" 🖼");
            }
            out
        }
        StepKind::Ask { prompt, expect, var, .. } => {
            format!("{} → vars.{var} ({})", cut(prompt, 60), expect_name(*expect))
        }
        StepKind::Http { method, url, save_as, .. } => format!("{} {} → vars.{save_as}", method.as_str(), cut(url, 60)),
        StepKind::Script { code, .. } => cut(code, 80),
        StepKind::Set { vars, attributes, add_tags, remove_tags, status, .. } => {
            let mut parts = Vec::new();
            if !vars.is_empty() {
                parts.push(format!("vars: {}", vars.keys().cloned().collect::<Vec<_>>().join(", ")));
            }
            if !attributes.is_empty() {
                parts.push(format!("attributes: {}", attributes.keys().cloned().collect::<Vec<_>>().join(", ")));
            }
            if !add_tags.is_empty() {
                parts.push(format!("+{}", add_tags.join(" +")));
            }
            if !remove_tags.is_empty() {
                parts.push(format!("-{}", remove_tags.join(" -")));
            }
            if let Some(status) = status {
                parts.push(format!("status: {status}"));
            }
            parts.join("; ")
        }
        StepKind::If { condition, .. } => cut(condition, 80),
        StepKind::Switch { value, cases, .. } => format!("{} ({} cases)", cut(value, 60), cases.len()),
        StepKind::Wait { seconds, until, .. } => match (seconds, until) {
            (Some(s), _) => format!("{s} s"),
            (None, Some(u)) => format!("until {}", cut(u, 60)),
            _ => String::new(),
        },
        StepKind::Goto { target } => format!("→ {target}"),
        StepKind::Run { scenario, .. } => scenario.clone(),
        StepKind::Handover { note, .. } => cut(note, 80),
        StepKind::End { goal } => goal.as_ref().map(|g| format!("goal: {g}")).unwrap_or_default(),
    }
}

/// The JSON name of an expected answer kind.
fn expect_name(expect: Expect) -> &'static str {
    match expect {
        Expect::Text => "text",
        Expect::Number => "number",
        Expect::Phone => "phone",
        Expect::Email => "email",
        Expect::Choice => "choice",
        Expect::Contact => "contact",
        Expect::Rating => "rating",
    }
}

fn parse_expect(name: &str) -> Expect {
    [Expect::Text, Expect::Number, Expect::Phone, Expect::Email, Expect::Choice, Expect::Contact, Expect::Rating]
        .into_iter()
        .find(|e| expect_name(*e) == name)
        .unwrap_or(Expect::Text)
}

fn parse_method(name: &str) -> HttpMethod {
    [HttpMethod::Get, HttpMethod::Post, HttpMethod::Put, HttpMethod::Patch, HttpMethod::Delete]
        .into_iter()
        .find(|m| m.as_str() == name)
        .unwrap_or(HttpMethod::Post)
}

/// A step id not used yet: `message`, `message_2`, …
fn unique_id(scenario: &Scenario, kind: &str) -> String {
    let taken = |id: &str| scenario.steps.iter().any(|s| s.id == id);
    if !taken(kind) {
        return kind.to_string();
    }
    (2..).map(|n| format!("{kind}_{n}")).find(|id| !taken(id)).unwrap_or_else(|| kind.to_string())
}

/// A new step of type `kind` with empty settings (the validator names
/// what still needs filling in).
fn default_step(kind: &str, id: String) -> Step {
    let kind = match kind {
        "ask" => StepKind::Ask {
            prompt: String::new(),
            expect: Expect::Text,
            var: "answer".into(),
            choices: vec![],
            buttons: vec![],
            reask: None,
            max_reasks: 3,
            timeout_sec: None,
            next: String::new(),
            on_no_reply: None,
            on_delivery_failed: None,
        },
        "http" => StepKind::Http {
            method: HttpMethod::Post,
            url: String::new(),
            headers: vec![],
            body: None,
            save_as: "response".into(),
            timeout_ms: 10_000,
            retries: 0,
            next: String::new(),
            on_error: None,
        },
        "script" => StepKind::Script { code: String::new(), next: String::new(), on_error: None },
        "set" => StepKind::Set {
            vars: BTreeMap::new(),
            attributes: BTreeMap::new(),
            add_tags: vec![],
            remove_tags: vec![],
            status: None,
            next: None,
        },
        "if" => StepKind::If { condition: String::new(), then: String::new(), otherwise: String::new() },
        "switch" => StepKind::Switch { value: String::new(), cases: vec![], default: String::new() },
        "wait" => StepKind::Wait { seconds: Some(60), until: None, next: String::new() },
        "goto" => StepKind::Goto { target: String::new() },
        "run" => StepKind::Run { scenario: String::new(), next: None },
        "handover" => StepKind::Handover { note: String::new(), next: None },
        "end" => StepKind::End { goal: None },
        _ => StepKind::Message { text: String::new(), buttons: vec![], media_url: None, next: None },
    };
    Step { id, kind }
}

/// Points every reference to step `old` at `new` (after a rename).
fn rename_references(scenario: &mut Scenario, old: &str, new: &str) {
    if old == new {
        return;
    }
    let fix = |target: &mut String| {
        if target == old {
            *target = new.to_string();
        }
    };
    let fix_opt = |target: &mut Option<String>| {
        if let Some(t) = target {
            if t == old {
                *t = new.to_string();
            }
        }
    };
    if scenario.start == old {
        scenario.start = new.to_string();
    }
    for step in &mut scenario.steps {
        match &mut step.kind {
            StepKind::Message { next, .. } | StepKind::Set { next, .. } | StepKind::Run { next, .. } | StepKind::Handover { next, .. } => {
                fix_opt(next)
            }
            StepKind::Ask { next, on_no_reply, on_delivery_failed, .. } => {
                fix(next);
                fix_opt(on_no_reply);
                fix_opt(on_delivery_failed);
            }
            StepKind::Http { next, on_error, .. } | StepKind::Script { next, on_error, .. } => {
                fix(next);
                fix_opt(on_error);
            }
            StepKind::If { then, otherwise, .. } => {
                fix(then);
                fix(otherwise);
            }
            StepKind::Switch { cases, default, .. } => {
                for case in cases {
                    fix(&mut case.next);
                }
                fix(default);
            }
            StepKind::Wait { next, .. } => fix(next),
            StepKind::Goto { target } => fix(target),
            StepKind::End { .. } => {}
        }
    }
}

/// A key/value row (headers, vars, attributes, switch cases).
#[derive(Clone, Copy)]
struct PairRow {
    key: RwSignal<String>,
    value: RwSignal<String>,
}

impl PairRow {
    fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self { key: RwSignal::new(key.into()), value: RwSignal::new(value.into()) }
    }
}

/// A button row of a message or ask.
#[derive(Clone, Copy)]
struct ButtonRow {
    label: RwSignal<String>,
    kind: RwSignal<String>,
    value: RwSignal<String>,
    url: RwSignal<String>,
}

impl ButtonRow {
    fn new(button: Option<&Button>) -> Self {
        let kind = button.map_or(ButtonKind::Reply, |b| b.kind);
        Self {
            label: RwSignal::new(button.map(|b| b.label.clone()).unwrap_or_default()),
            kind: RwSignal::new(button_kind_name(kind).into()),
            value: RwSignal::new(button.and_then(|b| b.value.clone()).unwrap_or_default()),
            url: RwSignal::new(button.and_then(|b| b.url.clone()).unwrap_or_default()),
        }
    }

    fn button(&self) -> Button {
        let kind = match self.kind.get_untracked().as_str() {
            "inline" => ButtonKind::Inline,
            "url" => ButtonKind::Url,
            "contact" => ButtonKind::Contact,
            _ => ButtonKind::Reply,
        };
        Button { label: self.label.get_untracked(), kind, value: non_empty(self.value), url: non_empty(self.url) }
    }
}

fn button_kind_name(kind: ButtonKind) -> &'static str {
    match kind {
        ButtonKind::Reply => "reply",
        ButtonKind::Inline => "inline",
        ButtonKind::Url => "url",
        ButtonKind::Contact => "contact",
    }
}

fn non_empty(value: RwSignal<String>) -> Option<String> {
    let v = value.get_untracked();
    (!v.trim().is_empty()).then_some(v)
}

/// Comma list → trimmed non-empty items.
fn list(value: RwSignal<String>) -> Vec<String> {
    value.get_untracked().split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// The side form's fields: every field of every step type, as text, so
/// switching the type keeps what was typed. [`StepDraft::step`] reads the
/// ones of the chosen type.
#[derive(Clone, Copy)]
struct StepDraft {
    id: RwSignal<String>,
    kind: RwSignal<String>,
    text: RwSignal<String>,
    media_url: RwSignal<String>,
    next: RwSignal<String>,
    buttons: RwSignal<Vec<ButtonRow>>,
    prompt: RwSignal<String>,
    expect: RwSignal<String>,
    var: RwSignal<String>,
    choices: RwSignal<String>,
    reask: RwSignal<String>,
    max_reasks: RwSignal<String>,
    timeout_sec: RwSignal<String>,
    on_no_reply: RwSignal<String>,
    on_delivery_failed: RwSignal<String>,
    method: RwSignal<String>,
    url: RwSignal<String>,
    headers: RwSignal<Vec<PairRow>>,
    body: RwSignal<String>,
    save_as: RwSignal<String>,
    timeout_ms: RwSignal<String>,
    retries: RwSignal<String>,
    on_error: RwSignal<String>,
    code: RwSignal<String>,
    vars: RwSignal<Vec<PairRow>>,
    attributes: RwSignal<Vec<PairRow>>,
    add_tags: RwSignal<String>,
    remove_tags: RwSignal<String>,
    status: RwSignal<String>,
    condition: RwSignal<String>,
    then: RwSignal<String>,
    otherwise: RwSignal<String>,
    value: RwSignal<String>,
    cases: RwSignal<Vec<PairRow>>,
    default: RwSignal<String>,
    seconds: RwSignal<String>,
    until: RwSignal<String>,
    target: RwSignal<String>,
    scenario: RwSignal<String>,
    note: RwSignal<String>,
    goal: RwSignal<String>,
}

impl StepDraft {
    fn new(step: &Step) -> Self {
        let s = || RwSignal::new(String::new());
        let d = Self {
            id: RwSignal::new(step.id.clone()),
            kind: RwSignal::new(step.kind.type_name().to_string()),
            text: s(),
            media_url: s(),
            next: s(),
            buttons: RwSignal::new(Vec::new()),
            prompt: s(),
            expect: RwSignal::new("text".into()),
            var: s(),
            choices: s(),
            reask: s(),
            max_reasks: RwSignal::new("3".into()),
            timeout_sec: s(),
            on_no_reply: s(),
            on_delivery_failed: s(),
            method: RwSignal::new("POST".into()),
            url: s(),
            headers: RwSignal::new(Vec::new()),
            body: s(),
            save_as: s(),
            timeout_ms: RwSignal::new("10000".into()),
            retries: RwSignal::new("0".into()),
            on_error: s(),
            code: s(),
            vars: RwSignal::new(Vec::new()),
            attributes: RwSignal::new(Vec::new()),
            add_tags: s(),
            remove_tags: s(),
            status: s(),
            condition: s(),
            then: s(),
            otherwise: s(),
            value: s(),
            cases: RwSignal::new(Vec::new()),
            default: s(),
            seconds: s(),
            until: s(),
            target: s(),
            scenario: s(),
            note: s(),
            goal: s(),
        };
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        match &step.kind {
            StepKind::Message { text, buttons, media_url, next } => {
                d.text.set(text.clone());
                d.buttons.set(buttons.iter().map(|b| ButtonRow::new(Some(b))).collect());
                d.media_url.set(opt(media_url));
                d.next.set(opt(next));
            }
            StepKind::Ask { prompt, expect, var, choices, buttons, reask, max_reasks, timeout_sec, next, on_no_reply, on_delivery_failed } => {
                d.prompt.set(prompt.clone());
                d.expect.set(expect_name(*expect).into());
                d.var.set(var.clone());
                d.choices.set(choices.join(", "));
                d.buttons.set(buttons.iter().map(|b| ButtonRow::new(Some(b))).collect());
                d.reask.set(opt(reask));
                d.max_reasks.set(max_reasks.to_string());
                d.timeout_sec.set(timeout_sec.map(|t| t.to_string()).unwrap_or_default());
                d.next.set(next.clone());
                d.on_no_reply.set(opt(on_no_reply));
                d.on_delivery_failed.set(opt(on_delivery_failed));
            }
            StepKind::Http { method, url, headers, body, save_as, timeout_ms, retries, next, on_error } => {
                d.method.set(method.as_str().into());
                d.url.set(url.clone());
                d.headers.set(headers.iter().map(|h| PairRow::new(h.name.clone(), h.value.clone())).collect());
                d.body.set(opt(body));
                d.save_as.set(save_as.clone());
                d.timeout_ms.set(timeout_ms.to_string());
                d.retries.set(retries.to_string());
                d.next.set(next.clone());
                d.on_error.set(opt(on_error));
            }
            StepKind::Script { code, next, on_error } => {
                d.code.set(code.clone());
                d.next.set(next.clone());
                d.on_error.set(opt(on_error));
            }
            StepKind::Set { vars, attributes, add_tags, remove_tags, status, next } => {
                d.vars.set(vars.iter().map(|(k, v)| PairRow::new(k.clone(), v.clone())).collect());
                d.attributes.set(attributes.iter().map(|(k, v)| PairRow::new(k.clone(), v.clone())).collect());
                d.add_tags.set(add_tags.join(", "));
                d.remove_tags.set(remove_tags.join(", "));
                d.status.set(opt(status));
                d.next.set(opt(next));
            }
            StepKind::If { condition, then, otherwise } => {
                d.condition.set(condition.clone());
                d.then.set(then.clone());
                d.otherwise.set(otherwise.clone());
            }
            StepKind::Switch { value, cases, default } => {
                d.value.set(value.clone());
                d.cases.set(
                    cases
                        .iter()
                        .map(|c| {
                            let shown = match &c.equals {
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            PairRow::new(shown, c.next.clone())
                        })
                        .collect(),
                );
                d.default.set(default.clone());
            }
            StepKind::Wait { seconds, until, next } => {
                d.seconds.set(seconds.map(|s| s.to_string()).unwrap_or_default());
                d.until.set(opt(until));
                d.next.set(next.clone());
            }
            StepKind::Goto { target } => d.target.set(target.clone()),
            StepKind::Run { scenario, next } => {
                d.scenario.set(scenario.clone());
                d.next.set(opt(next));
            }
            StepKind::Handover { note, next } => {
                d.note.set(note.clone());
                d.next.set(opt(next));
            }
            StepKind::End { goal } => d.goal.set(opt(goal)),
        }
        d
    }

    /// The step the form describes; `Err` names fields that are not numbers.
    fn step(&self) -> Result<Step, Vec<&'static str>> {
        let mut bad = Vec::new();
        let mut int = |field: &'static str, value: RwSignal<String>| -> Option<i64> {
            let raw = value.get_untracked();
            let raw = raw.trim();
            if raw.is_empty() {
                return None;
            }
            match raw.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    bad.push(field);
                    None
                }
            }
        };
        let get = |v: RwSignal<String>| v.get_untracked();
        let opt = non_empty;
        let pairs = |rows: RwSignal<Vec<PairRow>>| -> BTreeMap<String, String> {
            rows.get_untracked()
                .iter()
                .filter(|r| !r.key.get_untracked().trim().is_empty())
                .map(|r| (r.key.get_untracked().trim().to_string(), r.value.get_untracked()))
                .collect()
        };
        let buttons = || self.buttons.get_untracked().iter().map(ButtonRow::button).collect::<Vec<_>>();
        let kind = match get(self.kind).as_str() {
            "message" => StepKind::Message { text: get(self.text), buttons: buttons(), media_url: opt(self.media_url), next: opt(self.next) },
            "ask" => StepKind::Ask {
                prompt: get(self.prompt),
                expect: parse_expect(&get(self.expect)),
                var: get(self.var).trim().to_string(),
                choices: list(self.choices),
                buttons: buttons(),
                reask: opt(self.reask),
                max_reasks: int("max_reasks", self.max_reasks).map_or(3, |n| n.clamp(0, u32::MAX as i64) as u32),
                timeout_sec: int("timeout_sec", self.timeout_sec),
                next: get(self.next).trim().to_string(),
                on_no_reply: opt(self.on_no_reply),
                on_delivery_failed: opt(self.on_delivery_failed),
            },
            "http" => StepKind::Http {
                method: parse_method(&get(self.method)),
                url: get(self.url),
                headers: self
                    .headers
                    .get_untracked()
                    .iter()
                    .filter(|h| !h.key.get_untracked().trim().is_empty() || !h.value.get_untracked().is_empty())
                    .map(|h| Header { name: h.key.get_untracked().trim().to_string(), value: h.value.get_untracked() })
                    .collect(),
                body: opt(self.body),
                save_as: get(self.save_as).trim().to_string(),
                timeout_ms: int("timeout_ms", self.timeout_ms).map_or(10_000, |n| n.max(0) as u64),
                retries: int("retries", self.retries).map_or(0, |n| n.clamp(0, u32::MAX as i64) as u32),
                next: get(self.next).trim().to_string(),
                on_error: opt(self.on_error),
            },
            "script" => StepKind::Script { code: get(self.code), next: get(self.next).trim().to_string(), on_error: opt(self.on_error) },
            "set" => StepKind::Set {
                vars: pairs(self.vars),
                attributes: pairs(self.attributes),
                add_tags: list(self.add_tags),
                remove_tags: list(self.remove_tags),
                status: opt(self.status),
                next: opt(self.next),
            },
            "if" => StepKind::If { condition: get(self.condition), then: get(self.then).trim().to_string(), otherwise: get(self.otherwise).trim().to_string() },
            "switch" => StepKind::Switch {
                value: get(self.value),
                cases: self
                    .cases
                    .get_untracked()
                    .iter()
                    .map(|c| {
                        // `5` is the number 5, `"5"` and `yes` are strings.
                        let raw = c.key.get_untracked();
                        let equals = serde_json::from_slice(raw.trim().as_bytes()).unwrap_or(serde_json::Value::String(raw));
                        Case { equals, next: c.value.get_untracked().trim().to_string() }
                    })
                    .collect(),
                default: get(self.default).trim().to_string(),
            },
            "wait" => StepKind::Wait { seconds: int("seconds", self.seconds), until: opt(self.until), next: get(self.next).trim().to_string() },
            "goto" => StepKind::Goto { target: get(self.target).trim().to_string() },
            "run" => StepKind::Run { scenario: get(self.scenario).trim().to_string(), next: opt(self.next) },
            "handover" => StepKind::Handover { note: get(self.note), next: opt(self.next) },
            _ => StepKind::End { goal: opt(self.goal) },
        };
        if bad.is_empty() {
            Ok(Step { id: get(self.id).trim().to_string(), kind })
        } else {
            Err(bad)
        }
    }
}

/// One field of the step form, by what it edits. The form of each step
/// type is a list of these ([`form_of`]), rendered by one function: a
/// table instead of twelve hand-written forms keeps the browser bundle
/// small and the forms consistent.
#[derive(Clone, Copy)]
enum F {
    /// A one-line text field, half width.
    Line(K, &'static str),
    /// A one-line text field, full width.
    Wide(K, &'static str),
    /// A multi-line template or code area.
    Area(K, &'static str, u32),
    /// Another step's id (suggested from the scenario's steps).
    Ref(K, &'static str),
    /// One of fixed values.
    Pick(K, &'static str, &'static [&'static str]),
    Buttons,
    /// Name/value rows: `headers`, `vars`, `attributes` or `cases`.
    Pairs(K, &'static str, K, K),
}

/// The fields of a step type, in form order.
fn form_of(kind: &str) -> &'static [F] {
    use F::*;
    match kind {
        "message" => &[Area(K::ScnText, "text", 4), Buttons, Line(K::ScnMediaUrl, "media_url"), Ref(K::ScnNext, "next")],
        "ask" => &[
            Area(K::ScnPrompt, "prompt", 3),
            Pick(K::ScnExpect, "expect", &EXPECTS),
            Line(K::ScnVar, "var"),
            Line(K::ScnChoices, "choices"),
            Line(K::ScnMaxReasks, "max_reasks"),
            Line(K::ScnTimeoutSec, "timeout_sec"),
            Ref(K::ScnNext, "next"),
            Ref(K::ScnOnNoReply, "on_no_reply"),
            Ref(K::ScnOnDeliveryFailed, "on_delivery_failed"),
            Area(K::ScnReask, "reask", 2),
            Buttons,
        ],
        "http" => &[
            Pick(K::ScnMethod, "method", &METHODS),
            Line(K::ScnSaveAs, "save_as"),
            Wide(K::ScnUrl, "url"),
            Pairs(K::ScnHeaders, "headers", K::Name, K::ScnValue),
            Area(K::ScnBody, "body", 4),
            Line(K::ScnTimeoutMs, "timeout_ms"),
            Line(K::ScnRetries, "retries"),
            Ref(K::ScnNext, "next"),
            Ref(K::ScnOnError, "on_error"),
        ],
        "script" => &[Area(K::ScnCode, "code", 12), Ref(K::ScnNext, "next"), Ref(K::ScnOnError, "on_error")],
        "set" => &[
            Pairs(K::ScnVars, "vars", K::Name, K::ScnValue),
            Pairs(K::ScnAttributes, "attributes", K::Name, K::ScnValue),
            Line(K::ScnAddTags, "add_tags"),
            Line(K::ScnRemoveTags, "remove_tags"),
            Line(K::ScnLeadStatus, "status"),
            Ref(K::ScnNext, "next"),
        ],
        "if" => &[Wide(K::ScnCondition, "condition"), Ref(K::ScnThen, "then"), Ref(K::ScnOtherwise, "otherwise")],
        "switch" => &[
            Wide(K::ScnSwitchValue, "value"),
            Pairs(K::ScnCases, "cases", K::ScnEquals, K::ScnNext),
            Ref(K::ScnDefaultBranch, "default"),
        ],
        "wait" => &[Line(K::ScnWaitSeconds, "seconds"), Line(K::ScnWaitUntil, "until"), Ref(K::ScnNext, "next")],
        "goto" => &[Ref(K::ScnTarget, "target")],
        "run" => &[Line(K::ScnRunScenario, "scenario"), Ref(K::ScnNext, "next")],
        "handover" => &[Area(K::ScnHandoverNote, "note", 3), Ref(K::ScnNext, "next")],
        _ => &[Line(K::ScnGoal, "goal")],
    }
}

impl StepDraft {
    /// The text signal of field `name` (every one-line field and area).
    fn text(&self, name: &str) -> RwSignal<String> {
        match name {
            "id" => self.id,
            "type" => self.kind,
            "text" => self.text,
            "media_url" => self.media_url,
            "next" => self.next,
            "prompt" => self.prompt,
            "expect" => self.expect,
            "var" => self.var,
            "choices" => self.choices,
            "reask" => self.reask,
            "max_reasks" => self.max_reasks,
            "timeout_sec" => self.timeout_sec,
            "on_no_reply" => self.on_no_reply,
            "on_delivery_failed" => self.on_delivery_failed,
            "method" => self.method,
            "url" => self.url,
            "body" => self.body,
            "save_as" => self.save_as,
            "timeout_ms" => self.timeout_ms,
            "retries" => self.retries,
            "on_error" => self.on_error,
            "code" => self.code,
            "add_tags" => self.add_tags,
            "remove_tags" => self.remove_tags,
            "status" => self.status,
            "condition" => self.condition,
            "then" => self.then,
            "otherwise" => self.otherwise,
            "value" => self.value,
            "default" => self.default,
            "seconds" => self.seconds,
            "until" => self.until,
            "target" => self.target,
            "scenario" => self.scenario,
            "note" => self.note,
            _ => self.goal,
        }
    }

    /// The rows of a name/value list.
    fn pairs(&self, name: &str) -> RwSignal<Vec<PairRow>> {
        match name {
            "headers" => self.headers,
            "vars" => self.vars,
            "attributes" => self.attributes,
            _ => self.cases,
        }
    }
}

/// The problem with `field` of step `index`: a number that does not
/// parse, else the latest check's message.
fn step_field_error(
    issues: Signal<Vec<StepIssue>>,
    bad_numbers: RwSignal<Vec<&'static str>>,
    index: usize,
    field: &'static str,
) -> Signal<Option<String>> {
    let locale = use_locale();
    Signal::derive(move || {
        if bad_numbers.with(|b| b.contains(&field)) {
            return Some(t(locale.get(), K::ScnNotANumber).to_string());
        }
        issues.with(|all| all.iter().find(|e| e.index == Some(index) && e.field == field).map(|e| e.message.clone()))
    })
}

/// One field of the step form.
fn field_view(field: F, draft: StepDraft, error: impl Fn(&'static str) -> Signal<Option<String>>) -> AnyView {
    match field {
        F::Line(label, name) => view! { <Line label name value=draft.text(name) error=error(name) wide=false/> }.into_any(),
        F::Wide(label, name) => view! { <Line label name value=draft.text(name) error=error(name) wide=true/> }.into_any(),
        F::Area(label, name, rows) => view! { <Area label name value=draft.text(name) error=error(name) rows/> }.into_any(),
        F::Ref(label, name) => view! { <StepRef label name value=draft.text(name) error=error(name)/> }.into_any(),
        F::Pick(label, name, options) => view! { <Choice label name value=draft.text(name) options/> }.into_any(),
        F::Buttons => view! { <ButtonsEditor rows=draft.buttons/> }.into_any(),
        F::Pairs(label, name, key_label, value_label) => view! { <PairsEditor label rows=draft.pairs(name) key_label value_label/> }.into_any(),
    }
}

/// The side form of one step: the fields of its type. Enter (in a
/// one-line field) applies, Escape closes without applying.
#[component]
fn StepForm(
    scenario: RwSignal<Scenario>,
    index: usize,
    issues: Signal<Vec<StepIssue>>,
    read_only: bool,
    on_apply: Callback<()>,
    on_close: Callback<()>,
) -> impl IntoView {
    let Some(step) = scenario.with_untracked(|s| s.steps.get(index).cloned()) else {
        return ().into_any();
    };
    let draft = StepDraft::new(&step);
    let bad_numbers = RwSignal::new(Vec::<&'static str>::new());
    let original_id = step.id.clone();
    let apply = move || {
        if read_only {
            return;
        }
        match draft.step() {
            Err(bad) => bad_numbers.set(bad),
            Ok(new_step) => {
                let old = original_id.clone();
                scenario.update(|s| {
                    if index < s.steps.len() {
                        let new_id = new_step.id.clone();
                        s.steps[index] = new_step;
                        rename_references(s, &old, &new_id);
                    }
                });
                on_apply.run(());
            }
        }
    };
    let error = move |field: &'static str| step_field_error(issues, bad_numbers, index, field);
    let mine = Signal::derive(move || issues.with(|all| all.iter().filter(|e| e.index == Some(index)).cloned().collect::<Vec<_>>()));
    let step_ids = Signal::derive(move || scenario.with(|s| s.steps.iter().map(|s| s.id.clone()).collect::<Vec<_>>()));
    let fields = move || form_of(&draft.kind.get()).iter().map(|f| field_view(*f, draft, error)).collect_view();
    view! {
        <form class="flex flex-col gap-2 rounded border border-sky-200 bg-white p-3 shadow-sm" data-testid="step-form" data-step-index=index
            on:submit=move |ev| { ev.prevent_default(); apply(); }
            on:keydown=move |ev| if ev.key() == "Escape" { ev.prevent_default(); on_close.run(()) }>
            <datalist id="step-ids">
                {move || step_ids.get().into_iter().map(|id| view! { <option value=id></option> }).collect_view()}
            </datalist>
            <fieldset class="grid grid-cols-2 gap-2" disabled=read_only>
                <Line label=K::ScnStepId name="id" value=draft.id error=error("id") wide=false autofocus=true/>
                <Choice label=K::ScnStepType name="type" value=draft.kind options=&STEP_TYPES/>
                <Show when=move || mine.with(|m| !m.is_empty())>
                    <ul class="col-span-2 rounded bg-rose-50 px-2 py-1 text-xs text-rose-800" data-testid="form-problems">
                        {move || mine.get().into_iter().map(|e| view! { <li>{format!("{}: {}", e.field, e.message)}</li> }).collect_view()}
                    </ul>
                </Show>
                {fields}
            </fieldset>
            <div class="flex items-center gap-2">
                {(!read_only).then(|| view! { <button type="submit" class=PRIMARY data-testid="apply-step">{l(K::ScnApply)}</button> })}
                <button type="button" class=BUTTON data-testid="close-step" on:click=move |_| on_close.run(())>{l(K::Close)}</button>
                <span class="text-[11px] text-slate-500">{l(K::ScnStepFormHint)}</span>
            </div>
        </form>
    }
    .into_any()
}

/// A one-line field of the step form (`wide`: both columns).
#[component]
fn Line(
    label: K,
    name: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    wide: bool,
    #[prop(optional)] autofocus: bool,
) -> impl IntoView {
    view! {
        <label class="flex min-w-0 flex-col gap-0.5" class:col-span-2=wide>
            <span class="text-[11px] font-medium text-slate-600">{l(label)}</span>
            <input name=name class=INPUT autofocus=autofocus aria-invalid=move || error.get().is_some().to_string() bind:value=value/>
            <FieldError name error/>
        </label>
    }
    .into_any()
}

/// A field naming another step (free text, the step ids suggested).
#[component]
fn StepRef(label: K, name: &'static str, value: RwSignal<String>, error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <label class="flex min-w-0 flex-col gap-0.5">
            <span class="text-[11px] font-medium text-slate-600">{l(label)}</span>
            <input name=name list="step-ids" class=format!("{INPUT} font-mono") aria-invalid=move || error.get().is_some().to_string() bind:value=value/>
            <FieldError name error/>
        </label>
    }
    .into_any()
}

/// A template or code area of the step form (both columns).
#[component]
fn Area(label: K, name: &'static str, value: RwSignal<String>, error: Signal<Option<String>>, rows: u32) -> impl IntoView {
    view! {
        <label class="col-span-2 flex min-w-0 flex-col gap-0.5">
            <span class="text-[11px] font-medium text-slate-600">{l(label)}</span>
            <textarea name=name rows=rows spellcheck="false" class=format!("{INPUT} font-mono text-xs")
                aria-invalid=move || error.get().is_some().to_string() bind:value=value></textarea>
            <FieldError name error/>
        </label>
    }
    .into_any()
}

/// The message under a field, when it has a problem.
#[component]
fn FieldError(name: &'static str, error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || error.get().is_some()>
            <span class="text-xs text-rose-600" data-error-for=name>{move || error.get()}</span>
        </Show>
    }
    .into_any()
}

/// A select of fixed values.
#[component]
fn Choice(label: K, name: &'static str, value: RwSignal<String>, options: &'static [&'static str]) -> impl IntoView {
    view! {
        <label class="flex min-w-0 flex-col gap-0.5">
            <span class="text-[11px] font-medium text-slate-600">{l(label)}</span>
            <select name=name class=INPUT prop:value=move || value.get() on:change=move |ev| value.set(event_target_value(&ev))>
                {options.iter().map(|option| view! { <option value=*option selected=move || value.get() == *option>{*option}</option> }).collect_view()}
            </select>
        </label>
    }
    .into_any()
}

/// Buttons of a message or ask: label, kind, value, url.
#[component]
fn ButtonsEditor(rows: RwSignal<Vec<ButtonRow>>) -> impl IntoView {
    view! {
        <fieldset class="col-span-2 rounded border border-slate-200 p-1.5" data-testid="buttons-editor">
            <legend class="px-1 text-[11px] font-medium text-slate-600">{l(K::ScnButtons)}</legend>
            {move || rows.get().into_iter().enumerate().map(|(i, row)| view! {
                <div class="mb-1 grid grid-cols-[1fr_5.5rem_1fr_auto] gap-1" data-button-row=i>
                    <input name="button-label" class=INPUT placeholder=l(K::ScnButtonLabel) bind:value=row.label/>
                    <select name="button-kind" class=INPUT prop:value=move || row.kind.get() on:change=move |ev| row.kind.set(event_target_value(&ev))>
                        {BUTTON_KINDS.into_iter().map(|k| view! { <option value=k selected=move || row.kind.get() == k>{k}</option> }).collect_view()}
                    </select>
                    <input name="button-value" class=INPUT
                        placeholder=move || if row.kind.get() == "url" { "https://…" } else { tr(K::ScnValue) }
                        prop:value=move || if row.kind.get() == "url" { row.url.get() } else { row.value.get() }
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            if row.kind.get_untracked() == "url" { row.url.set(v) } else { row.value.set(v) }
                        }/>
                    <button type="button" class="px-1 text-rose-700" title=l(K::RemoveField)
                        on:click=move |_| rows.update(|r| { if i < r.len() { r.remove(i); } })>"×"</button>
                </div>
            }).collect_view()}
            <button type="button" class="text-xs text-sky-800 hover:underline" data-testid="add-button"
                on:click=move |_| rows.update(|r| r.push(ButtonRow::new(None)))>{l(K::ScnAddButton)}</button>
        </fieldset>
    }
    .into_any()
}

/// Name/value rows: headers, vars, attributes, switch cases.
#[component]
fn PairsEditor(label: K, rows: RwSignal<Vec<PairRow>>, key_label: K, value_label: K) -> impl IntoView {
    view! {
        <fieldset class="col-span-2 rounded border border-slate-200 p-1.5">
            <legend class="px-1 text-[11px] font-medium text-slate-600">{l(label)}</legend>
            {move || rows.get().into_iter().enumerate().map(|(i, row)| view! {
                <div class="mb-1 grid grid-cols-[1fr_1.5fr_auto] gap-1" data-pair-row=i>
                    <input name="pair-key" class=format!("{INPUT} font-mono") placeholder=l(key_label) bind:value=row.key/>
                    <input name="pair-value" class=format!("{INPUT} font-mono") placeholder=l(value_label) bind:value=row.value/>
                    <button type="button" class="px-1 text-rose-700" title=l(K::RemoveField)
                        on:click=move |_| rows.update(|r| { if i < r.len() { r.remove(i); } })>"×"</button>
                </div>
            }).collect_view()}
            <button type="button" class="text-xs text-sky-800 hover:underline"
                on:click=move |_| rows.update(|r| r.push(PairRow::new("", "")))>{l(K::ScnAddRow)}</button>
        </fieldset>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        serde_json::from_value(serde_json::json!({
            "name": "s", "start": "a", "steps": [
                {"id": "a", "type": "ask", "prompt": "?", "expect": "rating", "var": "r", "next": "b", "on_no_reply": "b"},
                {"id": "b", "type": "switch", "value": "vars.r", "cases": [{"equals": 5, "next": "a"}], "default": "b"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn renaming_a_step_moves_every_reference() {
        let mut s = scenario();
        rename_references(&mut s, "a", "start");
        assert_eq!(s.start, "start");
        let targets: Vec<String> = s.steps.iter().flat_map(|st| st.kind.transitions().into_iter().map(|(_, t)| t.to_string())).collect();
        assert_eq!(targets, ["b", "b", "start", "b"]);
    }

    #[test]
    fn new_ids_do_not_collide() {
        let mut s = scenario();
        assert_eq!(unique_id(&s, "message"), "message");
        s.steps.push(default_step("message", "message".into()));
        assert_eq!(unique_id(&s, "message"), "message_2");
    }

    #[test]
    fn summaries_are_one_line() {
        let s = scenario();
        assert_eq!(summary(&s.steps[0].kind), "? → vars.r (rating)");
        assert_eq!(summary(&s.steps[1].kind), "vars.r (1 cases)");
        assert_eq!(summary(&StepKind::Script { code: "a\nb".into(), next: String::new(), on_error: None }), "a…");
    }

    #[test]
    fn a_draft_gives_back_the_step_it_was_made_from() {
        let owner = Owner::new();
        owner.with(|| {
            for step in scenario().steps {
                let draft = StepDraft::new(&step);
                assert_eq!(draft.step().ok(), Some(step.clone()));
            }
            let draft = StepDraft::new(&default_step("wait", "w".into()));
            draft.seconds.set("soon".into());
            assert_eq!(draft.step().err(), Some(vec!["seconds"]));
        });
    }
}
