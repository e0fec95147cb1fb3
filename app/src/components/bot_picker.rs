//! The bot picker of the per-bot pages (endpoints, scenarios, settings):
//! every bot grouped by project; choosing one opens the same page for it.

use crate::api::endpoints::BotChoice;
use crate::components::l;
use crate::i18n::K;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// `<select data-testid="bot-select">` with one `<optgroup>` per project;
/// a change navigates to `{path}?bot={id}`.
#[component]
pub fn BotPicker(
    bots: Vec<BotChoice>,
    current: String,
    path: &'static str,
    /// Called when another bot is chosen, before the page moves to it.
    #[prop(optional)]
    on_pick: Option<Callback<()>>,
) -> impl IntoView {
    let navigate = use_navigate();
    let mut projects: Vec<&str> = Vec::new();
    for bot in &bots {
        if !projects.contains(&bot.project.as_str()) {
            projects.push(&bot.project);
        }
    }
    let groups = projects
        .into_iter()
        .map(|project| {
            let options = bots
                .iter()
                .filter(|b| b.project == project)
                .map(|b| view! { <option value=b.id.clone() selected={b.id == current}>{format!("{} ({})", b.name, b.id)}</option> })
                .collect_view();
            view! { <optgroup label=project.to_string()>{options}</optgroup> }
        })
        .collect_view();
    view! {
        <label class="flex items-center gap-2 text-sm">
            <span class="text-xs font-medium text-slate-600">{l(K::Bot)}</span>
            <select class="rounded border border-slate-300 px-2 py-1.5 text-sm" data-testid="bot-select"
                on:change=move |ev| {
                    if let Some(on_pick) = on_pick {
                        on_pick.run(());
                    }
                    navigate(&format!("{path}?bot={}", event_target_value(&ev)), Default::default())
                }>
                {groups}
            </select>
        </label>
    }
    .into_any()
}
