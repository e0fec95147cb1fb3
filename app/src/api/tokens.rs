//! API tokens for business systems: issue, list, revoke. Admins only
//! (`Administer`).
//!
//! The secret exists in clear text only in the answer to [`issue_token`]:
//! the store keeps a hash, the audit log keeps the token's id and name,
//! and no later call can show it again.

use crate::error::AppError;
use comops_core::token::TokenDraft;
use comops_core::{ApiToken, Millis};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

/// The token list and the server's clock, so "expired" is judged by one
/// time on both sides of hydration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenList {
    pub tokens: Vec<ApiToken>,
    pub now: Millis,
}

/// A freshly issued token and its secret (shown once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: String,
}

#[server(prefix = "/api", endpoint = "tokens/list")]
pub async fn list_tokens() -> Result<TokenList, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::Administer)?;
    let tokens = backend()?.store.list_tokens().await?;
    Ok(TokenList { tokens, now: comops_core::store::now_millis() })
}

#[server(prefix = "/api", endpoint = "tokens/issue", input = Json)]
pub async fn issue_token(draft: TokenDraft) -> Result<IssuedToken, AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::Administer)?;
    let valid = draft.validate().map_err(AppError::Invalid)?;
    let store = backend()?.store;
    if !store.missing_bots(&valid).await?.is_empty() {
        return Err(AppError::Invalid(vec![comops_core::FieldError::new("bots", comops_core::Problem::Unknown)]));
    }
    let (token, secret) = store.issue_token(&valid, user.email.as_str()).await?;
    // The detail names the token, never its secret.
    store.audit(user.email.as_str(), "token.issue", token.id.as_str(), &token.name).await?;
    Ok(IssuedToken { token, secret })
}

#[server(prefix = "/api", endpoint = "tokens/revoke")]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::Administer)?;
    let id = comops_core::TokenId::parse(&id).ok_or(AppError::NotFound)?;
    let store = backend()?.store;
    store.revoke_token(&id).await?;
    store.audit(user.email.as_str(), "token.revoke", id.as_str(), "").await?;
    Ok(())
}

