//! The Bot API's error envelope, worded as Telegram words it.
//!
//! Every failure is `{"ok": false, "error_code": N, "description": "…"}` with
//! the HTTP status equal to `error_code`; throttling adds
//! `"parameters": {"retry_after": S}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// One Bot API error.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TgError {
    pub(crate) code: u16,
    pub(crate) description: String,
    pub(crate) retry_after: Option<u64>,
}

impl TgError {
    fn new(code: u16, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            retry_after: None,
        }
    }

    /// 400 `Bad Request: <what>`.
    pub(crate) fn bad_request(what: &str) -> Self {
        Self::new(400, format!("Bad Request: {what}"))
    }

    /// 401 for a token the server does not know.
    pub(crate) fn unauthorized() -> Self {
        Self::new(401, "Unauthorized")
    }

    /// 403 `Forbidden: <why>`.
    pub(crate) fn forbidden(why: &str) -> Self {
        Self::new(403, format!("Forbidden: {why}"))
    }

    /// 404 for an unknown method or a path that is not `/bot<token>/<method>`.
    pub(crate) fn not_found() -> Self {
        Self::new(404, "Not Found")
    }

    /// 409 `Conflict: <why>`.
    pub(crate) fn conflict(why: &str) -> Self {
        Self::new(409, format!("Conflict: {why}"))
    }

    /// 429 with the seconds to wait, in the description and in `parameters`.
    pub(crate) fn too_many_requests(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(429, format!("Too Many Requests: retry after {retry_after}"))
        }
    }

    /// A simulated server-side failure (`fail_next`, `set_down`).
    pub(crate) fn server(code: u16) -> Self {
        let reason = StatusCode::from_u16(code)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Internal Server Error");
        Self::new(code, reason)
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> Value {
        let mut body = json!({
            "ok": false,
            "error_code": self.code,
            "description": self.description,
        });
        if let Some(retry_after) = self.retry_after {
            body["parameters"] = json!({ "retry_after": retry_after });
        }
        body
    }
}

impl IntoResponse for TgError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body())).into_response()
    }
}
