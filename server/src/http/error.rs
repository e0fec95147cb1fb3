//! [`ApiError`]: the one error type of the HTTP layer and the one place it
//! becomes a status code. Every error body is JSON
//! `{"success": false, "message": …}`; internal causes are logged, never
//! returned.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use comops_core::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::NotFound("Not found"),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let message = match &self {
            ApiError::Internal(_) => "Internal error".to_string(),
            other => other.to_string(),
        };
        (status, axum::Json(serde_json::json!({ "success": false, "message": message }))).into_response()
    }
}
