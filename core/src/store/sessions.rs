//! Server-side login sessions. The cookie holds a random secret; the table
//! holds its SHA-256 hash, the user and the expiry.

use super::{now_millis, users::session_user, Store, StoreResult};
use crate::auth::{hash_secret, new_secret};
use crate::{SessionUser, UserId};

/// How long a session lives after login.
pub const SESSION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

impl Store {
    /// Starts a session and returns the secret for the cookie.
    pub async fn create_session(&self, user: &UserId) -> StoreResult<String> {
        let (secret, hash) = new_secret();
        let now = now_millis();
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&hash)
            .bind(user.as_str())
            .bind(now)
            .bind(now + SESSION_TTL_MS)
            .execute(&self.pool)
            .await?;
        Ok(secret)
    }

    /// The user of a live session, or `None` for unknown, expired or
    /// disabled-user sessions.
    pub async fn session_user(&self, secret: &str) -> StoreResult<Option<SessionUser>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.role, u.locale, u.display_name FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
        )
        .bind(hash_secret(secret))
        .bind(now_millis())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(session_user).transpose()?)
    }

    pub async fn delete_session(&self, secret: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(hash_secret(secret))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes expired sessions; returns how many.
    pub async fn purge_expired_sessions(&self) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now_millis()).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}
