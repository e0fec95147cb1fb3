//! The map's find bar: Ctrl+F (⌘F) opens it over the table, typing finds
//! in every row (`table_find`), Enter / Shift+Enter walk the hits and
//! bring each one's row into view, drawn if a long map had not drawn it;
//! Escape closes it and puts the caret on the hit, its text selected.
//! Ctrl+F pressed again in the bar is the browser's own find.

use crate::components::editable_table::rows;
use crate::components::l;
use crate::components::table_find::{self, Hit, MAX_HITS};
use crate::i18n::{t, use_locale, K};
use leptos::prelude::*;
use serde_json::Value;

const ICON: &str = "rounded px-1.5 text-slate-600 hover:bg-slate-200 hover:text-slate-900 disabled:opacity-30";

/// The bar, or (closed) the button that opens it. `current` is the hit
/// shown, which the table outlines; `show` brings its row into view and
/// `done` (closing on a hit) moves the caret to it.
#[component]
pub fn FindBar(
    doc: RwSignal<Value>,
    list: &'static str,
    /// The cells searched, as dotted paths in a row.
    fields: Vec<&'static str>,
    current: RwSignal<Option<Hit>>,
    show: Callback<Hit>,
    done: Callback<Hit>,
    /// The table is held (inert): Ctrl+F does not open the bar.
    held: Signal<bool>,
) -> impl IntoView {
    let locale = use_locale();
    let open = RwSignal::new(false);
    let query = RwSignal::new(String::new());
    let at = RwSignal::new(0usize);
    let input = NodeRef::<leptos::html::Input>::new();
    let fields = StoredValue::new(fields);
    // Edits made while the bar is open count too (the doc is tracked).
    let hits = Memo::new(move |_| {
        if !open.get() {
            return Vec::new();
        }
        query.with(|q| doc.with(|d| fields.with_value(|f| table_find::hits(rows(d, list), f, q))))
    });
    // The count follows edits without moving the screen; only the bar's
    // own steps (typing the query, Enter, the arrows) bring a hit in.
    Effect::new(move |_| {
        let n = hits.with(Vec::len);
        if at.get_untracked() >= n && n > 0 {
            at.set(n - 1);
        }
        let now = hits.with(|h| h.get(at.get_untracked()).cloned());
        if now != current.get_untracked() {
            current.set(now);
        }
    });
    let go = move |i: usize| {
        at.set(i);
        let hit = hits.with_untracked(|h| h.get(i).cloned());
        current.set(hit.clone());
        if let Some(hit) = hit {
            show.run(hit);
        }
    };
    let step = move |forward: bool| {
        let n = hits.with_untracked(Vec::len);
        go(table_find::step(at.get_untracked(), n, forward));
    };
    let close = move || {
        open.set(false);
        if let Some(hit) = current.get_untracked() {
            current.set(None);
            done.run(hit);
        }
    };
    let focus_input = move || {
        request_animation_frame(move || {
            if let Some(el) = input.get_untracked() {
                let _ = el.focus();
                el.select();
            }
        })
    };
    #[cfg(not(feature = "hydrate"))]
    let _ = held;
    #[cfg(feature = "hydrate")]
    {
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            let f = crate::components::shortcut_key(&ev.key(), &ev.code()) == "f";
            if !(ev.ctrl_key() || ev.meta_key()) || ev.alt_key() || !f || held.get_untracked() {
                return;
            }
            // Pressed again in the bar: the browser's own find.
            let in_bar = input.get_untracked().is_some_and(|el| leptos::prelude::document().active_element().is_some_and(|a| a.is_same_node(Some(el.as_ref()))));
            if in_bar {
                return;
            }
            ev.prevent_default();
            open.set(true);
            focus_input();
        });
        on_cleanup(move || keys.remove());
    }
    let count = move || {
        let loc = locale.get();
        let n = hits.with(Vec::len);
        if n == 0 {
            return if query.with(|q| q.trim().is_empty()) { String::new() } else { t(loc, K::MapFindNone).to_string() };
        }
        let of = if n >= MAX_HITS { format!("{n}+") } else { n.to_string() };
        t(loc, K::MapFindCount).replacen("{}", &(at.get().min(n - 1) + 1).to_string(), 1).replacen("{}", &of, 1)
    };
    let none = move || hits.with(Vec::is_empty);
    view! {
        <Show when=move || open.get() fallback=move || view! {
            <div class="mb-1 flex justify-end">
                <button type="button" class="rounded px-2 py-0.5 text-xs text-slate-500 hover:bg-slate-100 hover:text-slate-900" data-testid="find-open"
                    title="Ctrl+F" on:click=move |_| { open.set(true); focus_input(); }>
                    {l(K::MapFind)}" …"
                </button>
            </div>
        }>
            <div class="sticky top-0 z-10 mb-1 flex flex-wrap items-center gap-2 rounded border border-slate-300 bg-white px-2 py-1 text-sm shadow-sm"
                role="search" data-testid="find-bar">
                <input node_ref=input type="search" class="w-64 rounded border border-slate-300 px-2 py-0.5 text-sm" data-testid="find-query"
                    aria-label=l(K::MapFind) placeholder=l(K::MapFind) prop:value=move || query.get()
                    on:input=move |ev| {
                        query.set(event_target_value(&ev));
                        go(0);
                    }
                    on:keydown=move |ev| match ev.key().as_str() {
                        "Enter" => {
                            ev.prevent_default();
                            step(!ev.shift_key());
                        }
                        "Escape" => {
                            ev.prevent_default();
                            close();
                        }
                        _ => {}
                    }/>
                <span class="min-w-24 text-xs text-slate-500" data-testid="find-count" aria-live="polite">{count}</span>
                <button type="button" class=ICON title=l(K::MapFindPrev) aria-label=l(K::MapFindPrev) data-testid="find-prev"
                    disabled=none on:click=move |_| step(false)>"↑"</button>
                <button type="button" class=ICON title=l(K::MapFindNext) aria-label=l(K::MapFindNext) data-testid="find-next"
                    disabled=none on:click=move |_| step(true)>"↓"</button>
                <button type="button" class=ICON title=l(K::Close) aria-label=l(K::Close) data-testid="find-close"
                    on:click=move |_| close()>"×"</button>
            </div>
        </Show>
    }
}
