//! Two versions side by side (maps, endpoints): each added, removed or
//! changed item with its field, before | after.

use super::{l, load_error, loading};
use crate::api::versions::DiffRows;
use crate::error::AppError;
use crate::i18n::{t1, use_locale, K};
use leptos::prelude::*;

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
                    <td class="px-1 py-1 text-xs">{label}<span class="block text-slate-400">{field}</span></td>
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
