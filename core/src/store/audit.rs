//! The audit log of admin actions (users, tokens, credentials, settings).

use super::{now_millis, Store, StoreResult};

impl Store {
    /// Records that `actor` did `action` to `subject`. `detail` must never
    /// contain a secret.
    pub async fn audit(&self, actor: &str, action: &str, subject: &str, detail: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO audit_log (id, actor, action, subject, detail, at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(format!("aud_{}", crate::id::random_suffix()))
            .bind(actor)
            .bind(action)
            .bind(subject)
            .bind(detail)
            .bind(now_millis())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
