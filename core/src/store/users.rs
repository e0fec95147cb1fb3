//! Studio users: create, look up by email, change locale; and what an
//! admin does to them (SPEC §2 "admin: users and roles"): list, change a
//! role, disable or enable, set a new password. A change that would leave
//! no enabled admin is refused in the same statement that makes it;
//! disabling a user or changing their password ends their sessions.

use super::{now_millis, OnUnique, Store, StoreError, StoreResult};
use crate::user::UserListing;
use crate::{Email, Locale, Role, SessionUser, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A user to create; the password is already hashed.
pub struct NewUser {
    pub email: Email,
    pub password_hash: String,
    pub role: Role,
    pub locale: Locale,
    pub display_name: String,
}

/// Whether an admin's change to a user was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChange {
    Done,
    /// Refused: no enabled admin would be left.
    LastAdmin,
}

/// Another enabled admin than user `$2` exists (the guard of a change
/// that takes `$2`'s admin rights away).
const OTHER_ADMIN: &str = "(SELECT COUNT(*) FROM users o WHERE o.role = 'admin' AND o.disabled = 0 AND o.id <> $2) > 0";

/// A user row with its password hash, for login only.
pub struct UserCredentials {
    pub user: SessionUser,
    pub password_hash: String,
    pub disabled: bool,
}

pub(crate) fn session_user(row: &AnyRow) -> Result<SessionUser, sqlx::Error> {
    let email: String = row.try_get("email")?;
    let role: String = row.try_get("role")?;
    let locale: String = row.try_get("locale")?;
    let decode = |what: &str| sqlx::Error::Decode(format!("bad {what} in users row").into());
    Ok(SessionUser {
        id: UserId::from_store(row.try_get("id")?),
        email: Email::parse(&email).map_err(|_| decode("email"))?,
        role: Role::parse(&role).map_err(|_| decode("role"))?,
        locale: Locale::parse(&locale).unwrap_or_default(),
        display_name: row.try_get("display_name")?,
    })
}

impl Store {
    pub async fn create_user(&self, new: NewUser) -> StoreResult<SessionUser> {
        let id = UserId::generate();
        sqlx::query(
            "INSERT INTO users (id, email, password_hash, role, locale, display_name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_str())
        .bind(new.email.as_str())
        .bind(&new.password_hash)
        .bind(new.role.as_str())
        .bind(new.locale.as_str())
        .bind(&new.display_name)
        .bind(now_millis())
        .execute(&self.pool)
        .await
        .on_unique("email")?;
        Ok(SessionUser { id, email: new.email, role: new.role, locale: new.locale, display_name: new.display_name })
    }

    pub async fn count_users(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?)
    }

    pub async fn user_credentials(&self, email: &Email) -> StoreResult<Option<UserCredentials>> {
        let row = sqlx::query(
            "SELECT id, email, role, locale, display_name, password_hash, disabled FROM users WHERE email = $1",
        )
        .bind(email.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(UserCredentials {
                user: session_user(&row)?,
                password_hash: row.try_get("password_hash")?,
                disabled: super::flag(&row, "disabled")?,
            })
        })
        .transpose()
        .map_err(StoreError::Database)
    }

    pub async fn set_user_locale(&self, id: &UserId, locale: Locale) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET locale = $1 WHERE id = $2")
            .bind(locale.as_str())
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn list_users(&self) -> StoreResult<Vec<SessionUser>> {
        let rows = sqlx::query("SELECT id, email, role, locale, display_name FROM users ORDER BY email")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(session_user).collect::<Result<_, _>>().map_err(StoreError::Database)
    }

    /// Every user with their state, by email.
    pub async fn user_listing(&self) -> StoreResult<Vec<UserListing>> {
        let rows = sqlx::query("SELECT id, email, role, locale, display_name, disabled, created_at FROM users ORDER BY email")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok(UserListing { user: session_user(row)?, disabled: super::flag(row, "disabled")?, created_at: row.try_get("created_at")? }))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::Database)
    }

    /// Gives user `id` role `role`, unless that takes the rights of the
    /// last enabled admin away.
    pub async fn set_user_role(&self, id: &UserId, role: Role) -> StoreResult<UserChange> {
        let done = sqlx::query(&format!(
            "UPDATE users SET role = $1 WHERE id = $2 AND ($1 = 'admin' OR role <> 'admin' OR disabled = 1 OR {OTHER_ADMIN})"
        ))
        .bind(role.as_str())
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        self.user_changed(id, done.rows_affected()).await
    }

    /// Disables (ending their sessions) or enables user `id`; disabling
    /// the last enabled admin is refused.
    pub async fn set_user_disabled(&self, id: &UserId, disabled: bool) -> StoreResult<UserChange> {
        let done = sqlx::query(&format!(
            "UPDATE users SET disabled = $1 WHERE id = $2 AND ($1 = 0 OR role <> 'admin' OR disabled = 1 OR {OTHER_ADMIN})"
        ))
        .bind(disabled as i64)
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        let change = self.user_changed(id, done.rows_affected()).await?;
        if disabled && change == UserChange::Done {
            self.end_sessions_of(id).await?;
        }
        Ok(change)
    }

    /// Sets user `id`'s password hash and ends their sessions.
    pub async fn set_user_password(&self, id: &UserId, password_hash: &str) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.end_sessions_of(id).await
    }

    async fn end_sessions_of(&self, id: &UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id.as_str()).execute(&self.pool).await?;
        Ok(())
    }

    /// An admin's guarded UPDATE touched `rows`: done, refused, or no such user.
    async fn user_changed(&self, id: &UserId, rows: u64) -> StoreResult<UserChange> {
        if rows > 0 {
            return Ok(UserChange::Done);
        }
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = $1").bind(id.as_str()).fetch_one(&self.pool).await?;
        if exists == 0 { Err(StoreError::NotFound) } else { Ok(UserChange::LastAdmin) }
    }
}
