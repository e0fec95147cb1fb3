//! The HTTP surface: one router assembled here from the studio (SSR pages
//! and server functions), static assets and health. Later layers (the
//! integration API, channel webhooks, docs) add their own routers here.

mod assets;
mod admin_api;
mod api_auth;
mod call;
mod compression;
mod csrf;
mod docs;
mod error;
mod identity_api;
mod metrics;
mod scenario_api;
mod server_fn_status;
mod session;
mod telegram_webhook;
mod vk_callback;
mod webchat;
mod webhook_inbound;
mod whatsapp_webhook;

pub use api_auth::bearer_token;
pub use error::ApiError;
pub use webchat::WebChat;

use axum::extract::FromRef;
use axum::routing::get;
use axum::Router;
use comops_app::session::Backend;
use comops_app::{shell, App};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};

/// Shared state of every handler: one pointer to [`Services`], so the
/// copy axum makes for each request is a reference count, not a clone of
/// every field (the store's handles, the options' strings).
#[derive(Clone)]
pub struct AppState(std::sync::Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(std::sync::Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Backend {
    fn from_ref(state: &AppState) -> Self {
        state.backend.clone()
    }
}

/// What every handler may use.
pub struct Services {
    pub leptos_options: LeptosOptions,
    pub backend: Backend,
    pub rate_limiter: std::sync::Arc<comops_core::rate_limit::RateLimiter>,
    /// Group-commits accepted events (see `comops_core::store::writer`).
    pub events: comops_core::store::writer::EventWriter,
    /// Outbound HTTP for inbound handling that resumes runs (http steps).
    pub http: reqwest::Client,
    /// Wakes the engine when an accepted event has runs to start.
    pub bells: crate::engine::Bells,
    /// Base URL of the Telegram Bot API (answers to button presses).
    pub telegram_api_base: String,
    /// The web chat's listeners and visitor rate limits (`http/webchat.rs`).
    pub webchat: WebChat,
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let backend = state.backend.clone();
    let test_calls = {
        let state = state.clone();
        comops_app::session::TestCalls(std::sync::Arc::new(move |test| {
            let state = state.clone();
            Box::pin(async move { call::studio_dry_run(&state, test).await })
        }))
    };
    let context = move || {
        provide_context(backend.clone());
        provide_context(test_calls.clone());
    };
    let studio = Router::<AppState>::new()
        .leptos_routes_with_context(&state, routes, context, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .layer(axum::middleware::from_fn(server_fn_status::from_app_error))
        .layer(axum::middleware::from_fn(server_fn_status::refuse_oversized))
        .layer(axum::middleware::from_fn(compression::studio_answers))
        .layer(axum::middleware::from_fn(csrf::same_origin_mutations))
        .layer(axum::middleware::from_fn_with_state(state.clone(), session::resolve));
    let pkg_dir = std::path::Path::new(&*state.leptos_options.site_root).join(&*state.leptos_options.site_pkg_dir);
    // The JSON APIs answer a wrong method in JSON too (only theirs: a
    // layered router's method fallback carries its layer, e.g. the web
    // chat's CORS preflights).
    // The calls answer every error of theirs in JSON themselves, and read
    // their bodies within 1 MiB themselves: they stay out of the layers
    // below, which would otherwise wrap every call.
    let calls = call::routes().method_not_allowed_fallback(method_not_allowed);
    let apis = Router::new()
        .route("/healthz", get(health))
        .merge(admin_api::routes())
        .merge(identity_api::routes())
        .merge(metrics::routes())
        .merge(scenario_api::routes())
        .method_not_allowed_fallback(method_not_allowed)
        // Bodies as the calls' (the imports allow more: admin_api).
        .layer(axum::extract::DefaultBodyLimit::max(call::BODY_LIMIT))
        .layer(axum::middleware::from_fn(error::plain_errors_as_json));
    // The messengers' webhooks: a wrong method, a body over the limit (1
    // MiB, as the calls; WhatsApp's 3 MiB, the most Meta says it sends)
    // answered in JSON like the APIs.
    let channels = Router::new()
        .merge(telegram_webhook::routes())
        .merge(whatsapp_webhook::routes().layer(axum::extract::DefaultBodyLimit::max(whatsapp_webhook::BODY_LIMIT)))
        .merge(vk_callback::routes())
        .merge(webhook_inbound::routes())
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(call::BODY_LIMIT))
        .layer(axum::middleware::from_fn(error::plain_errors_as_json));
    Router::new()
        .merge(calls)
        .merge(apis)
        .merge(channels)
        .merge(webchat::routes(&state))
        .merge(
            docs::routes()
                .method_not_allowed_fallback(method_not_allowed)
                .layer(axum::middleware::from_fn(error::plain_errors_as_json))
                .layer(axum::middleware::from_fn_with_state(state.clone(), session::resolve)),
        )
        .nest_service("/pkg", assets::service(&pkg_dir))
        .merge(studio)
        .fallback(not_found)
        .with_state(state)
}

/// Liveness and database reachability.
async fn health(axum::extract::State(backend): axum::extract::State<Backend>) -> Result<axum::Json<serde_json::Value>, ApiError> {
    backend.store.count_users().await?;
    Ok(axum::Json(serde_json::json!({ "success": true, "status": "ok" })))
}

/// No route: JSON like every API error, except to a browser opening a page
/// (it asks for HTML), which gets a short page in both studio languages
/// with the way back.
async fn not_found(headers: axum::http::HeaderMap) -> axum::response::Response {
    use axum::response::IntoResponse;
    if wants_html(&headers) {
        return page_not_found();
    }
    ApiError::NotFound("Not found").into_response()
}

/// Whether the client asks for a page (a browser navigating) rather than JSON.
pub(crate) fn wants_html(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.split(',').any(|kind| kind.trim().starts_with("text/html")))
}

/// The 404 page a browser gets (in both studio languages).
pub(crate) fn page_not_found() -> axum::response::Response {
    use axum::response::IntoResponse;
    (axum::http::StatusCode::NOT_FOUND, axum::response::Html(NOT_FOUND_PAGE)).into_response()
}

/// The page a browser gets for an address nothing answers.
const NOT_FOUND_PAGE: &str = r#"<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>404 · ComOps</title>
<style>body{font-family:system-ui,sans-serif;color:#0f172a;background:#f8fafc;margin:0;padding:4rem 2rem}main{max-width:32rem}h1{font-size:1.25rem}p{color:#475569}a{color:#075985}</style>
</head><body><main>
<h1>Страница не найдена · Page not found</h1>
<p>По этому адресу ничего нет. Nothing lives at this address.</p>
<p><a href="/projects">Проекты · Projects</a></p>
</main></body></html>
"#;

/// A known route called with another method: JSON like every API error
/// (axum's own answer had an empty body).
async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
