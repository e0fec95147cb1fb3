//! API tokens: issue (returns the secret once), look up by secret, list,
//! revoke, mark used.

use super::{now_millis, Store, StoreError, StoreResult};
use crate::auth::{constant_time_eq, hash_secret};
use crate::token::{token_id_of_secret, ValidToken};
use crate::{ApiToken, TokenId};
use sqlx::any::AnyRow;
use sqlx::Row;

const COLUMNS: &str = "id, name, scope_json, expires_at, rate_per_minute, created_by, created_at, last_used_at, revoked_at";
const SELECT: &str =
    "SELECT id, name, scope_json, expires_at, rate_per_minute, created_by, created_at, last_used_at, revoked_at FROM api_tokens";

fn token(row: &AnyRow) -> Result<ApiToken, sqlx::Error> {
    let scope: String = row.try_get("scope_json")?;
    Ok(ApiToken {
        id: TokenId::from_store(row.try_get("id")?),
        name: row.try_get("name")?,
        scope: serde_json::from_str(&scope).map_err(|e| sqlx::Error::Decode(format!("api_tokens.scope_json: {e}").into()))?,
        expires_at: row.try_get("expires_at")?,
        rate_per_minute: row.try_get::<i64, _>("rate_per_minute")?.clamp(0, u32::MAX as i64) as u32,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl Store {
    /// Of the bots a token would name, those that do not exist (a typo in
    /// the studio's form, refused there, or the CLI's `--bots`, warned of).
    pub async fn missing_bots(&self, valid: &ValidToken) -> StoreResult<Vec<crate::BotId>> {
        let mut missing = Vec::new();
        for bot in &valid.scope.bots {
            match self.bot(bot).await {
                Ok(_) => {}
                Err(super::StoreError::NotFound) => missing.push(bot.clone()),
                Err(other) => return Err(other),
            }
        }
        Ok(missing)
    }

    /// Stores a new token and returns it with its secret (shown once).
    pub async fn issue_token(&self, valid: &ValidToken, created_by: &str) -> StoreResult<(ApiToken, String)> {
        let id = TokenId::generate();
        let (random, _) = crate::auth::new_secret();
        let secret = format!("comops_{}_{random}", &id.as_str()[TokenId::PREFIX.len()..]);
        let now = now_millis();
        let expires_at = (valid.expires_in_days > 0).then(|| now + i64::from(valid.expires_in_days) * 86_400_000);
        sqlx::query(
            "INSERT INTO api_tokens (id, name, secret_hash, scope_json, expires_at, rate_per_minute, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.as_str())
        .bind(&valid.name)
        .bind(hash_secret(&secret))
        .bind(super::endpoints::json_text(&valid.scope))
        .bind(expires_at)
        .bind(i64::from(valid.rate_per_minute))
        .bind(created_by)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.cache.tokens.clear();
        Ok((self.token(&id).await?, secret))
    }

    pub async fn token(&self, id: &TokenId) -> StoreResult<ApiToken> {
        let row = sqlx::query(&format!("{SELECT} WHERE id = $1")).bind(id.as_str()).fetch_optional(&self.pool).await?;
        row.as_ref().map(token).transpose()?.ok_or(StoreError::NotFound)
    }

    /// The token a presented secret belongs to (revoked and expired ones
    /// included: the caller decides), or `None` if it matches none.
    pub async fn token_by_secret(&self, secret: &str) -> StoreResult<Option<ApiToken>> {
        let Some(id) = token_id_of_secret(secret) else { return Ok(None) };
        let row = match self.cache.tokens.get(&id.to_string()) {
            Some(cached) => cached,
            None => {
                let row = sqlx::query(&format!("SELECT {COLUMNS}, secret_hash FROM api_tokens WHERE id = $1"))
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                let row = match row {
                    Some(row) => Some((token(&row)?, row.try_get::<String, _>("secret_hash")?)),
                    None => None,
                };
                self.cache.tokens.put(id.to_string(), row.clone());
                row
            }
        };
        let Some((token, stored)) = row else { return Ok(None) };
        if !constant_time_eq(stored.as_bytes(), hash_secret(secret).as_bytes()) {
            return Ok(None);
        }
        Ok(Some(token))
    }

    pub async fn list_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        let rows = sqlx::query(&format!("{SELECT} ORDER BY created_at DESC")).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(token).collect::<Result<_, _>>()?)
    }

    pub async fn revoke_token(&self, id: &TokenId) -> StoreResult<()> {
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_millis())
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        self.cache.tokens.clear();
        if done.rows_affected() == 0 {
            self.token(id).await?; // NotFound, or already revoked (fine)
        }
        Ok(())
    }

    /// Records use, at most once a second per token to keep writes cheap.
    pub async fn touch_token(&self, id: &TokenId, now: crate::Millis) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
            .bind(now)
            .bind(id.as_str())
            .bind(now - 1000)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
