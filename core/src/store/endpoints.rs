//! Endpoints of a bot: list, get by id or alias, create, save a new
//! version, delete, and import (upsert by alias).
//!
//! Every create and save writes a version (`endpoint_versions`, read by
//! `endpoint_history.rs`) in the same transaction as the row. A save names
//! the version it started from and is a compare-and-set on
//! `endpoints.version`: a stale one is [`StoreError::Conflict`] with the
//! current version and its author, and nothing is written.

use super::{flag, now_millis, OnUnique, Store, StoreError, StoreResult};
use crate::endpoint::{EndpointDraft, ValidEndpoint};
use crate::{Alias, BotId, Endpoint, EndpointId};
use sqlx::any::AnyRow;
use sqlx::Row;

const SELECT: &str = "SELECT id, bot_id, alias, description, owner, schema_json, example_json, response_description, \
     isolated, enabled, scenario, allow_overlap, on_blocked, version, created_at, updated_at FROM endpoints";

fn endpoint(row: &AnyRow) -> Result<Endpoint, sqlx::Error> {
    let decode = |what: &str, e: String| sqlx::Error::Decode(format!("endpoints.{what}: {e}").into());
    let alias: String = row.try_get("alias")?;
    let schema: String = row.try_get("schema_json")?;
    let example: String = row.try_get("example_json")?;
    Ok(Endpoint {
        id: EndpointId::from_store(row.try_get("id")?),
        bot_id: BotId::from_store(row.try_get("bot_id")?),
        alias: Alias::parse(&alias).map_err(|p| decode("alias", format!("{p:?}")))?,
        description: row.try_get("description")?,
        owner: row.try_get("owner")?,
        schema: serde_json::from_str(&schema).map_err(|e| decode("schema_json", e.to_string()))?,
        example: serde_json::from_str(&example).map_err(|e| decode("example_json", e.to_string()))?,
        response_description: row.try_get("response_description")?,
        isolated: flag(row, "isolated")?,
        enabled: flag(row, "enabled")?,
        scenario: row.try_get("scenario")?,
        allow_overlap: flag(row, "allow_overlap")?,
        on_blocked: row.try_get("on_blocked")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    pub async fn list_endpoints(&self, bot: &BotId) -> StoreResult<Vec<Endpoint>> {
        let rows = sqlx::query(&format!("{SELECT} WHERE bot_id = $1 ORDER BY alias")).bind(bot.as_str()).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(endpoint).collect::<Result<_, _>>()?)
    }

    pub async fn endpoint(&self, id: &EndpointId) -> StoreResult<Endpoint> {
        let row = sqlx::query(&format!("{SELECT} WHERE id = $1")).bind(id.as_str()).fetch_optional(&self.pool).await?;
        row.as_ref().map(endpoint).transpose()?.ok_or(StoreError::NotFound)
    }

    /// The endpoint `alias` of `bot`, enabled or not (through the
    /// short-lived cache: hot on every API call).
    pub async fn endpoint_by_alias(&self, bot: &BotId, alias: &Alias) -> StoreResult<Option<Endpoint>> {
        let key = (bot.to_string(), alias.to_string());
        if let Some(cached) = self.cache.endpoints.get(&key) {
            return Ok(cached);
        }
        let row = sqlx::query(&format!("{SELECT} WHERE bot_id = $1 AND alias = $2"))
            .bind(bot.as_str())
            .bind(alias.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let found = row.as_ref().map(endpoint).transpose()?;
        self.cache.endpoints.put(key, found.clone());
        Ok(found)
    }

    /// Creates an endpoint of `bot` as version 1 with no author (seeds,
    /// tests, benches).
    pub async fn create_endpoint(&self, bot: &BotId, valid: &ValidEndpoint) -> StoreResult<Endpoint> {
        self.create_endpoint_as(bot, valid, "", "").await
    }

    /// Creates an endpoint of `bot`: its row and its version 1 (`note`,
    /// `author`).
    pub async fn create_endpoint_as(&self, bot: &BotId, valid: &ValidEndpoint, note: &str, author: &str) -> StoreResult<Endpoint> {
        self.bot(bot).await?;
        let id = EndpointId::generate();
        let now = now_millis();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO endpoints (id, bot_id, alias, description, owner, schema_json, example_json, response_description, \
             isolated, enabled, scenario, allow_overlap, on_blocked, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $14)",
        )
        .bind(id.as_str())
        .bind(bot.as_str())
        .bind(valid.alias.as_str())
        .bind(&valid.description)
        .bind(&valid.owner)
        .bind(json_text(&valid.schema))
        .bind(json_text(&valid.example))
        .bind(&valid.response_description)
        .bind(valid.isolated as i64)
        .bind(valid.enabled as i64)
        .bind(&valid.scenario)
        .bind(valid.allow_overlap as i64)
        .bind(&valid.on_blocked)
        .bind(now)
        .execute(&mut *tx)
        .await
        .on_unique("alias")?;
        insert_version(&mut tx, &id, 1, &EndpointDraft::from(valid), note, author, now).await?;
        tx.commit().await?;
        self.cache.endpoints.clear();
        self.endpoint(&id).await
    }

    /// Saves `valid` as the next version of endpoint `id`, if `base` (the
    /// version the editor or import started from) is still current;
    /// otherwise [`StoreError::Conflict`] and nothing is written.
    pub async fn save_endpoint(&self, id: &EndpointId, base: i64, valid: &ValidEndpoint, note: &str, author: &str) -> StoreResult<Endpoint> {
        let now = now_millis();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE endpoints SET alias = $1, description = $2, owner = $3, schema_json = $4, example_json = $5, \
             response_description = $6, isolated = $7, enabled = $8, scenario = $9, allow_overlap = $10, on_blocked = $11, \
             updated_at = $12, version = version + 1 WHERE id = $13 AND version = $14",
        )
        .bind(valid.alias.as_str())
        .bind(&valid.description)
        .bind(&valid.owner)
        .bind(json_text(&valid.schema))
        .bind(json_text(&valid.example))
        .bind(&valid.response_description)
        .bind(valid.isolated as i64)
        .bind(valid.enabled as i64)
        .bind(&valid.scenario)
        .bind(valid.allow_overlap as i64)
        .bind(&valid.on_blocked)
        .bind(now)
        .bind(id.as_str())
        .bind(base)
        .execute(&mut *tx)
        .await
        .on_unique("alias")?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            let current = self.endpoint(id).await?;
            let author = self.endpoint_version_author(id, current.version).await?;
            return Err(StoreError::Conflict { current: current.version, author });
        }
        insert_version(&mut tx, id, base + 1, &EndpointDraft::from(valid), note, author, now).await?;
        tx.commit().await?;
        self.cache.endpoints.clear();
        self.endpoint(id).await
    }

    pub async fn delete_endpoint(&self, id: &EndpointId) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM endpoints WHERE id = $1").bind(id.as_str()).execute(&self.pool).await?;
        self.cache.endpoints.clear();
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Deletes endpoint `id` if `version` is still its current version
    /// (an undo of its creation: nobody changed it since); otherwise
    /// [`StoreError::Conflict`] naming who saved which version, and
    /// nothing is deleted. Its versions go with it.
    pub async fn delete_endpoint_at(&self, id: &EndpointId, version: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM endpoints WHERE id = $1 AND version = $2").bind(id.as_str()).bind(version).execute(&self.pool).await?;
        self.cache.endpoints.clear();
        if done.rows_affected() == 0 {
            let current = self.endpoint(id).await?;
            let author = self.endpoint_version_author(id, current.version).await?;
            return Err(StoreError::Conflict { current: current.version, author });
        }
        Ok(())
    }

    /// Creates or saves a new version of (by alias) every endpoint, each
    /// version noted `note` by `author`; an endpoint the import leaves as
    /// it was gets no new version and counts as unchanged.
    pub async fn import_endpoints(&self, bot: &BotId, endpoints: &[ValidEndpoint], note: &str, author: &str) -> StoreResult<EndpointImport> {
        let mut done = EndpointImport::default();
        for valid in endpoints {
            match self.endpoint_by_alias(bot, &valid.alias).await? {
                Some(existing) => {
                    if crate::endpoint::versions::changes(&EndpointDraft::from(&existing), &EndpointDraft::from(valid)).is_empty() {
                        done.unchanged += 1;
                    } else {
                        self.save_endpoint(&existing.id, existing.version, valid, note, author).await?;
                        done.updated += 1;
                    }
                }
                None => {
                    self.create_endpoint_as(bot, valid, note, author).await?;
                    done.created += 1;
                }
            }
        }
        Ok(done)
    }
}

/// What an endpoint import did, endpoint by endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointImport {
    pub created: usize,
    pub updated: usize,
    /// Already there, the same in every field: no new version.
    pub unchanged: usize,
}

/// Writes version `version` of endpoint `id` inside `tx`.
pub(super) async fn insert_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &EndpointId,
    version: i64,
    draft: &EndpointDraft,
    note: &str,
    author: &str,
    at: crate::Millis,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO endpoint_versions (endpoint_id, version, draft_json, note, author, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(version)
    .bind(json_text(draft))
    .bind(note)
    .bind(author)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}
