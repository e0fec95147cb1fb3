//! An endpoint's versions as the studio reads them: the history, one
//! version's content, the author of the current one (for a conflict), and
//! the first version of endpoints made before versions were kept.

use super::endpoints::insert_version;
use super::{Store, StoreError, StoreResult};
use crate::history::{self, HistoryPage, HistoryWindow};
use crate::endpoint::versions::{EndpointVersion, EndpointVersionInfo};
use crate::{EndpointDraft, EndpointId};

impl Store {
    /// A page of endpoint `id`'s versions, newest first.
    pub async fn endpoint_history(&self, id: &EndpointId, window: HistoryWindow) -> StoreResult<HistoryPage<EndpointVersionInfo>> {
        self.endpoint(id).await?;
        let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT version, note, author, created_at FROM endpoint_versions WHERE endpoint_id = $1 AND version < $2 \
             ORDER BY version DESC LIMIT $3",
        )
        .bind(id.as_str())
        .bind(window.bound())
        .bind(history::PAGE as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        Ok(HistoryPage::from_read(rows).map(|(version, note, author, created_at)| EndpointVersionInfo { version, note, author, created_at }))
    }

    /// Version `version` of endpoint `id`.
    pub async fn endpoint_version(&self, id: &EndpointId, version: i64) -> StoreResult<EndpointVersion> {
        let row: Option<(String, String, String, i64)> = sqlx::query_as(
            "SELECT draft_json, note, author, created_at FROM endpoint_versions WHERE endpoint_id = $1 AND version = $2",
        )
        .bind(id.as_str())
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        let (json, note, author, created_at) = row.ok_or(StoreError::NotFound)?;
        let draft = serde_json::from_str(&json)
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(format!("endpoint_versions.draft_json: {e}").into())))?;
        Ok(EndpointVersion { version, draft, note, author, created_at })
    }

    /// Who saved version `version` of endpoint `id` (empty if unknown).
    pub(super) async fn endpoint_version_author(&self, id: &EndpointId, version: i64) -> StoreResult<String> {
        let author: Option<String> = sqlx::query_scalar("SELECT author FROM endpoint_versions WHERE endpoint_id = $1 AND version = $2")
            .bind(id.as_str())
            .bind(version)
            .fetch_optional(&self.pool)
            .await?;
        Ok(author.unwrap_or_default())
    }

    /// Writes the current version of every endpoint that has none (those
    /// made before versions were kept): its row as it is, no author. Run
    /// after the migrations; a second process doing it at once loses the
    /// race harmlessly.
    pub(super) async fn write_first_endpoint_versions(&self) -> StoreResult<()> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM endpoints e WHERE NOT EXISTS (SELECT 1 FROM endpoint_versions v WHERE v.endpoint_id = e.id)",
        )
        .fetch_all(&self.pool)
        .await?;
        for id in ids {
            let endpoint = self.endpoint(&EndpointId::from_store(id)).await?;
            let mut tx = self.pool.begin().await?;
            let written = insert_version(&mut tx, &endpoint.id, endpoint.version, &EndpointDraft::from(&endpoint), "", "", endpoint.updated_at).await;
            match written {
                Ok(()) => tx.commit().await?,
                Err(StoreError::Database(sqlx::Error::Database(db))) if db.is_unique_violation() => tx.rollback().await?,
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }
}
