//! The login page.

use crate::api::auth::Login;
use crate::components::layout::LanguageSwitch;
use crate::components::reload_to;
use crate::i18n::{tr, use_locale, K};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let locale = use_locale();
    let login = ServerAction::<Login>::new();
    let logging_in = login.pending();
    let query = use_query_map();
    // Only local paths: `?next=https://evil.example` must not redirect away.
    let next = move || {
        query
            .with_untracked(|q| q.get("next"))
            .filter(|n| n.starts_with('/') && !n.starts_with("//"))
            .unwrap_or_else(|| "/".to_string())
    };
    Effect::new(move |_| {
        if let Some(Ok(())) = login.value().get() {
            reload_to(&next());
        }
    });
    let error = Signal::derive(move || match login.value().get() {
        Some(Err(err)) => Some(err.message(locale.get())),
        _ => None,
    });
    view! {
        <div class="min-h-screen flex items-center justify-center bg-slate-100 text-sm p-4">
            <div class="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow-sm flex flex-col gap-4">
                <div class="flex items-center justify-between">
                    <div>
                        <h1 class="text-lg font-semibold">{move || tr(K::LoginTitle)}</h1>
                        <p class="text-xs text-slate-500">{move || tr(K::AppTagline)}</p>
                    </div>
                    <LanguageSwitch/>
                </div>
                <ActionForm action=login attr:class="flex flex-col gap-3">
                    <label class="flex flex-col gap-1">
                        <span class="text-xs font-medium text-slate-600">{move || tr(K::Email)}</span>
                        <input
                            name="email"
                            type="email"
                            required
                            autocomplete="username"
                            autofocus
                            class="rounded border border-slate-300 px-2 py-1.5 focus:outline-none focus:ring-2 focus:ring-sky-500"
                        />
                    </label>
                    <label class="flex flex-col gap-1">
                        <span class="text-xs font-medium text-slate-600">{move || tr(K::Password)}</span>
                        <input
                            name="password"
                            type="password"
                            required
                            autocomplete="current-password"
                            class="rounded border border-slate-300 px-2 py-1.5 focus:outline-none focus:ring-2 focus:ring-sky-500"
                        />
                    </label>
                    <div role="alert" data-testid="login-error" class="text-rose-700 min-h-5">{move || error.get()}</div>
                    <button
                        type="submit"
                        class="rounded bg-slate-900 px-3 py-2 font-medium text-white hover:bg-slate-700 disabled:opacity-60"
                        disabled=move || logging_in.get()
                    >
                        {move || if logging_in.get() { tr(K::LoggingIn) } else { tr(K::LogIn) }}
                    </button>
                </ActionForm>
                <p class="text-xs text-slate-500">{move || tr(K::LoginHint)}</p>
            </div>
        </div>
    }
}
