//! Two versions side by side (maps, endpoints): each added, removed or
//! changed item with its field, before | after.

use super::{l, load_error, loading};
use crate::api::versions::DiffRows;
use crate::error::AppError;
use crate::i18n::{t1, use_locale, K};
use leptos::prelude::*;

/// Two version pickers ("From", "To") and "Compare", which runs
/// `on_compare` with the two picked; `versions` are the numbers to offer.
#[component]
pub fn ComparePicker(versions: Vec<i64>, from: RwSignal<i64>, to: RwSignal<i64>, on_compare: Callback<(i64, i64)>) -> impl IntoView {
    let options = move || versions.iter().map(|v| view! { <option value=v.to_string()>{format!("v{v}")}</option> }).collect_view();
    let pick = |label: K, name: &'static str, value: RwSignal<i64>, options: AnyView| {
        view! {
            <label class="flex flex-col text-xs text-slate-600">{l(label)}
                <select class="rounded border border-slate-300 px-1 py-0.5 text-sm" name=name prop:value=move || value.get().to_string()
                    on:change=move |ev| value.set(event_target_value(&ev).parse().unwrap_or(0))>{options}</select>
            </label>
        }
    };
    view! {
        <form class="mb-2 flex items-end gap-2 text-sm" data-testid="compare-form" on:submit=move |ev| {
            ev.prevent_default();
            on_compare.run((from.get_untracked(), to.get_untracked()));
        }>
            {pick(K::MapFrom, "from", from, options.clone()().into_any())}
            {pick(K::MapTo, "to", to, options().into_any())}
            <button type="submit" class="rounded border border-slate-300 px-2 py-0.5 hover:bg-slate-100" data-testid="compare">{l(K::MapCompare)}</button>
        </form>
    }
    .into_any()
}

/// Versions `from` → `to` compared, as `diff` (a server function's answer)
/// brings them.
#[component]
pub fn DiffPanel(from: i64, to: i64, diff: Resource<Result<DiffRows, AppError>>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <div data-testid="diff" data-from=from.to_string() data-to=to.to_string()>
            <p class="mb-1 text-xs font-medium text-slate-600">{format!("v{from} → v{to}")}</p>
            <Transition fallback=loading>
                {move || Suspend::new(async move {
                    match diff.await {
                        Ok(diff) => diff_table(diff),
                        Err(err) => load_error(err, locale.get_untracked()),
                    }
                })}
            </Transition>
        </div>
    }
    .into_any()
}

/// The lines of `diff` as a table, or "No differences.".
pub fn diff_table(diff: DiffRows) -> AnyView {
    let locale = use_locale();
    if diff.rows.is_empty() {
        return view! { <p class="text-sm text-slate-500" data-testid="no-diff">{l(K::MapNoDifferences)}</p> }.into_any();
    }
    let count = diff.count;
    let lines = diff.rows.into_iter().map(|r| (r.label, r.change, r.field, r.before, r.after));
    let rows = lines
        .into_iter()
        .map(|(label, change, field, before, after)| {
            view! {
                <tr class="border-t border-slate-100 align-top" data-change=change>
                    <td class="px-1 py-1 text-xs">{label}<span class="block text-slate-400" data-testid="diff-field">{field}</span></td>
                    <td class="px-1 py-1 bg-rose-50 whitespace-pre-wrap" data-testid="diff-before">{before}</td>
                    <td class="px-1 py-1 bg-emerald-50 whitespace-pre-wrap" data-testid="diff-after">{after}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="mb-1 text-xs text-slate-500">{move || t1(locale.get(), K::MapDiffSummary, count)}</p>
        <div class="overflow-x-auto">
            <table class="w-full text-left text-xs">
                <thead class="text-slate-500">
                    <tr><th class="px-1"></th><th class="px-1">{l(K::MapBefore)}</th><th class="px-1">{l(K::MapAfter)}</th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
