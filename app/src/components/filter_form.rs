//! The filter bar of a log read page by page from the server (traces, the
//! audit log): a form of labelled fields that applies on Enter and clears
//! on Escape, ending in its Filter and Clear buttons, the period select
//! both logs share, the "Newest" / "Older" buttons under the table, and
//! the address that holds an applied filter.

use crate::components::{l, percent_encode};
use crate::i18n::K;
use leptos::prelude::*;

/// A log's address with its applied filter and page (`/audit?actor=ann%40`),
/// blank values left out: a reload, Back or a copied link shows the same
/// rows.
pub fn log_href(path: &str, pairs: &[(&str, &str)]) -> String {
    let query: Vec<String> = pairs.iter().filter(|(_, value)| !value.is_empty()).map(|(name, value)| format!("{name}={}", percent_encode(value))).collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// A log's applied filter and page, held in the address (`log_href`): the
/// filter the address holds, and `show`, which moves to another filter's
/// address or, for the one already shown, reads it again.
pub struct LogAddress<Q: Send + Sync + 'static> {
    pub applied: Memo<Q>,
    again: RwSignal<u32>,
    pub show: Callback<Q>,
}

impl<Q: Send + Sync + 'static> Clone for LogAddress<Q> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Q: Send + Sync + 'static> Copy for LogAddress<Q> {}

impl<Q: Clone + PartialEq + Send + Sync + 'static> LogAddress<Q> {
    /// The filter `parse` reads from the query; `href` writes its address.
    pub fn new(parse: fn(&leptos_router::params::ParamsMap) -> Q, href: fn(&Q) -> String) -> Self {
        let params = leptos_router::hooks::use_query_map();
        let applied = Memo::new(move |_| params.with(parse));
        let again = RwSignal::new(0u32);
        let navigate = crate::components::navigate_to();
        let show = Callback::new(move |query: Q| {
            if query == applied.get_untracked() {
                again.update(|n| *n += 1);
            } else {
                navigate.run(href(&query));
            }
        });
        Self { applied, again, show }
    }

    /// What the log's read depends on: the filter, and each read again.
    pub fn key(&self) -> (Q, u32) {
        (self.applied.get(), self.again.get())
    }
}

/// The look of a filter bar's inputs and selects.
pub const FILTER_INPUT: &str = "rounded border border-slate-300 px-2 py-1.5 text-sm";

#[component]
pub fn FilterForm(testid: &'static str, on_apply: Callback<()>, on_clear: Callback<()>, children: Children) -> impl IntoView {
    view! {
        <form class="mb-4 flex flex-wrap items-end gap-3 rounded border border-slate-200 bg-white p-3" data-testid=testid
            on:submit=move |ev| { ev.prevent_default(); on_apply.run(()); }
            on:keydown=move |ev| if ev.key() == "Escape" { on_clear.run(()) }>
            {children()}
            <button type="submit" class="rounded bg-sky-700 px-3 py-1.5 text-white hover:bg-sky-600" data-testid="apply-filter">{l(K::Filter)}</button>
            <button type="button" class="rounded border border-slate-300 px-3 py-1.5" data-testid="clear-filter" on:click=move |_| on_clear.run(())>{l(K::Clear)}</button>
        </form>
    }
}

/// One field of a filter bar under its label.
#[component]
pub fn FilterField(label: K, children: Children) -> impl IntoView {
    view! {
        <label class="flex flex-col gap-1">
            <span class="text-xs font-medium text-slate-600">{l(label)}</span>
            {children()}
        </label>
    }
}

/// Any time, or the last hour, day or week (`period`: ``, `hour`, `day`,
/// `week`, which the server functions resolve against its clock).
#[component]
pub fn PeriodSelect(value: RwSignal<String>) -> impl IntoView {
    view! {
        <FilterField label=K::Period>
            <select name="period" class=FILTER_INPUT prop:value=move || value.get() on:change=move |ev| value.set(event_target_value(&ev))>
                <option value="">{l(K::AnyTime)}</option>
                <option value="hour">{l(K::LastHour)}</option>
                <option value="day">{l(K::LastDay)}</option>
                <option value="week">{l(K::LastWeek)}</option>
            </select>
        </FilterField>
    }
}

/// Under a log's table: "Newest" when an older page is shown, "Older"
/// when there is one (`older` is where it starts: a cursor or an id).
#[component]
pub fn LogPager(#[prop(into)] paged: Signal<bool>, on_newest: Callback<()>, older: Option<String>, on_older: Callback<String>) -> impl IntoView {
    view! {
        <div class="mt-2 flex gap-3">
            <Show when=move || paged.get()>
                <button class="rounded border border-slate-300 px-3 py-1 text-sm" data-testid="newest" on:click=move |_| on_newest.run(())>{l(K::Newest)}</button>
            </Show>
            {older.map(|start| view! {
                <button class="rounded border border-slate-300 px-3 py-1 text-sm" data-testid="older" on:click=move |_| on_older.run(start.clone())>{l(K::Older)}</button>
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_logs_address_holds_its_filter_without_blanks() {
        assert_eq!(super::log_href("/audit", &[("actor", ""), ("area", "")]), "/audit");
        assert_eq!(super::log_href("/audit", &[("actor", "\"ann@example.com\""), ("area", ""), ("before", "17-aud_x")]), "/audit?actor=%22ann%40example.com%22&before=17-aud_x");
    }
}
