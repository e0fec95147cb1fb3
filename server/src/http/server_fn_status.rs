//! Server functions answer every error with status 500 and the error as
//! JSON; this layer reads that JSON back as an `AppError` and sets the
//! status it stands for (400 invalid input, 404 not found, …), so a
//! studio call's status says what went wrong. The studio's client decodes
//! any 4xx/5xx body the same way, so nothing changes for it.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use comops_app::error::AppError;

/// Error bodies are small; anything larger is left as it is.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The most a server function reads of a request (axum's default body
/// limit, which its extractor applies).
pub const SERVER_FN_BODY_LIMIT: u64 = 2 * 1024 * 1024;

/// Most of a refused body read (and dropped) before the answer, so the
/// browser, still sending, gets it instead of a broken connection.
const DRAINED_AT_MOST: u64 = 64 * 1024 * 1024;

/// A server function's request that says it is larger than the limit is
/// answered 413 with `AppError::TooLarge`, its body dropped unread
/// (reading it failed as "length limit exceeded"; one that says no length
/// gets the same 413 from [`from_app_error`] once the read fails).
pub async fn refuse_oversized(request: Request, next: Next) -> Response {
    use http_body_util::BodyExt;
    let length = request.headers().get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if request.uri().path().starts_with("/api/") && length.is_some_and(|n| n > SERVER_FN_BODY_LIMIT) {
        let mut body = request.into_body();
        let mut drained = 0u64;
        while drained <= DRAINED_AT_MOST {
            match body.frame().await {
                Some(Ok(frame)) => drained += frame.data_ref().map_or(0, |data| data.len() as u64),
                _ => break,
            }
        }
        let error = AppError::TooLarge { limit_mib: SERVER_FN_BODY_LIMIT / (1024 * 1024) };
        return (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(error)).into_response();
    }
    next.run(request).await
}

pub async fn from_app_error(request: Request, next: Next) -> Response {
    let is_server_fn = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(mut bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(mut error) = serde_json::from_slice::<AppError>(&bytes) {
        // A body that declared no length and ran past the limit while it
        // was read: too large, like one that declared it (not unreadable).
        if matches!(&error, AppError::BadRequest(detail) if detail.contains("length limit exceeded")) {
            error = AppError::TooLarge { limit_mib: SERVER_FN_BODY_LIMIT / (1024 * 1024) };
            bytes = serde_json::to_vec(&error).unwrap_or_default().into();
            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        }
        parts.status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}
