//! Bots of a project: list, get, create, update, delete.

use super::{flag, now_millis, OnUnique, Store, StoreError, StoreResult};
use crate::bot::ValidBot;
use crate::{Bot, BotId, ProjectId};
use sqlx::any::AnyRow;
use sqlx::Row;

const SELECT: &str =
    "SELECT id, project_id, name, username, description, enabled, created_at, updated_at FROM bots";

fn bot(row: &AnyRow) -> Result<Bot, sqlx::Error> {
    Ok(Bot {
        id: BotId::from_store(row.try_get("id")?),
        project_id: ProjectId::from_store(row.try_get("project_id")?),
        name: row.try_get("name")?,
        username: row.try_get("username")?,
        description: row.try_get("description")?,
        enabled: flag(row, "enabled")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    pub async fn list_bots(&self, project: &ProjectId) -> StoreResult<Vec<Bot>> {
        let rows = sqlx::query(&format!("{SELECT} WHERE project_id = $1 ORDER BY name"))
            .bind(project.as_str())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(bot).collect::<Result<_, _>>()?)
    }

    /// One bot (read through the short-lived cache: hot on every API call).
    pub async fn bot(&self, id: &BotId) -> StoreResult<Bot> {
        if let Some(cached) = self.cache.bots.get(&id.to_string()) {
            return cached.ok_or(StoreError::NotFound);
        }
        let row = sqlx::query(&format!("{SELECT} WHERE id = $1")).bind(id.as_str()).fetch_optional(&self.pool).await?;
        let found = row.as_ref().map(bot).transpose()?;
        self.cache.bots.put(id.to_string(), found.clone());
        found.ok_or(StoreError::NotFound)
    }

    /// Creates a bot in an existing project, with a fresh id or `id`. An
    /// id in use, or a deleted bot's ([`Store::bot_id_retired`]), is
    /// `Taken("id")`: checked in the insert itself.
    pub async fn create_bot(&self, project: &ProjectId, valid: &ValidBot, id: Option<BotId>) -> StoreResult<Bot> {
        self.project(project).await?;
        let id = id.unwrap_or_else(BotId::generate);
        let now = now_millis();
        let made = sqlx::query(
            "INSERT INTO bots (id, project_id, name, username, description, enabled, created_at, updated_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $7 WHERE NOT EXISTS (SELECT 1 FROM retired_bot_ids WHERE id = $1)",
        )
        .bind(id.as_str())
        .bind(project.as_str())
        .bind(&valid.name)
        .bind(&valid.username)
        .bind(&valid.description)
        .bind(valid.enabled as i64)
        .bind(now)
        .execute(&self.pool)
        .await
        .on_unique("id")?;
        if made.rows_affected() == 0 {
            return Err(StoreError::Taken("id"));
        }
        self.cache.bots.clear();
        self.bot(&id).await
    }

    pub async fn update_bot(&self, id: &BotId, valid: &ValidBot) -> StoreResult<Bot> {
        let done = sqlx::query(
            "UPDATE bots SET name = $1, username = $2, description = $3, enabled = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(&valid.name)
        .bind(&valid.username)
        .bind(&valid.description)
        .bind(valid.enabled as i64)
        .bind(now_millis())
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        self.cache.bots.clear();
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.bot(id).await
    }

    /// Deletes a bot; its id is kept as retired ([`Store::bot_id_retired`]).
    pub async fn delete_bot(&self, id: &BotId) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(RETIRE_IDS).bind(now_millis()).bind(id.as_str()).bind("").execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM bots WHERE id = $1").bind(id.as_str()).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        self.cache.bots.clear();
        self.cache.endpoints.clear();
        Ok(())
    }

    /// Whether `id` was a deleted bot's: rows elsewhere still name it
    /// (traces, tallies, tokens' scopes), so a bot made later must not
    /// take it.
    pub async fn bot_id_retired(&self, id: &BotId) -> StoreResult<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT retired_at FROM retired_bot_ids WHERE id = $1").bind(id.as_str()).fetch_optional(&self.pool).await?;
        Ok(found.is_some())
    }
}

/// Keeps as retired the bot `$2`, or every bot of the project `$3`
/// (`$1`: now), before they are deleted in the same transaction. SQLite
/// needs the WHERE for the upsert to parse after a SELECT.
pub(super) const RETIRE_IDS: &str = "INSERT INTO retired_bot_ids (id, retired_at) SELECT id, $1 FROM bots WHERE id = $2 OR project_id = $3 \
     ON CONFLICT (id) DO NOTHING";
