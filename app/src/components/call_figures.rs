//! An endpoint's call figures as one line — "calls: 12 · errors: 1 ·
//! last 2026-12-05 13:24" — for a map row's trigger cell and the
//! endpoints page, and the link to its traces.

use crate::i18n::{t, t1, K};
use comops_core::Locale;
use leptos::prelude::*;

/// The figures in `locale`; the errors in red when there are any, the
/// last call's time not broken across lines.
pub fn call_figures(locale: Locale, calls: i64, errors: i64, last_call_at: Option<i64>) -> impl IntoView {
    let last = match last_call_at {
        Some(at) => t1(locale, K::MapLastCall, super::format_millis(at)),
        None => t(locale, K::MapNeverCalled).to_string(),
    };
    view! {
        {t1(locale, K::MapCalls, calls)}" · "
        <span class:text-rose-700=errors != 0>{t1(locale, K::MapErrors, errors)}</span>" · "<span class="whitespace-nowrap">{last}</span>
    }
}

/// The bot's API docs at one endpoint's section.
pub fn docs_href(bot: &str, alias: &str) -> String {
    format!("/docs/{bot}#{}", comops_core::alias::docs_anchor(alias))
}

/// The traces page filtered to one endpoint of one bot.
pub fn traces_href(bot: &str, alias: &str) -> String {
    format!("/traces?endpoint={alias}&bot={bot}")
}
