//! Edit and delete for a table row, with the delete confirmed in place (no
//! browser dialog; Tab and Enter work).

use crate::i18n::{tr, K};
use leptos::prelude::*;

#[component]
pub fn RowActions(on_edit: Callback<()>, on_delete: Callback<()>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    view! {
        <Show
            when=move || confirming.get()
            fallback=move || {
                view! {
                    <button class="text-sky-800 hover:underline mr-3" data-testid="edit" on:click=move |_| on_edit.run(())>
                        {move || tr(K::Edit)}
                    </button>
                    <button class="text-rose-700 hover:underline" data-testid="delete" on:click=move |_| confirming.set(true)>
                        {move || tr(K::Delete)}
                    </button>
                }
            }
        >
            <span class="text-rose-700 mr-2">{move || tr(K::ConfirmDelete)}</span>
            <button
                class="text-rose-700 font-medium mr-2"
                data-testid="confirm-delete"
                on:click=move |_| {
                    confirming.set(false);
                    on_delete.run(());
                }
            >
                {move || tr(K::Delete)}
            </button>
            <button class="text-slate-600" on:click=move |_| confirming.set(false)>{move || tr(K::Cancel)}</button>
        </Show>
    }
    .into_any()
}
