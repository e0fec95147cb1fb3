//! A studio list's filter box and pages (SPEC §6: "every list pages and
//! filters"): the rows whose words hold the filter's text, [`PAGE`] at a
//! time, and under the table "1–50 of 230" with previous / next.
//!
//! The list's rows are loaded whole (a bot's endpoints, a project's maps:
//! tens to hundreds); the pages keep the table short and the filter looks
//! through every row, not only the page's. The filter and the page live
//! in a [`ListFilter`] made with the page, so a reload of the rows (after
//! a save) keeps both; a page chosen for another bot's or project's rows,
//! or for other filter text, is page one. Choosing another bot or project
//! clears the filter and the page ([`ListFilter::clear`], in the picker's
//! handler: a signal set while the rows render would wake the old rows'
//! closures after their owner is gone).

use crate::i18n::{tr, K};
use leptos::prelude::*;

/// Rows a page shows.
pub const PAGE: usize = 50;

/// The filter box's text and the page chosen.
#[derive(Clone, Copy)]
pub struct ListFilter {
    pub text: RwSignal<String>,
    page: RwSignal<Chosen>,
}

/// A page, with the rows (bot or project) and filter text it was chosen
/// for.
#[derive(Clone, Default, PartialEq)]
struct Chosen {
    scope: String,
    text: String,
    page: usize,
}

impl Default for ListFilter {
    fn default() -> Self {
        Self { text: RwSignal::new(String::new()), page: RwSignal::new(Chosen::default()) }
    }
}

impl ListFilter {
    /// Empties the filter box and forgets the page: another bot's or
    /// project's rows come.
    pub fn clear(self) {
        self.text.set(String::new());
        self.page.set(Chosen::default());
    }

    /// `items` (the rows of `scope`, the bot or project shown; "" for a
    /// list of everything) drawn by `row`, each told when it is off
    /// screen, and their pages; `words_of` gives a row's words for the
    /// filter ([`words`]).
    pub fn rows<T, V>(self, scope: &str, items: Vec<T>, words_of: impl Fn(&T) -> String, mut row: impl FnMut(T, Hidden) -> V) -> (Vec<V>, ListPages) {
        let words: Vec<String> = items.iter().map(|item| words_of(item).to_lowercase()).collect();
        let text = self.text;
        let shown = Memo::new(move |_| {
            text.with(|t| {
                let t = t.trim().to_lowercase();
                words.iter().enumerate().filter(|(_, w)| t.is_empty() || w.contains(&t)).map(|(i, _)| i).collect::<Vec<_>>()
            })
        });
        let pages = ListPages { filter: self, scope: StoredValue::new(scope.to_string()), shown };
        let rows = items.into_iter().enumerate().map(|(index, item)| row(item, Hidden { pages, index })).collect();
        (rows, pages)
    }
}

/// One row's words for [`ListFilter::rows`].
pub fn words(parts: &[&str]) -> String {
    parts.join(" ")
}

/// Which rows of a loaded list are on screen.
#[derive(Clone, Copy)]
pub struct ListPages {
    filter: ListFilter,
    /// The bot or project whose rows these are.
    scope: StoredValue<String>,
    /// The positions of the rows the filter lets through.
    shown: Memo<Vec<usize>>,
}

impl ListPages {
    /// The page on screen: the one chosen, if chosen for these rows and
    /// this filter text and still there.
    fn current(self) -> usize {
        let last = self.shown.with(|s| s.len().saturating_sub(1) / PAGE);
        let text = self.filter.text.get();
        self.filter.page.with(|c| if c.text == text && self.scope.with_value(|s| *s == c.scope) { c.page.min(last) } else { 0 })
    }

    fn go(self, page: usize) {
        self.filter.page.set(Chosen { scope: self.scope.get_value(), text: self.filter.text.get_untracked(), page });
    }

    /// More rows pass the filter than a page shows.
    fn paged(self) -> bool {
        self.shown.with(Vec::len) > PAGE
    }
}

/// Whether one row of a list is off screen: the filter hides it, or it
/// is on another page.
#[derive(Clone, Copy)]
pub struct Hidden {
    pages: ListPages,
    index: usize,
}

impl Hidden {
    pub fn get(self) -> bool {
        let page = self.pages.current();
        self.pages.shown.with(|s| s.binary_search(&self.index).map_or(true, |rank| rank / PAGE != page))
    }
}

/// "1–50 of 230" and the buttons to the pages either side, under a list
/// longer than a page.
#[component]
pub fn Pager(pages: ListPages) -> impl IntoView {
    view! { <Show when=move || pages.paged()>{move || pager(pages)}</Show> }
}

/// [`Pager`] as the last row of a table whose rows load inside it.
#[component]
pub fn PagerRow(pages: ListPages, colspan: u32) -> impl IntoView {
    view! {
        <Show when=move || pages.paged()>
            <tr><td colspan=colspan class="px-3 pb-2">{move || pager(pages)}</td></tr>
        </Show>
    }
}

fn pager(pages: ListPages) -> impl IntoView {
    let total = move || pages.shown.with(Vec::len);
    let button = "rounded border border-slate-300 px-3 py-1 text-sm disabled:opacity-40";
    view! {
        <nav class="mt-2 flex items-center gap-3 text-sm text-slate-600" data-testid="pager">
            <button type="button" class=button data-testid="previous-page" disabled=move || { pages.current() == 0 }
                on:click=move |_| pages.go(pages.current().saturating_sub(1))>{move || tr(K::PrevPage)}</button>
            <span data-testid="page-range">
                {move || {
                    let first = pages.current() * PAGE;
                    format!("{}–{} {} {}", first + 1, (first + PAGE).min(total()), tr(K::Of), total())
                }}
            </span>
            <button type="button" class=button data-testid="next-page" disabled=move || { (pages.current() + 1) * PAGE >= total() }
                on:click=move |_| pages.go(pages.current() + 1)>{move || tr(K::NextPage)}</button>
        </nav>
    }
}
