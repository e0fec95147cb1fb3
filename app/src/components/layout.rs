//! The studio frame: navigation, language switch, user and logout.

use crate::api::auth::{logout, set_locale};
use crate::components::nav::SECTIONS;
use crate::components::reload_to;
use crate::i18n::{role_text, tr, use_locale, K};
use crate::session::SessionInfo;
use comops_core::Locale;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Outlet, A};

#[component]
pub fn Layout() -> impl IntoView {
    let session = use_context::<SessionInfo>().unwrap_or_default();
    let locale = use_locale();
    let user = session.user.clone();
    let (email, role) = match &user {
        Some(u) => (u.email.to_string(), Some(u.role)),
        None => (String::new(), None),
    };
    let on_logout = move |_| {
        spawn_local(async move {
            let _ = logout().await;
            reload_to("/login");
        });
    };
    let is_admin = crate::components::form::can(comops_core::Permission::Administer);
    view! {
        <div class="min-h-screen flex flex-col md:flex-row bg-slate-50 text-slate-900 text-sm">
            <aside class="md:w-52 shrink-0 bg-slate-900 text-slate-200 flex md:flex-col">
                <A href="/" attr:class="px-4 py-3 font-semibold tracking-wide text-white">"ComOps"</A>
                <nav class="flex md:flex-col overflow-x-auto md:overflow-visible" aria-label=move || tr(K::NavSections)>
                    {SECTIONS
                        .iter()
                        .filter(|section| !section.admin_only || is_admin)
                        .map(|section| {
                            let label = section.label;
                            view! {
                                <A
                                    href=section.path
                                    attr:class="px-4 py-2 whitespace-nowrap hover:bg-slate-800 aria-[current=page]:bg-slate-700 aria-[current=page]:text-white"
                                    attr:data-nav=section.path
                                >
                                    {move || tr(label)}
                                </A>
                            }
                        })
                        .collect_view()}
                </nav>
            </aside>
            <div class="flex-1 min-w-0 flex flex-col">
                <header class="h-12 border-b border-slate-200 bg-white flex items-center justify-end gap-4 px-4">
                    <LanguageSwitch/>
                    <span class="text-slate-600" data-testid="current-user">
                        {email}
                        {role.map(|role| view! {
                            <span class="ml-2 rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600" data-testid="current-role">
                                {move || role_text(locale.get(), role)}
                            </span>
                        })}
                    </span>
                    <button
                        class="rounded border border-slate-300 px-2 py-1 hover:bg-slate-100"
                        data-testid="logout"
                        on:click=on_logout
                    >
                        {move || tr(K::LogOut)}
                    </button>
                </header>
                <main class="p-4 md:p-6 w-full max-w-6xl">
                    <Outlet/>
                </main>
            </div>
        </div>
    }
}

/// EN | RU buttons; the choice applies at once and is saved on the user.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let locale = use_locale();
    view! {
        <div class="flex rounded border border-slate-300 overflow-hidden" role="group" aria-label=move || tr(K::Language)>
            {Locale::ALL
                .into_iter()
                .map(|option| {
                    view! {
                        <button
                            class="px-2 py-1 text-xs uppercase aria-pressed:bg-slate-800 aria-pressed:text-white"
                            aria-pressed=move || (locale.get() == option).to_string()
                            data-lang=option.as_str()
                            on:click=move |_| {
                                locale.set(option);
                                set_document_lang(option);
                                spawn_local(async move {
                                    let _ = set_locale(option).await;
                                });
                            }
                        >
                            {option.as_str()}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

fn set_document_lang(locale: Locale) {
    #[cfg(feature = "hydrate")]
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = root.set_attribute("lang", locale.as_str());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = locale;
}
