//! Endpoints of a bot: list, get by id or alias, create, update, delete,
//! and import (upsert by alias).

use super::{flag, now_millis, OnUnique, Store, StoreError, StoreResult};
use crate::endpoint::ValidEndpoint;
use crate::{Alias, BotId, Endpoint, EndpointId};
use sqlx::any::AnyRow;
use sqlx::Row;

const SELECT: &str = "SELECT id, bot_id, alias, description, owner, schema_json, example_json, response_description, \
     isolated, enabled, scenario, allow_overlap, created_at, updated_at FROM endpoints";

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

    pub async fn create_endpoint(&self, bot: &BotId, valid: &ValidEndpoint) -> StoreResult<Endpoint> {
        self.bot(bot).await?;
        let id = EndpointId::generate();
        let now = now_millis();
        sqlx::query(
            "INSERT INTO endpoints (id, bot_id, alias, description, owner, schema_json, example_json, response_description, \
             isolated, enabled, scenario, allow_overlap, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
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
        .bind(now)
        .execute(&self.pool)
        .await
        .on_unique("alias")?;
        self.cache.endpoints.clear();
        self.endpoint(&id).await
    }

    pub async fn update_endpoint(&self, id: &EndpointId, valid: &ValidEndpoint) -> StoreResult<Endpoint> {
        let done = sqlx::query(
            "UPDATE endpoints SET alias = $1, description = $2, owner = $3, schema_json = $4, example_json = $5, \
             response_description = $6, isolated = $7, enabled = $8, scenario = $9, allow_overlap = $10, updated_at = $11 \
             WHERE id = $12",
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
        .bind(now_millis())
        .bind(id.as_str())
        .execute(&self.pool)
        .await
        .on_unique("alias")?;
        self.cache.endpoints.clear();
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
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

    /// Creates or updates (by alias) every endpoint; returns (created, updated).
    pub async fn import_endpoints(&self, bot: &BotId, endpoints: &[ValidEndpoint]) -> StoreResult<(usize, usize)> {
        let (mut created, mut updated) = (0, 0);
        for valid in endpoints {
            match self.endpoint_by_alias(bot, &valid.alias).await? {
                Some(existing) => {
                    self.update_endpoint(&existing.id, valid).await?;
                    updated += 1;
                }
                None => {
                    self.create_endpoint(bot, valid).await?;
                    created += 1;
                }
            }
        }
        Ok((created, updated))
    }
}

pub(crate) fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}
