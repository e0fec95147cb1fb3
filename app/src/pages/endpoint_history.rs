//! An endpoint's versions in the studio: the history under its row
//! (number, note, author, date; each version against the one before it,
//! or any two picked, side by side; restore, which saves an old version
//! again as the newest; "Older versions" past the newest page), and the notice of an edit that someone else's save overtook,
//! with the two ways on: merge my edits onto theirs, or reload.

use crate::api::endpoints::{diff_endpoint, endpoint_versions, EndpointSaveOutcome, RestoreEndpoint};
use crate::components::diff_table::{ComparePicker, DiffPanel};
use crate::components::older_versions::OlderVersions;
use crate::components::{format_millis, l, load_error, loading};
use comops_core::endpoint::versions::EndpointVersionInfo;
use crate::i18n::{t1, use_locale, K};
use leptos::prelude::*;

const SMALL: &str = "rounded px-1.5 py-0.5 text-xs text-sky-800 hover:bg-sky-50";
const BUTTON: &str = "rounded border border-slate-300 bg-white px-2 py-1 text-sm hover:bg-slate-100";

/// The history of endpoint `id` (whose current version is `current`).
#[component]
pub fn EndpointHistory(id: String, alias: String, current: i64, can_design: bool, on_restored: Callback<()>) -> impl IntoView {
    let locale = use_locale();
    let id = StoredValue::new(id);
    let versions = Resource::new(|| (), move |_| endpoint_versions(id.get_value(), None));
    let compare = RwSignal::new(None::<(i64, i64)>);
    // The newest change is what one compares first.
    let (from, to) = (RwSignal::new((current - 1).max(1)), RwSignal::new(current));
    let restore = ServerAction::<RestoreEndpoint>::new();
    Effect::new(move |_| {
        if let Some(Ok(EndpointSaveOutcome::Saved(_))) = restore.value().get() {
            on_restored.run(());
        }
    });
    let problem = move || match restore.value().get() {
        Some(Ok(EndpointSaveOutcome::Conflict { current, author, .. })) => {
            Some(format!("{} {}", t1(locale.get(), K::MapConflict, author), t1(locale.get(), K::MapConflictCurrent, current)))
        }
        Some(Err(err)) => Some(err.message(locale.get())),
        _ => None,
    };
    let item = move |row: EndpointVersionInfo| {
        let v = row.version;
        view! {
            <li class="flex flex-wrap items-baseline gap-x-3 border-t border-slate-100 py-1" data-version=v.to_string()>
                <span class="font-medium">{format!("v{v}")}
                    {(v == current).then(|| view! { <span class="ml-1 text-xs text-slate-500">{l(K::MapCurrentBadge)}</span> })}
                </span>
                <span class="text-slate-700" data-testid="version-note">{row.note}</span>
                <span class="text-xs text-slate-500">{format!("{} · {}", format_millis(row.created_at), row.author)}</span>
                {(v > 1).then(|| view! {
                    <button class=SMALL data-testid="diff-prev" on:click=move |_| compare.set(Some((v - 1, v)))>{l(K::MapDiffPrev)}</button>
                })}
                {(can_design && v != current).then(|| view! {
                    <button class=SMALL data-testid="restore-version"
                        on:click=move |_| { restore.dispatch(RestoreEndpoint { id: id.get_value(), version: v, base: current }); }>
                        {l(K::ScnRestore)}
                    </button>
                })}
            </li>
        }
        .into_any()
    };
    let older = OlderVersions::new(|| ());
    let list = move || {
        Suspend::new(async move {
            match versions.await {
                Err(err) => load_error(err, locale.get_untracked()),
                Ok(page) => {
                    let button = older.button(&page, |row| row.version, move |before| endpoint_versions(id.get_value(), Some(before)));
                    view! {
                        <ul class="text-sm" data-testid="versions">{page.versions.into_iter().map(item).collect_view()}{older.rows(item)}</ul>
                        {button}
                    }
                    .into_any()
                }
            }
        })
    };
    view! {
        <section class="rounded border border-slate-200 bg-white p-3" data-testid="endpoint-history">
            <h3 class="mb-1 text-sm font-semibold">{move || t1(locale.get(), K::EndpointHistoryOf, &alias)}</h3>
            {move || problem().map(|message| view! { <p class="mb-1 text-sm text-rose-700" role="alert">{message}</p> })}
            // Versions are numbered 1 … current without gaps.
            {(current > 1).then(|| view! {
                <ComparePicker versions=(1..=current).rev().collect() from to on_compare=Callback::new(move |pair| compare.set(Some(pair)))/>
            })}
            <Transition fallback=loading>{list}</Transition>
            {move || compare.get().map(|(from, to)| view! {
                <div class="mt-2 border-t border-slate-200 pt-2"><EndpointDiff id=id.get_value() from to/></div>
            })}
        </section>
    }
    .into_any()
}

/// Versions `from` and `to` of endpoint `id`, side by side.
#[component]
pub fn EndpointDiff(id: String, from: i64, to: i64) -> impl IntoView {
    let diff = Resource::new(|| (), move |_| diff_endpoint(id.clone(), from, to));
    view! { <DiffPanel from to diff/> }
}

/// An edit of endpoint `id` from version `base` that `author`'s version
/// `current` overtook: what they changed, then merge or reload (after a
/// confirm). Nothing was saved; the edits are still in the form.
#[component]
pub fn EndpointConflict(id: String, base: i64, current: i64, author: String, on_merge: Callback<()>, on_reload: Callback<()>) -> impl IntoView {
    let locale = use_locale();
    let confirm_reload = RwSignal::new(false);
    view! {
        <div role="alert" class="mb-3 rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="conflict">
            <p>{move || t1(locale.get(), K::MapConflict, &author)}" "{move || t1(locale.get(), K::MapConflictCurrent, current)}</p>
            <p class="mt-1 text-xs font-medium">{l(K::EndpointConflictTheirs)}</p>
            <EndpointDiff id from=base to=current/>
            <div class="mt-2 flex flex-wrap gap-2">
                <button type="button" class=BUTTON data-testid="conflict-keep" on:click=move |_| on_merge.run(())>{l(K::MapKeepMine)}</button>
                <Show when=move || confirm_reload.get() fallback=move || view! {
                    <button type="button" class=BUTTON data-testid="conflict-reload" on:click=move |_| confirm_reload.set(true)>{l(K::MapReload)}</button>
                }>
                    <span>{l(K::MapReloadConfirm)}</span>
                    <button type="button" class=BUTTON data-testid="confirm-reload" on:click=move |_| on_reload.run(())>{l(K::MapReload)}</button>
                    <button type="button" class=BUTTON on:click=move |_| confirm_reload.set(false)>{l(K::Cancel)}</button>
                </Show>
            </div>
        </div>
    }
    .into_any()
}
