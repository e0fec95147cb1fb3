//! Resolves the session cookie once per studio request.
//!
//! Puts a [`SessionInfo`] (user and language) into the request extensions,
//! where server functions and SSR read it, and sends visitors without a
//! session from studio pages to `/login?next=…`. While the database cannot
//! be reached, a request with a session cookie is answered 503 (a studio
//! call with `AppError::Unavailable`, a page with a short notice) rather
//! than taken for a visitor without a session and sent to log in again.

use super::AppState;
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use comops_app::session::{cookie_value, SessionInfo, LANG_COOKIE, SESSION_COOKIE};
use comops_core::Locale;

pub async fn resolve(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let path = request.uri().path().to_string();
    let user = match cookie_value(headers, SESSION_COOKIE) {
        Some(secret) => match state.backend.store.session_user(&secret).await {
            Ok(user) => user,
            Err(err) if err.is_unreachable() => {
                tracing::warn!(error = %err, "session lookup: the database is unreachable");
                return unavailable(&path, visitor_locale(headers));
            }
            Err(err) => {
                tracing::error!(error = %err, "session lookup failed");
                None
            }
        },
        None => None,
    };
    let locale = user.as_ref().map(|u| u.locale).unwrap_or_else(|| visitor_locale(headers));

    // Studio pages only: the API (/api), the integration API (/bots) and the
    // per-bot docs (/docs, which also accept tokens) answer for themselves.
    let is_page = request.method() == Method::GET
        && !["/api/", "/bots/", "/docs/"].iter().any(|prefix| path.starts_with(prefix));
    if is_page && user.is_none() && path != "/login" {
        let next = request.uri().path_and_query().map(|pq| pq.as_str().to_string()).unwrap_or_else(|| "/".into());
        return Redirect::to(&format!("/login?next={}", encode_query_value(&next))).into_response();
    }
    if is_page && user.is_some() && path == "/login" {
        return Redirect::to("/").into_response();
    }
    request.extensions_mut().insert(SessionInfo { user, locale });
    next.run(request).await
}

/// The language of a request without a user: its cookie, else the
/// browser's `Accept-Language`.
fn visitor_locale(headers: &axum::http::HeaderMap) -> Locale {
    cookie_value(headers, LANG_COOKIE)
        .and_then(|l| Locale::parse(&l))
        .or_else(|| headers.get(header::ACCEPT_LANGUAGE).and_then(|h| h.to_str().ok()).and_then(Locale::from_accept_language))
        .unwrap_or_default()
}

/// 503 while the database is out of reach: a studio call gets
/// `AppError::Unavailable` as JSON (what its client decodes), a page a
/// short notice in `locale`; both with `Retry-After`.
fn unavailable(path: &str, locale: Locale) -> Response {
    use axum::http::StatusCode;
    use comops_app::error::AppError;
    let retry = [(header::RETRY_AFTER, "5")];
    if path.starts_with("/api/") {
        let body = serde_json::to_string(&AppError::Unavailable).unwrap_or_default();
        return (StatusCode::SERVICE_UNAVAILABLE, retry, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    let message = AppError::Unavailable.message(locale);
    let page = format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>ComOps</title></head>\
         <body style=\"font-family:sans-serif;margin:3rem\"><p role=\"alert\">{message}</p><p><a href=\"\">↻</a></p></body></html>",
        locale.as_str()
    );
    (StatusCode::SERVICE_UNAVAILABLE, retry, axum::response::Html(page)).into_response()
}

/// Percent-encodes a value for a query string.
fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
