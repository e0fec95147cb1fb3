//! The version history of a scenario: its saved versions, newest first,
//! a page at a time; an old one opens read-only in place of the editor, with its
//! differences from the version before it, from the current one, or
//! between any two picked, side by side, and "Restore" (which saves it again as the newest version).

use super::step_form::StepForm;
use super::steps::StepsTable;
use super::{BUTTON, PRIMARY};
use crate::api::scenarios::{diff_scenario, load_scenario, scenario_versions, RestoreScenario, SaveOutcome, VersionRow};
use crate::components::diff_table::{ComparePicker, DiffPanel};
use crate::components::form::ErrorBanner;
use crate::components::older_versions::OlderVersions;
use comops_core::history::HistoryPage;
use crate::components::{format_millis, l, load_error, loading};
use crate::i18n::{t, use_locale, K};
use crate::scenario_issues::scenario_issue_text;
use leptos::prelude::*;

/// A page of versions (the first: `page`; "Older versions" reads on),
/// each opening read-only in place of the editor; the newest is the
/// current one.
#[component]
pub(super) fn VersionList(bot: String, name: String, page: HistoryPage<VersionRow>, viewing: RwSignal<Option<i64>>, older: OlderVersions<VersionRow>) -> impl IntoView {
    let current = page.versions.first().map(|r| r.version).unwrap_or_default();
    let item = move |row: VersionRow| {
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
                <span class="block text-xs text-slate-700">{row.note}</span>
                <span class="block text-[11px] text-slate-500">{format!("{} · {}", format_millis(row.created_at), row.author)}</span>
            </button>
        }
        .into_any()
    };
    let (bot, name) = (StoredValue::new(bot), StoredValue::new(name));
    let button = older.button(&page, |row| row.version, move |before| scenario_versions(bot.get_value(), name.get_value(), Some(before)));
    view! {
        {page.versions.into_iter().map(item).collect_view()}
        {older.rows(item)}
        {button}
    }
    .into_any()
}

/// An old version, read-only, with its diffs and "Restore" (`current`:
/// the current version's number).
#[component]
pub(super) fn OldVersion(
    bot: String,
    name: String,
    version: i64,
    current: i64,
    can_design: bool,
    on_restored: Callback<()>,
    on_close: Callback<()>,
) -> impl IntoView {
    let locale = use_locale();
    let compare = RwSignal::new(None::<(i64, i64)>);
    let (pick_from, pick_to) = (RwSignal::new(version), RwSignal::new(current));
    let (bot_d, name_d) = (StoredValue::new(bot.clone()), StoredValue::new(name.clone()));
    let diff = move || {
        compare.get().map(|(from, to)| {
            let diff = Resource::new(|| (), move |_| diff_scenario(bot_d.get_value(), name_d.get_value(), from, to));
            view! { <div class="mb-3 rounded border border-slate-200 bg-white p-2"><DiffPanel from to diff/></div> }
        })
    };
    let (bot_l, name_l) = (bot.clone(), name.clone());
    let loaded = Resource::new(|| (), move |_| load_scenario(bot_l.clone(), name_l.clone(), version));
    let restore = ServerAction::<RestoreScenario>::new();
    let restore_pending = restore.pending();
    Effect::new(move |_| {
        if let Some(Ok(SaveOutcome::Saved { .. })) = restore.value().get() {
            on_restored.run(());
        }
    });
    let problem = move || match restore.value().get() {
        Some(Ok(SaveOutcome::Invalid { errors })) => Some(format!(
            "{} {}",
            t(locale.get(), K::ScnRestoreInvalid),
            errors.iter().map(|e| format!("{}: {}", e.path, scenario_issue_text(locale.get(), &e.issue))).collect::<Vec<_>>().join("; ")
        )),
        Some(Err(err)) => Some(err.message(locale.get())),
        _ => None,
    };
    view! {
        <div class="rounded border border-amber-200 bg-amber-50/40 p-3" data-testid="old-version" data-version=version
            on:keydown=move |ev| if ev.key() == "Escape" { on_close.run(()) }>
            <Transition fallback=loading>
                {move || {
                    let (bot, name) = (bot.clone(), name.clone());
                    Suspend::new(async move {
                        match loaded.await {
                            Err(err) => load_error(err, locale.get_untracked()),
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
                                            {(version > 1).then(|| view! {
                                                <button class=BUTTON data-testid="diff-prev" on:click=move |_| compare.set(Some((version - 1, version)))>
                                                    {l(K::MapDiffPrev)}
                                                </button>
                                            })}
                                            {(current > version).then(|| view! {
                                                <button class=BUTTON data-testid="diff-current" on:click=move |_| compare.set(Some((version, current)))>
                                                    {l(K::ScnDiffCurrent)}
                                                </button>
                                            })}
                                            {can_design.then(|| view! {
                                                <button class=PRIMARY data-testid="restore" disabled=move || restore_pending.get() on:click=restore_it.clone()>
                                                    {l(K::ScnRestore)}
                                                </button>
                                            })}
                                            <button class=BUTTON data-testid="close-version" on:click=move |_| on_close.run(())>{l(K::Close)}</button>
                                        </div>
                                    </div>
                                    <ErrorBanner message=Signal::derive(problem)/>
                                    // Versions are numbered 1 … current without gaps.
                                    {(current > 1).then(|| view! {
                                        <ComparePicker versions=(1..=current).rev().collect() from=pick_from to=pick_to
                                            on_compare=Callback::new(move |pair| compare.set(Some(pair)))/>
                                    })}
                                    {diff}
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
