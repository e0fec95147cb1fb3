//! The bot picker and the scenario table of the scenarios page.

use crate::api::scenarios::{DeleteScenario, ScenarioPage, ScenarioRow};
use crate::components::bot_picker::BotPicker;
use crate::components::{format_millis, l};
use crate::components::list_pages::{words, Hidden, ListFilter, Pager};
use crate::i18n::K;
use leptos::prelude::*;

/// The bot picker and the scenario table.
#[component]
pub(super) fn ScenarioList(
    page: ScenarioPage,
    selected: Memo<String>,
    can_design: bool,
    delete: ServerAction<DeleteScenario>,
    /// The list's filter box and page (kept across reloads).
    filter: ListFilter,
) -> impl IntoView {
    let empty = page.scenarios.is_empty();
    let bot_id = page.bot_id.clone();
    let (rows, pages) = filter.rows(
        &page.bot_id,
        page.scenarios,
        |r| words(&[&r.name, &r.description, &r.endpoints.join(" ")]),
        |row, hidden| view! { <ScenarioListRow row bot_id=bot_id.clone() selected hidden can_design delete/> },
    );
    view! {
        <div class="mb-3 flex flex-wrap items-center gap-3">
            <BotPicker bots=page.bots current=page.bot_id.clone() path="/scenarios" on_pick=Callback::new(move |_| filter.clear())/>
            <input type="search" name="filter" class="rounded border border-slate-300 px-2 py-1.5 text-sm" data-testid="scenario-filter"
                placeholder=l(K::Filter) bind:value=filter.text/>
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
        <Pager pages/>
    }
    .into_any()
}

#[component]
fn ScenarioListRow(
    row: ScenarioRow,
    bot_id: String,
    selected: Memo<String>,
    /// Off screen: filtered out or on another page.
    hidden: Hidden,
    can_design: bool,
    delete: ServerAction<DeleteScenario>,
) -> impl IntoView {
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
        delete.dispatch(DeleteScenario { bot_id: bot_id.clone(), name: name.clone(), cancel_jobs: false });
    };
    let endpoints = row.endpoints.join(", ");
    view! {
        <tr class="border-t border-slate-100 hover:bg-slate-50 align-top" class:bg-sky-50=is_open class:hidden=move || hidden.get() data-scenario=row.name.clone()>
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
