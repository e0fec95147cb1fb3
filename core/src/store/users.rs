//! Studio users: create, look up by email, change locale.

use super::{now_millis, OnUnique, Store, StoreError, StoreResult};
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
}
