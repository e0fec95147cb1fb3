//! Bearer tokens of the integration API: `Authorization: Bearer <secret>`
//! → the [`ApiToken`] it belongs to, or 401 `Invalid token`.

use super::ApiError;
use axum::http::{header, HeaderMap};
use comops_core::store::Store;
use comops_core::ApiToken;

/// The token named by the request's `Authorization` header. Revoked and
/// expired tokens are returned too; scope checks refuse them.
pub async fn bearer_token(headers: &HeaderMap, store: &Store) -> Result<ApiToken, ApiError> {
    let invalid = || ApiError::Unauthorized(comops_core::call::answer::INVALID_TOKEN.into());
    let value = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(invalid)?;
    // The scheme is case-insensitive (RFC 9110 §11.1).
    let secret = value.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")).map(|(_, secret)| secret.trim()).ok_or_else(invalid)?;
    store.token_by_secret(secret).await?.ok_or_else(invalid)
}
