//! A map's history: its versions a page at a time (number, note, author,
//! date; "Older versions" past the newest page), opening
//! an old one read-only, the side-by-side diff of two versions, restore.

use crate::api::maps::{diff_map, map_versions, restore_map, MapSaveOutcome, MapVersionRow};
use crate::components::diff_table::{ComparePicker, DiffPanel};
use crate::components::older_versions::OlderVersions;
use crate::components::{format_millis, l, load_error, loading};
use crate::i18n::{use_locale, K};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

const SMALL: &str = "rounded px-1.5 py-0.5 text-xs text-sky-800 hover:bg-sky-50";

#[component]
pub(super) fn MapHistory(
    map_id: String,
    /// Whether an old version is on screen (a restore then opens the current one).
    old: bool,
    editable: bool,
    base: RwSignal<i64>,
    history_epoch: RwSignal<u32>,
    on_outcome: Callback<Result<MapSaveOutcome, crate::error::AppError>>,
) -> impl IntoView {
    let locale = use_locale();
    let map_id = StoredValue::new(map_id);
    let versions = Resource::new(move || history_epoch.get(), move |_| map_versions(map_id.get_value(), None));
    let from = RwSignal::new(0i64);
    let to = RwSignal::new(0i64);
    let compare = RwSignal::new(None::<(i64, i64)>);
    let navigate = use_navigate();
    let restore = Action::new(move |version: &i64| {
        let call = restore_map(map_id.get_value(), *version, base.get_untracked());
        let navigate = navigate.clone();
        async move {
            let result = call.await;
            let saved = matches!(result, Ok(MapSaveOutcome::Saved { .. }));
            on_outcome.run(result);
            if saved && old {
                navigate(&format!("/maps/{}", map_id.get_value()), Default::default());
            }
        }
    });
    let older = OlderVersions::new(move || history_epoch.get());
    let list = move || {
        Suspend::new(async move { match versions.await {
            Ok(page) => {
                let newest = page.versions.first().map(|r| r.version).unwrap_or(0);
                // The newest change is what one compares first.
                from.set((newest - 1).max(1));
                to.set(newest);
                let item = move |row: MapVersionRow| {
                    let v = row.version;
                    let href = format!("/maps/{}?v={v}", map_id.get_value());
                    view! {
                        <li class="border-t border-slate-100 py-1.5" data-version=v.to_string()>
                            <div class="flex items-baseline justify-between gap-2">
                                <span class="font-medium">{format!("v{v}")}
                                    {(v == newest).then(|| view! { <span class="ml-1 text-xs text-slate-500">{l(K::MapCurrentBadge)}</span> })}
                                </span>
                                <span class="text-xs text-slate-500">{format_millis(row.created_at)}</span>
                            </div>
                            <p class="text-slate-700" data-testid="version-note">{row.note}</p>
                            <p class="text-xs text-slate-500">{row.author}</p>
                            <div class="flex gap-1">
                                <a class=SMALL href=href data-testid="view-version">{l(K::MapView)}</a>
                                {(v > 1).then(|| view! {
                                    <button class=SMALL data-testid="diff-prev" on:click=move |_| compare.set(Some((v - 1, v)))>{l(K::MapDiffPrev)}</button>
                                })}
                                {(editable && v != newest && row.restorable).then(|| view! {
                                    <button class=SMALL data-testid="restore-version" on:click=move |_| { restore.dispatch(v); }>{l(K::ScnRestore)}</button>
                                })}
                            </div>
                        </li>
                    }
                    .into_any()
                };
                let button = older.button(&page, |row| row.version, move |before| map_versions(map_id.get_value(), Some(before)));
                view! {
                    // Versions are numbered 1 … newest without gaps.
                    <ComparePicker versions=(1..=newest).rev().collect() from to on_compare=Callback::new(move |pair| compare.set(Some(pair)))/>
                    <ul class="text-sm" data-testid="versions">{page.versions.into_iter().map(item).collect_view()}{older.rows(item)}</ul>
                    {button}
                }
                .into_any()
            }
            Err(err) => load_error(err, locale.get_untracked()),
        }})
    };
    view! {
        <section class="rounded border border-slate-200 bg-white p-3" data-testid="history">
            <h2 class="mb-2 font-semibold">{l(K::MapHistory)}</h2>
            <Transition fallback=loading>{list}</Transition>
            {move || compare.get().map(|(from, to)| view! {
                <div class="mt-3 border-t border-slate-200 pt-2">
                    <DiffView map_id=map_id.get_value() from to/>
                </div>
            })}
        </section>
    }
}

/// Two versions side by side: each added, removed or changed row with
/// its changed cells, before | after.
#[component]
pub(super) fn DiffView(map_id: String, from: i64, to: i64) -> impl IntoView {
    let diff = Resource::new(move || (), move |_| diff_map(map_id.clone(), from, to));
    view! { <DiffPanel from to diff/> }
}
