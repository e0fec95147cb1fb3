//! The ComOps studio: Leptos pages, components and server functions.
//!
//! Compiled twice: with `ssr` into the `comops` server (rendering pages and
//! running server functions against the store) and with `hydrate` into the
//! browser bundle. Server-only code sits behind `#[cfg(feature = "ssr")]`
//! or inside `#[server]` function bodies.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod i18n;
pub mod pages;
pub mod routes;
pub mod scenario_issues;
pub mod audit_detail;
pub mod trace_detail;
pub mod api_message;
pub mod json_error;
pub mod session;

use crate::components::layout::Layout;
use crate::i18n::I18n;
use crate::pages::login::LoginPage;
use crate::pages::project::ProjectPage;
use crate::pages::projects::ProjectsPage;
use crate::pages::section::NotFoundPage;
use crate::pages::settings::SettingsPage;
use crate::pages::tokens::TokensPage;
use crate::pages::traces::TracesPage;
use crate::session::{embed_json, SessionInfo, SESSION_SCRIPT_ID};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{path, Lazy};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let session = session::current();
    let lang = session.locale.as_str();
    let session_json = embed_json(&session);
    view! {
        <!DOCTYPE html>
        <html lang=lang>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // The stylesheet before the bundle's preloads: the page is
                // painted only once it is in, and the browser asks for
                // resources in the order it reads them.
                <link id="comops" rel="stylesheet" href="/pkg/comops.css"/>
                <script id=SESSION_SCRIPT_ID type="application/json" inner_html=session_json></script>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The studio's root: session and language contexts, then the routes
/// (the largest pages load on demand: [`routes`]).
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let session = session::current();
    provide_context(I18n(RwSignal::new(session.locale)));
    provide_context::<SessionInfo>(session);

    view! {
        <Title text="ComOps"/>
        <Router>
            <Routes fallback=|| view! { <NotFoundPage/> }>
                <Route path=path!("/login") view=LoginPage/>
                <ParentRoute path=path!("") view=Layout>
                    <Route path=path!("") view=|| view! { <Redirect path="/projects"/> }/>
                    <Route path=path!("projects") view=ProjectsPage/>
                    <Route path=path!("projects/:id") view=ProjectPage/>
                    <Route path=path!("maps") view=crate::pages::maps::MapsPage/>
                    // Before `maps/:id`: routes match in order.
                    <Route path=path!("maps/loop") view={Lazy::<routes::LoopView>::new()}/>
                    <Route path=path!("maps/:id") view={Lazy::<routes::MapEditor>::new()}/>
                    <Route path=path!("endpoints") view={Lazy::<routes::Endpoints>::new()}/>
                    <Route path=path!("scenarios") view={Lazy::<routes::Scenarios>::new()}/>
                    <Route path=path!("leads") view={Lazy::<routes::Leads>::new()}/>
                    <Route path=path!("traces") view=TracesPage/>
                    <Route path=path!("analytics") view={Lazy::<routes::Analytics>::new()}/>
                    <Route path=path!("tokens") view=TokensPage/>
                    <Route path=path!("users") view=crate::pages::users::UsersPage/>
                    <Route path=path!("audit") view=crate::pages::audit::AuditLogPage/>
                    <Route path=path!("settings") view=SettingsPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
