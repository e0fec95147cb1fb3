//! CSRF protection for the studio's cookie-authenticated mutations.
//!
//! Session cookies are `SameSite=Lax`, so browsers already leave them off
//! cross-site POSTs; as a second, browser-independent wall every
//! state-changing request to `/api/*` must come from our own origin: its
//! `Origin` header must name this host, or (when a browser sends no Origin)
//! `Sec-Fetch-Site` must say `same-origin`. A request with neither is
//! refused. This is OWASP's "verify origin with standard headers" defence,
//! chosen over a synchronizer token because Leptos server functions are
//! plain fetches we would otherwise have to wrap.

use super::ApiError;
use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn same_origin_mutations(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || !request.uri().path().starts_with("/api/") || is_same_origin(&request) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "refused cross-origin mutation");
    ApiError::Forbidden("Cross-origin request refused".into()).into_response()
}

fn is_same_origin(request: &Request) -> bool {
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok()) {
        let origin_host = origin.split_once("://").map(|(_, rest)| rest);
        return origin_host.is_some() && origin_host == host;
    }
    headers.get("sec-fetch-site").and_then(|h| h.to_str().ok()) == Some("same-origin")
}
