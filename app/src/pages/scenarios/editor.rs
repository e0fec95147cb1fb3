//! One scenario open: the editor of its current version beside the
//! version history. The editor edits one [`Scenario`] value in two views
//! (the step table with its side form, or the raw JSON), runs core's
//! checks on every change and saves with a note against the version it
//! started from. Architects dry-run it as edited ([`DryRunPanel`]): the
//! engine's own preview, on the server, with sample params.

use super::canvas::ScenarioCanvas;
use super::history::{OldVersion, VersionList};
use super::model::{default_step, unique_id};
use super::step_form::{StepForm, STEP_TYPES};
use super::steps::StepsTable;
use super::{BUTTON, INPUT, PRIMARY};
use crate::api::scenarios::{
    issues, load_scenario, scenario_trace, scenario_versions, DryRunOutcome, DryRunScenario, LoadedScenario, SaveOutcome, SaveScenario, StepIssue,
};
use crate::components::older_versions::OlderVersions;
use crate::components::{l, load_error, loading};
use crate::i18n::{step_type_text, t, use_locale, K};
use comops_core::scenario::Scenario;
use crate::scenario_issues::scenario_issue_text;
use leptos::prelude::*;

/// One scenario: the editor of its current version, the history on the
/// side, and an old version read-only in place of the editor when opened.
#[component]
pub(super) fn ScenarioEditor(bot: String, name: String, can_design: bool, on_saved: Callback<()>) -> impl IntoView {
    let locale = use_locale();
    // Bumped to reload the current version (after a restore).
    let reloads = RwSignal::new(0u32);
    // Bumped after every save; the history reloads on it.
    let saves = RwSignal::new(0u32);
    let viewing = RwSignal::new(None::<i64>);
    let (bot_c, name_c) = (bot.clone(), name.clone());
    let loaded = Resource::new(move || reloads.get(), move |_| load_scenario(bot_c.clone(), name_c.clone(), 0));
    let (bot_v, name_v) = (bot.clone(), name.clone());
    let versions = Resource::new(move || saves.get(), move |_| scenario_versions(bot_v.clone(), name_v.clone(), None));
    let older = OlderVersions::new(move || saves.get());
    let saved = Callback::new(move |_: ()| {
        saves.update(|n| *n += 1);
        on_saved.run(());
    });
    // A conflict's "load their version": the current one, my edits dropped.
    let reload = Callback::new(move |_: ()| {
        reloads.update(|n| *n += 1);
        saves.update(|n| *n += 1);
    });
    let restored = Callback::new(move |_: ()| {
        viewing.set(None);
        reloads.update(|n| *n += 1);
        saves.update(|n| *n += 1);
        on_saved.run(());
    });
    let (bot_o, name_o) = (bot.clone(), name.clone());
    let (bot_l, name_l) = (bot.clone(), name.clone());
    let name_attr = name.clone();
    view! {
        <section class="mt-6" data-testid="scenario-editor" data-name=name_attr>
            <div class="grid gap-4 lg:grid-cols-[minmax(0,1fr)_18rem] items-start">
                <div class="min-w-0">
                    <div class:hidden=move || viewing.get().is_some()>
                        <Transition fallback=loading>
                            {move || {
                                let (bot, name) = (bot.clone(), name.clone());
                                Suspend::new(async move {
                                    match loaded.await {
                                        Err(err) => load_error(err, locale.get_untracked()),
                                        Ok(loaded) => view! { <EditorBody bot name loaded can_design on_saved=saved on_reload=reload/> }.into_any(),
                                    }
                                })
                            }}
                        </Transition>
                    </div>
                    {move || viewing.get().map(|version| {
                        let current = versions.get_untracked().and_then(Result::ok).and_then(|page| page.versions.first().map(|r| r.version)).unwrap_or(version);
                        view! {
                            <OldVersion bot=bot_o.clone() name=name_o.clone() version current can_design on_restored=restored
                                on_close=Callback::new(move |_| viewing.set(None))/>
                        }
                    })}
                </div>
                <aside class="rounded border border-slate-200 bg-white p-3 lg:sticky lg:top-4" data-testid="versions">
                    <h3 class="mb-2 text-xs font-semibold uppercase text-slate-500">{l(K::ScnVersions)}</h3>
                    <Transition fallback=loading>
                        {move || {
                            let (bot, name) = (bot_l.clone(), name_l.clone());
                            Suspend::new(async move {
                            match versions.await {
                                Err(err) => load_error(err, locale.get_untracked()),
                                Ok(page) => view! { <VersionList bot name page viewing older/> }.into_any(),
                            }
                            })
                        }}
                    </Transition>
                </aside>
            </div>
        </section>
    }
    .into_any()
}

/// The editor of one loaded version: toolbar, problems, steps or JSON, and
/// the side form of the selected step.
#[component]
fn EditorBody(bot: String, name: String, loaded: LoadedScenario, can_design: bool, on_saved: Callback<()>, on_reload: Callback<()>) -> impl IntoView {
    let locale = use_locale();
    let sample_params = loaded.sample_params;
    // The version my edits started from, and what the last save sent (it
    // becomes that base once saved): a conflict's "keep my edits" puts
    // the difference between the two onto the version saved meanwhile.
    let origin = StoredValue::new(loaded.definition.clone());
    let sent = StoredValue::new(None::<Scenario>);
    // After "keep my edits": the version they are now on, and what both
    // sides changed.
    let rebased = RwSignal::new(None::<(i64, Vec<String>)>);
    let scenario = RwSignal::new(loaded.definition);
    let base = RwSignal::new(loaded.version);
    let dirty = RwSignal::new(false);
    let selected = RwSignal::new(None::<usize>);
    let json_mode = RwSignal::new(false);
    let canvas_mode = RwSignal::new(false);
    // The trace overlay of the canvas: counted for the version being edited.
    let overlay_on = RwSignal::new(false);
    let (bot_t, name_t) = (bot.clone(), name.clone());
    let trace = Resource::new(
        move || overlay_on.get().then(|| base.get()),
        move |version| {
            let (bot, name) = (bot_t.clone(), name_t.clone());
            async move {
                match version {
                    Some(version) => scenario_trace(bot, name, version).await.ok(),
                    None => None,
                }
            }
        },
    );
    let overlay = Signal::derive(move || if overlay_on.get() { trace.get().flatten() } else { None });
    let json_text = RwSignal::new(String::new());
    let json_error = RwSignal::new(None::<String>);
    let server_issues = RwSignal::new(None::<Vec<StepIssue>>);
    let asking_note = RwSignal::new(false);
    let dry_open = RwSignal::new(false);
    let note = RwSignal::new(String::new());
    let new_type = RwSignal::new("message".to_string());
    let save = ServerAction::<SaveScenario>::new();
    let save_pending = save.pending();

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
            if let Some(sent) = sent.get_value() {
                origin.set_value(sent);
            }
            rebased.set(None);
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
        // Positions of removed steps go (the step table does not tidy them).
        scenario.update_untracked(|s| {
            let ids: std::collections::BTreeSet<String> = s.steps.iter().map(|st| st.id.clone()).collect();
            s.layout.retain(|id, _| ids.contains(id));
        });
        let json = scenario.with_untracked(|s| serde_json::to_value(s).map(|v| v.to_string()).unwrap_or_default());
        sent.set_value(Some(scenario.get_untracked()));
        save.dispatch(SaveScenario {
            bot_id: bot_s.clone(),
            name: name_s.clone(),
            json,
            note: note.get_untracked(),
            base_version: base.get_untracked(),
        });
    };
    let do_save_click = do_save.clone();
    let bot_d = bot.clone();
    let conflicted = move || matches!(save.value().get(), Some(Ok(SaveOutcome::Conflict { .. })));
    let keep_failed = RwSignal::new(None::<String>);
    let keeping = RwSignal::new(false);
    let (bot_k, name_k) = (bot.clone(), name.clone());
    // "Keep my edits": the version saved meanwhile, with mine on top
    // (`scenario::rebase`); still unsaved, to be checked and saved.
    let keep_mine = Callback::new(move |_: ()| {
        let (bot, name) = (bot_k.clone(), name_k.clone());
        keeping.set(true);
        leptos::task::spawn_local(async move {
            let answer = load_scenario(bot, name, 0).await;
            // The editor may have gone meanwhile (reloaded, left).
            if scenario.is_disposed() {
                return;
            }
            keeping.set(false);
            match answer {
                Ok(theirs) => {
                    let merged = scenario.with_untracked(|mine| origin.with_value(|o| comops_core::scenario::rebase::rebase(o, mine, &theirs.definition)));
                    origin.set_value(theirs.definition);
                    selected.set(None);
                    server_issues.set(None);
                    keep_failed.set(None);
                    scenario.set(merged.scenario);
                    base.set(theirs.version);
                    rebased.set(Some((theirs.version, merged.both_changed)));
                    save.value().set(None);
                    dirty.set(true);
                    if json_mode.get_untracked() {
                        open_json();
                    }
                    // The history shows their version (the diff to look at).
                    on_saved.run(());
                }
                Err(err) => keep_failed.set(Some(err.message(locale.get_untracked()))),
            }
        });
    });

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
                <Show when=move || canvas_mode.get() && !json_mode.get()>
                    <label class="flex items-center gap-1 text-xs text-slate-700">
                        <input type="checkbox" name="trace-overlay" data-testid="trace-overlay" bind:checked=overlay_on/>
                        {l(K::CanvasTrace)}
                    </label>
                </Show>
                <div class="flex overflow-hidden rounded border border-slate-300" role="group">
                    <button class="px-2.5 py-1 text-xs aria-pressed:bg-slate-800 aria-pressed:text-white" data-testid="view-canvas"
                        aria-pressed=move || (canvas_mode.get() && !json_mode.get()).to_string()
                        disabled=move || json_error.get().is_some()
                        on:click=move |_| { json_mode.set(false); canvas_mode.set(true); selected.set(None); }>{l(K::ScnCanvasView)}</button>
                    <button class="px-2.5 py-1 text-xs aria-pressed:bg-slate-800 aria-pressed:text-white" data-testid="view-steps"
                        aria-pressed=move || (!json_mode.get() && !canvas_mode.get()).to_string()
                        disabled=move || json_error.get().is_some()
                        on:click=move |_| { json_mode.set(false); canvas_mode.set(false); }>{l(K::ScnStepsView)}</button>
                    <button class="px-2.5 py-1 text-xs aria-pressed:bg-slate-800 aria-pressed:text-white" data-testid="view-json"
                        aria-pressed=move || json_mode.get().to_string()
                        on:click=move |_| if !json_mode.get_untracked() { canvas_mode.set(false); open_json() }>"JSON"</button>
                </div>
                {can_design.then(|| view! {
                    <button class=BUTTON data-testid="dry-run-toggle" aria-pressed=move || dry_open.get().to_string()
                        on:click=move |_| dry_open.update(|v| *v = !*v)>{l(K::ScnDryRun)}</button>
                })}
                {can_design.then(|| view! {
                    <button class=PRIMARY data-testid="save-scenario"
                        disabled=move || !dirty.get() || json_error.get().is_some() || save_pending.get()
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
                <button type="submit" class=PRIMARY disabled=move || save_pending.get()>{l(K::Save)}</button>
                <button type="button" class=BUTTON on:click=move |_| asking_note.set(false)>{l(K::Cancel)}</button>
            </form>
        </Show>
        {move || message().map(|(ok, text)| view! {
            <div role=if ok { "status" } else { "alert" } data-testid="save-message"
                class=if ok { "mb-3 rounded border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800" }
                    else { "mb-3 rounded border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800" }>
                {text}
                <Show when=conflicted>
                    <div class="mt-2 flex flex-wrap gap-2">
                        <button type="button" class=PRIMARY data-testid="conflict-keep" disabled=move || keeping.get() on:click=move |_| keep_mine.run(())>{l(K::ScnConflictKeepMine)}</button>
                        <button type="button" class=BUTTON data-testid="conflict-reload" on:click=move |_| on_reload.run(())>{l(K::ScnConflictReload)}</button>
                    </div>
                    {move || keep_failed.get().map(|text| view! { <p class="mt-1" data-testid="conflict-keep-error">{text}</p> })}
                </Show>
            </div>
        })}
        {move || rebased.get().map(|(version, both)| {
            let loc = locale.get();
            let both = (!both.is_empty()).then(|| t(loc, K::ScnBothChanged).replacen("{}", &both.join(", "), 1));
            view! {
                <div role="status" data-testid="rebased" class="mb-3 rounded border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
                    {t(loc, K::ScnRebased).replacen("{}", &version.to_string(), 1)}
                    {both.map(|text| view! { <span class="block" data-testid="both-changed">{text}</span> })}
                </div>
            }
        })}
        <ProblemList issues=issue_signal selected/>
        <Show when=move || dry_open.get()>
            <DryRunPanel bot=bot_d.clone() sample=sample_params.clone() scenario server_issues/>
        </Show>
        <div class="mb-2 flex flex-wrap items-end gap-3">
            <label class="flex min-w-64 flex-1 flex-col gap-1">
                <span class="text-xs font-medium text-slate-600">{l(K::Description)}</span>
                <input name="scenario-description" class=INPUT disabled={!can_design}
                    value=scenario.with_untracked(|s| s.description.clone())
                    prop:value=move || scenario.with(|s| s.description.clone())
                    on:change=move |ev| { let text = event_target_value(&ev); scenario.update(|s| s.description = text); changed.run(()); }/>
            </label>
            {can_design.then(|| view! {
                <div class="flex items-end gap-2" data-testid="add-step" class:hidden=move || canvas_mode.get()>
                    <label class="flex flex-col gap-1">
                        <span class="text-xs font-medium text-slate-600">{l(K::ScnStepType)}</span>
                        <select name="new-step-type" class="rounded border border-slate-300 px-2 py-1 text-sm"
                            on:change=move |ev| new_type.set(event_target_value(&ev))>
                            {STEP_TYPES.into_iter().map(|kind| view! { <option value=kind selected=move || new_type.get() == kind>{move || step_type_text(locale.get(), kind)}</option> }).collect_view()}
                        </select>
                    </label>
                    <button class=BUTTON data-testid="add-step-button" disabled=move || json_mode.get() on:click=move |_| add_step()>
                        {l(K::ScnAddStep)}
                    </button>
                </div>
            })}
        </div>
        {move || overlay.get().map(|o| view! {
            <p class="mb-1 text-xs text-indigo-800" data-testid="trace-summary">
                {move || t(locale.get(), K::CanvasTraceSummary).replacen("{}", &o.version.to_string(), 1).replacen("{}", &o.runs.to_string(), 1)}
            </p>
        })}
        <Show when=move || json_mode.get() fallback=move || view! {
            <Show when=move || canvas_mode.get() fallback=move || view! {
            <div class=move || if selected.get().is_some() { "grid items-start gap-3 xl:grid-cols-[minmax(0,1fr)_22rem]" } else { "grid gap-3" }>
                <StepsTable scenario issues=issue_signal selected editable=can_design on_change=changed/>
                {move || selected.get().map(|index| view! {
                    <StepForm scenario index issues=issue_signal read_only={!can_design}
                        on_apply=Callback::new(move |_| { changed.run(()); selected.set(None); })
                        on_close=Callback::new(move |_| selected.set(None))/>
                })}
            </div>
            }>
                <ScenarioCanvas scenario issues=issue_signal editable=can_design on_change=changed overlay picked=selected/>
            </Show>
        }>
            <div class="flex flex-col gap-1" data-testid="json-editor">
                <textarea name="scenario-json" rows=24 spellcheck="false" readonly={!can_design}
                    class="w-full rounded border border-slate-300 p-2 font-mono text-xs aria-[invalid=true]:border-rose-500"
                    aria-invalid=move || json_error.get().is_some().to_string()
                    prop:value=move || json_text.get()
                    on:input=move |ev| on_json_input(event_target_value(&ev))></textarea>
                <Show when=move || json_error.get().is_some()>
                    <span class="text-xs text-rose-600" data-error-for="json">
                        {move || {
                            let loc = locale.get();
                            t(loc, K::ScnJsonInvalid).replacen("{}", &crate::json_error::json_error_text(loc, &json_error.get().unwrap_or_default()), 1)
                        }}
                    </span>
                </Show>
                <span class="text-xs text-slate-500">{l(K::ScnNameFixedHint)}</span>
            </div>
        </Show>
    }
    .into_any()
}

/// Why the sample params cannot be sent (checked in the browser).
#[derive(Clone, Copy, PartialEq)]
enum ParamsProblem {
    NotJson { line: usize, column: usize },
    NotObject,
}

fn check_params(text: &str) -> Option<ParamsProblem> {
    match serde_json::from_slice::<serde_json::Value>(text.as_bytes()) {
        Err(err) => Some(ParamsProblem::NotJson { line: err.line(), column: err.column() }),
        Ok(serde_json::Value::Object(_)) => None,
        Ok(_) => Some(ParamsProblem::NotObject),
    }
}

/// The dry run of the scenario as edited: sample params (a call body) in,
/// the steps it would enter, the messages it would send and where it
/// would stop out — rendered by the engine on the server; nothing is sent.
#[component]
fn DryRunPanel(bot: String, sample: String, scenario: RwSignal<Scenario>, server_issues: RwSignal<Option<Vec<StepIssue>>>) -> impl IntoView {
    let locale = use_locale();
    // The bound endpoint's example request, else a bare recipient.
    let params = RwSignal::new(if sample.trim().is_empty() { "{\n  \"userId\": \"54321\"\n}".to_string() } else { sample });
    let problem = Memo::new(move |_| params.with(|p| check_params(p)));
    let run = ServerAction::<DryRunScenario>::new();
    let run_pending = run.pending();
    Effect::new(move |_| {
        if let Some(Ok(DryRunOutcome::Invalid { errors })) = run.value().get() {
            server_issues.set(Some(errors));
        }
    });
    let go = move || {
        if problem.get_untracked().is_some() {
            return;
        }
        let json = scenario.with_untracked(|s| serde_json::to_value(s).map(|v| v.to_string()).unwrap_or_default());
        run.dispatch(DryRunScenario { bot_id: bot.clone(), json, params: params.get_untracked() });
    };
    let params_message = move || {
        let locale = locale.get();
        problem.get().map(|p| match p {
            ParamsProblem::NotJson { line, column } => {
                t(locale, K::DryParamsNotJson).replacen("{}", &line.to_string(), 1).replacen("{}", &column.to_string(), 1)
            }
            ParamsProblem::NotObject => t(locale, K::DryParamsNotObject).to_string(),
        })
    };
    let alert = "rounded border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800";
    view! {
        <section class="mb-3 rounded border border-indigo-200 bg-indigo-50/40 p-3" data-testid="dry-run">
            <p class="mb-2 text-xs text-slate-600">{l(K::DryHint)}</p>
            <div class="flex flex-wrap items-start gap-3">
                <label class="flex min-w-64 flex-1 flex-col gap-1">
                    <span class="text-xs font-medium text-slate-600">{l(K::DryParams)}</span>
                    <textarea name="dry-params" rows=4 spellcheck="false"
                        class="w-full rounded border border-slate-300 p-2 font-mono text-xs aria-[invalid=true]:border-rose-500"
                        aria-invalid=move || problem.get().is_some().to_string()
                        prop:value=move || params.get()
                        on:input=move |ev| params.set(event_target_value(&ev))></textarea>
                    <Show when=move || problem.get().is_some()>
                        <span class="text-xs text-rose-600" data-error-for="dry-params">{params_message}</span>
                    </Show>
                </label>
                <button class=PRIMARY data-testid="dry-run-go" disabled=move || problem.get().is_some() || run_pending.get()
                    on:click={
                        let go = go.clone();
                        move |_| go()
                    }>{l(K::DryRunGo)}</button>
            </div>
            // The last result is hidden while the params cannot be sent:
            // it answered other params.
            {move || run.value().get().filter(|_| problem.get().is_none()).map(|result| match result {
                Err(err) => view! { <div role="alert" class=format!("mt-2 {alert}") data-testid="dry-error">{err.message(locale.get())}</div> }.into_any(),
                Ok(DryRunOutcome::BadParams { message }) => view! {
                    <div role="alert" class=format!("mt-2 {alert}") data-testid="dry-error">{message}</div>
                }.into_any(),
                Ok(DryRunOutcome::Invalid { errors }) => view! {
                    <div role="alert" class=format!("mt-2 {alert}") data-testid="dry-error">
                        {move || t(locale.get(), K::DryInvalid).replacen("{}", &errors.len().to_string(), 1)}
                    </div>
                }.into_any(),
                Ok(DryRunOutcome::Ran { steps, messages, stopped_at, stop, error }) => {
                    let stop_attr = stop.clone();
                    let tone = if stop == "error" { "font-medium text-rose-700" } else { "text-slate-700" };
                    let reason = move || {
                        let locale = locale.get();
                        match stop.as_str() {
                            "wait" => t(locale, K::DryStopWait).to_string(),
                            "ask" => t(locale, K::DryStopAsk).to_string(),
                            "http" => t(locale, K::DryStopHttp).to_string(),
                            "script" => t(locale, K::DryStopScript).to_string(),
                            "limit" => t(locale, K::DryStopLimit).to_string(),
                            "end" => t(locale, K::DryStopEnd).to_string(),
                            _ => t(locale, K::DryStopError).replacen("{}", &crate::trace_detail::detail_text(locale, "scenario.error", error.as_deref().unwrap_or_default()), 1),
                        }
                    };
                    let at = stopped_at.unwrap_or_else(|| "—".into());
                    let none = messages.is_empty();
                    view! {
                        <div class="mt-2 flex flex-col gap-2 text-sm" data-testid="dry-result">
                            <p data-testid="dry-steps"><span class="font-medium">{l(K::DrySteps)}": "</span>
                                <span class="font-mono text-xs">{steps.join(" → ")}</span></p>
                            <div>
                                <p class="font-medium">{l(K::DryMessages)}</p>
                                {none.then(|| view! { <p class="text-xs text-slate-500">{l(K::DryNoMessages)}</p> })}
                                <ol class="mt-1 flex flex-col gap-1">
                                    {messages.into_iter().map(|m| view! {
                                        <li class="rounded border border-slate-200 bg-white px-2 py-1" data-testid="dry-message" data-step=m.step.clone()>
                                            <span class="mr-2 font-mono text-[11px] text-slate-500">{m.step.clone()}</span>
                                            <span class="whitespace-pre-wrap">{m.text.clone()}</span>
                                            {(!m.buttons.is_empty()).then(|| view! {
                                                <span class="ml-2 text-xs text-slate-600">{m.buttons.iter().map(|b| format!("[{b}]")).collect::<Vec<_>>().join(" ")}</span>
                                            })}
                                            {(!m.missing.is_empty()).then(|| {
                                                let names = m.missing.join(", ");
                                                view! {
                                                    <p class="mt-0.5 text-xs text-amber-800" data-testid="dry-missing">
                                                        {move || t(locale.get(), K::DryMissing).replacen("{}", &names, 1)}
                                                    </p>
                                                }
                                            })}
                                        </li>
                                    }).collect_view()}
                                </ol>
                            </div>
                            <p data-testid="dry-stop" data-stop=stop_attr class=tone>
                                {move || t(locale.get(), K::DryStoppedAt).replacen("{}", &at, 1).replacen("{}", &reason(), 1)}
                            </p>
                        </div>
                    }.into_any()
                }
            })}
        </section>
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
                        // The step's id as written, its field as the form calls it.
                        let field = super::step_form::field_words(locale.get(), &issue.field);
                        let place = match &issue.step {
                            Some(step) => format!("{step} · {field}"),
                            None => issue.path.clone(),
                        };
                        view! {
                            <li data-problem=issue.path.clone()>
                                <button class="font-mono hover:underline" on:click=move |_| if index.is_some() { selected.set(index) }>{place}</button>
                                ": "{scenario_issue_text(locale.get(), &issue.issue)}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </div>
        </Show>
    }
    .into_any()
}
