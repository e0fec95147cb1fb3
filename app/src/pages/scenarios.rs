//! Scenarios of one bot: pick the bot, then the scenario list; open one in
//! the structured editor (SPEC §4) or on the canvas (SPEC §6).
//!
//! The editor holds the whole scenario as one value. Three views edit it:
//! a canvas of nodes and links, a dense step table with a side form per
//! step (fields of its type; the canvas reuses it), and the raw JSON for
//! power users and for anything the forms do not cover.
//! Core's structural checks run in the browser on every change, so
//! problems show next to their step at once; the server re-checks on save
//! (templates and scripts too) and its answer replaces the local one until
//! the next edit. Saving asks for a change note and names the version it
//! started from, so a concurrent save is reported, never overwritten.
//!
//! The history lists every version; an old one opens read-only with
//! "Restore", which saves it again as the newest. The chosen bot and
//! scenario live in the query string (`?bot=bot_shop&name=order_status`).
//!
//! One job per file:
//! - this file: the page — the new-scenario form and the delete outcome;
//! - [`list`]: the bot picker and the scenario table;
//! - [`editor`]: one scenario's editor (toolbar, problems, steps or JSON)
//!   beside its history;
//! - [`history`]: the version list and an old version, read-only;
//! - [`steps`]: the step table and its one-line summaries;
//! - [`canvas`]: the same scenario as a canvas of nodes and links (drag,
//!   connect, select, zoom, auto-layout, undo/redo, trace overlay); its
//!   pure model is `components/canvas`;
//! - [`step_form`]: the side form of one step, built from a table of
//!   fields per step type;
//! - [`draft`]: the side form's state and its conversion to a step;
//! - [`model`]: edits of the scenario value (new ids, default steps,
//!   renames), no views.

mod canvas;
mod draft;
mod editor;
mod history;
mod list;
mod model;
mod step_form;
mod steps;

use crate::api::scenarios::{load_scenario_page, CreateScenario, DeleteOutcome, DeleteScenario, TEMPLATES};
use crate::components::form::{can, field_error, general_error, ErrorBanner, TextField};
use crate::components::{l, load_error, loading};
use crate::i18n::{t, use_locale, K};
use comops_core::{Locale, Permission};
use editor::ScenarioEditor;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use list::ScenarioList;
use crate::components::list_pages::ListFilter;

const INPUT: &str = "w-full rounded border border-slate-300 px-2 py-1 text-sm aria-[invalid=true]:border-rose-500";
const BUTTON: &str = "rounded border border-slate-300 px-2.5 py-1 hover:bg-slate-100 disabled:opacity-50";
const PRIMARY: &str = "rounded bg-sky-700 px-3 py-1 text-white hover:bg-sky-600 disabled:opacity-50";


#[component]
pub fn ScenariosPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let bot_param = move || query.with(|q| q.get("bot").unwrap_or_default());
    let name_param = Memo::new(move |_| query.with(|q| q.get("name").unwrap_or_default()));
    let filter = ListFilter::default();
    let can_design = can(Permission::DesignIntegrations);
    let create = ServerAction::<CreateScenario>::new();
    let create_pending = create.pending();
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
        Some(Ok(DeleteOutcome::Refused { endpoints, entry, active_runs, scheduled_jobs, .. })) => {
            Some(refusal_text(locale.get(), &endpoints, entry, active_runs, scheduled_jobs))
        }
        _ => None,
    };
    // Refused only for its scheduled jobs: one more click cancels them
    // and deletes it.
    // (Only for the bot shown: the answer stays when another bot is picked.)
    let held_by_jobs = move || {
        delete.value().with(|v| {
            let (bot, name) = v.as_ref().and_then(|r| r.as_ref().ok()).and_then(DeleteOutcome::held_only_by_jobs)?;
            let shown = Some(bot_param()).filter(|b| !b.is_empty()).unwrap_or_else(current_bot);
            (bot == shown).then(|| (bot.to_string(), name.to_string()))
        })
    };
    let deleting = delete.pending();
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
            <div role="alert" class="mb-3 flex flex-wrap items-center gap-3 rounded border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="delete-refused">
                <span>{refused}</span>
                {move || held_by_jobs().map(|(bot_id, name)| view! {
                    <button class="rounded border border-amber-300 bg-white px-2 py-1 text-rose-700 hover:bg-rose-50" data-testid="cancel-jobs-and-delete"
                        disabled=move || deleting.get()
                        on:click=move |_| { delete.dispatch(DeleteScenario { bot_id: bot_id.clone(), name: name.clone(), cancel_jobs: true }); }>
                        {l(K::ScnCancelJobsAndDelete)}
                    </button>
                })}
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
                    <button type="submit" class=PRIMARY disabled=move || create_pending.get()>{l(K::Create)}</button>
                    <button type="button" class=BUTTON on:click=move |_| show_new.set(false)>{l(K::Cancel)}</button>
                </div>
            </form>
        </Show>
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => load_error(err, locale.get_untracked()),
                    Ok(page) => view! { <ScenarioList page selected=name_param can_design delete filter/> }.into_any(),
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
