//! Sections whose own release has not landed yet: an honest empty state.

use crate::components::nav::SECTIONS;
use crate::i18n::{tr, K};
use leptos::prelude::*;

#[component]
pub fn SectionPage(path: &'static str) -> impl IntoView {
    let section = SECTIONS.iter().find(|s| s.path == path);
    let (label, about) = section.map_or((K::PageNotFound, K::PageNotFound), |s| (s.label, s.about));
    view! {
        <h1 class="text-xl font-semibold mb-1">{move || tr(label)}</h1>
        <p class="text-slate-600 mb-4">{move || tr(about)}</p>
        <div class="rounded border border-dashed border-slate-300 bg-white p-6 text-slate-500" data-testid="not-built">
            {move || tr(K::NotBuiltYet)}
        </div>
    }
}

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! { <p class="p-6 text-slate-600">{move || tr(K::PageNotFound)}</p> }
}
