//! Studio users and their roles (SPEC §2: the admin's). Admins only
//! (`Administer`): list, create, change a role, disable or enable, set a
//! new password.
//!
//! Passwords are generated here and exist in clear text only in the
//! answer that creates or resets one (like a token's secret); the store
//! keeps the argon2id hash. A change that would leave no enabled admin,
//! or an admin disabling themselves, is a field error, not a lock-out.
//! Every change is in the audit log.

use crate::error::AppError;
use comops_core::user::UserListing;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The user list, and which row is the admin looking at it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<UserListing>,
    pub me: String,
}

/// A password made for `email`, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedPassword {
    pub email: String,
    pub password: String,
}

#[server(prefix = "/api", endpoint = "users/list")]
pub async fn list_users() -> Result<UserList, AppError> {
    use crate::session::{backend, require};
    let me = require(comops_core::Permission::Administer)?;
    Ok(UserList { users: backend()?.store.user_listing().await?, me: me.id.to_string() })
}

/// Creates a user with a generated password (shown once).
#[server(prefix = "/api", endpoint = "users/create")]
pub async fn create_user(email: String, role: String, locale: String) -> Result<IssuedPassword, AppError> {
    use crate::session::{backend, require};
    use comops_core::{FieldError, Problem};
    let admin = require(comops_core::Permission::Administer)?;
    let mut errors = Vec::new();
    let email = comops_core::Email::parse(&email).map_err(|p| errors.push(FieldError::new("email", p))).ok();
    let role = comops_core::Role::parse(&role).map_err(|p| errors.push(FieldError::new("role", p))).ok();
    let locale = comops_core::Locale::parse(&locale);
    if locale.is_none() {
        errors.push(FieldError::new("locale", Problem::Unknown));
    }
    let (Some(email), Some(role), Some(locale)) = (email, role, locale) else {
        return Err(AppError::Invalid(errors));
    };
    let password = comops_core::auth::generate_password();
    let hash = hashed(password.clone()).await?;
    let store = backend()?.store;
    let new = comops_core::store::NewUser { email, password_hash: hash, role, locale, display_name: String::new() };
    let user = store.create_user(new).await?;
    store.audit(admin.email.as_str(), "user.create", user.id.as_str(), &comops_core::audit_detail::Detail::UserMade { email: user.email.to_string(), role: user.role.as_str().to_string() }.to_string()).await?;
    Ok(IssuedPassword { email: user.email.to_string(), password })
}

#[server(prefix = "/api", endpoint = "users/role")]
pub async fn set_user_role(id: String, role: String) -> Result<(), AppError> {
    use crate::session::{backend, require};
    use comops_core::FieldError;
    let admin = require(comops_core::Permission::Administer)?;
    let id = comops_core::UserId::parse(&id).ok_or(AppError::NotFound)?;
    let role = comops_core::Role::parse(&role).map_err(|p| AppError::Invalid(vec![FieldError::new("role", p)]))?;
    let store = backend()?.store;
    refused_if_last_admin(store.set_user_role(&id, role).await?, "role")?;
    let detail = comops_core::audit_detail::Detail::RoleSet { role: role.as_str().to_string() };
    store.audit(admin.email.as_str(), "user.role", id.as_str(), &detail.to_string()).await?;
    Ok(())
}

/// Disables (ending their sessions) or enables a user; not oneself.
#[server(prefix = "/api", endpoint = "users/disabled")]
pub async fn set_user_disabled(id: String, disabled: bool) -> Result<(), AppError> {
    use crate::session::{backend, require};
    use comops_core::{FieldError, Problem};
    let admin = require(comops_core::Permission::Administer)?;
    let id = comops_core::UserId::parse(&id).ok_or(AppError::NotFound)?;
    if disabled && id == admin.id {
        return Err(AppError::Invalid(vec![FieldError::new("disabled", Problem::OwnAccount)]));
    }
    let store = backend()?.store;
    refused_if_last_admin(store.set_user_disabled(&id, disabled).await?, "disabled")?;
    store.audit(admin.email.as_str(), if disabled { "user.disable" } else { "user.enable" }, id.as_str(), "").await?;
    Ok(())
}

/// Gives a user a new generated password (shown once) and ends their
/// sessions.
#[server(prefix = "/api", endpoint = "users/password")]
pub async fn reset_user_password(id: String) -> Result<IssuedPassword, AppError> {
    use crate::session::{backend, require};
    let admin = require(comops_core::Permission::Administer)?;
    let id = comops_core::UserId::parse(&id).ok_or(AppError::NotFound)?;
    let store = backend()?.store;
    let user = store.user_listing().await?.into_iter().find(|u| u.user.id == id).ok_or(AppError::NotFound)?;
    let password = comops_core::auth::generate_password();
    store.set_user_password(&id, &hashed(password.clone()).await?).await?;
    // The detail names the user, never the password.
    store.audit(admin.email.as_str(), "user.password", id.as_str(), user.user.email.as_str()).await?;
    Ok(IssuedPassword { email: user.user.email.to_string(), password })
}

/// argon2id off the reactor (it is CPU-bound).
#[cfg(feature = "ssr")]
async fn hashed(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || comops_core::auth::hash_password(&password)).await.map_err(|_| AppError::Internal)
}

#[cfg(feature = "ssr")]
fn refused_if_last_admin(change: comops_core::store::UserChange, field: &str) -> Result<(), AppError> {
    use comops_core::{FieldError, Problem};
    match change {
        comops_core::store::UserChange::Done => Ok(()),
        comops_core::store::UserChange::LastAdmin => Err(AppError::Invalid(vec![FieldError::new(field, Problem::LastAdmin)])),
    }
}
