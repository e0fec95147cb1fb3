//! [`ApiError`]: the one error type of the HTTP layer and the one place it
//! becomes a status code. Every error body is JSON
//! `{"success": false, "message": …}` (422s add `errors`, one per field);
//! internal causes are logged, never returned.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use comops_core::schema::PayloadError;
use comops_core::store::StoreError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is not what this route reads (e.g. malformed JSON).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no token, an unknown one, or one no longer valid.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: a valid credential without the needed scope or role.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(&'static str),
    /// 405: the route exists, not with this method (the `Allow` header
    /// says which).
    #[error("Method not allowed on this route")]
    MethodNotAllowed,
    /// 409: an idempotency key reused with another body.
    #[error("{0}")]
    Conflict(String),
    #[error("Request body too large (limit {limit_bytes} bytes)")]
    PayloadTooLarge { limit_bytes: usize },
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    /// 422: the body does not match the endpoint's schema.
    #[error("{message}")]
    Unprocessable { message: String, errors: Vec<PayloadError> },
    #[error("API rate limit exceeded; retry after {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503: the database is out of reach (restarting). The request may
    /// not have been stored: send it again, with its `Idempotency-Key` so
    /// that a commit whose answer was lost is not taken twice.
    #[error("Service temporarily unavailable; retry after {retry_after_secs} s")]
    Unavailable { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::NotFound("Not found"),
            err if err.is_unreachable() => {
                tracing::warn!(error = %err, "database unreachable");
                ApiError::Unavailable { retry_after_secs: 1 }
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body of this error.
    pub fn body(&self) -> serde_json::Value {
        match self {
            ApiError::Internal(_) => json!({ "success": false, "message": "Internal error" }),
            ApiError::Unprocessable { message, errors } => json!({ "success": false, "message": message, "errors": errors }),
            other => json!({ "success": false, "message": other.to_string() }),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        if let ApiError::TooManyRequests { retry_after_secs } | ApiError::Unavailable { retry_after_secs } = &self {
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// The errors that axum and its extractors answer in plain text or with
/// no body (a path that is not UTF-8, a body over the route's limit, a
/// wrong method), rewritten as JSON like every API error, keeping the
/// status and headers (`Allow`, `Retry-After`); an answer already JSON,
/// or an HTML page, is left as it is.
pub async fn plain_errors_as_json(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.starts_with("application/json") || content_type.starts_with("text/html") {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string()).unwrap_or_default();
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("Error").to_string() } else { text };
    let mut rewritten = (status, axum::Json(json!({ "success": false, "message": message }))).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().append(name.clone(), value.clone());
        }
    }
    rewritten
}

#[cfg(test)]
mod tests {
    use super::ApiError;
    use comops_app::api_message::api_message_text;
    use comops_core::Locale;

    /// The studio says this layer's refusals in Russian: its words for them
    /// (`app/src/api_message.rs`) match what is sent.
    #[test]
    fn the_studio_has_russian_for_every_refusal_of_its_own() {
        let sent = [
            ApiError::MethodNotAllowed.to_string(),
            ApiError::PayloadTooLarge { limit_bytes: 65536 }.to_string(),
            ApiError::UnsupportedMediaType.to_string(),
            ApiError::TooManyRequests { retry_after_secs: 7 }.to_string(),
            ApiError::Unavailable { retry_after_secs: 5 }.to_string(),
            ApiError::Internal("detail stays in the log".into()).to_string(),
            super::super::call::KEY_REUSED.to_string(),
            super::super::call::KEY_MALFORMED.to_string(),
        ];
        for message in sent {
            let russian = api_message_text(Locale::Ru, &message);
            assert_ne!(russian, message, "no Russian for «{message}»");
            assert!(russian.chars().any(|c| ('а'..='я').contains(&c)), "{russian}");
            assert_eq!(api_message_text(Locale::En, &message), message);
        }
        assert_eq!(api_message_text(Locale::Ru, &ApiError::TooManyRequests { retry_after_secs: 7 }.to_string()), "Превышен предел запросов к API; повторите через 7 с");
        assert_eq!(api_message_text(Locale::Ru, &ApiError::PayloadTooLarge { limit_bytes: 65536 }.to_string()), "Тело запроса слишком велико (предел — 65536 байт)");
    }
}
