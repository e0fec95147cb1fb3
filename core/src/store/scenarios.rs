//! Scenarios of a bot, versioned: every save appends a version, the
//! highest is current. Definitions are validated by the caller
//! (`Scenario::validate`) before they get here.

use super::{now_millis, Store, StoreError, StoreResult};
use crate::scenario::Scenario;
use crate::BotId;
use serde::{Deserialize, Serialize};

/// One saved version of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioVersion {
    pub bot_id: String,
    pub name: String,
    pub version: i64,
    pub definition: Scenario,
    pub note: String,
    pub author: String,
    pub created_at: crate::Millis,
}

/// A row of the scenario list (current version only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioSummary {
    pub name: String,
    pub version: i64,
    pub steps: usize,
    pub author: String,
    pub updated_at: crate::Millis,
}

impl Store {
    /// Appends a version of `scenario` (by its name); returns its number.
    /// Two saves racing for the same number: the second gets `Taken`.
    pub async fn save_scenario(&self, bot: &BotId, scenario: &Scenario, note: &str, author: &str) -> StoreResult<i64> {
        self.bot(bot).await?;
        let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM scenario_versions WHERE bot_id = $1 AND name = $2")
            .bind(bot.as_str())
            .bind(&scenario.name)
            .fetch_one(&self.pool)
            .await?;
        let version = current.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO scenario_versions (bot_id, name, version, definition_json, note, author, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(bot.as_str())
        .bind(&scenario.name)
        .bind(version)
        .bind(super::endpoints::json_text(scenario))
        .bind(note)
        .bind(author)
        .bind(now_millis())
        .execute(&self.pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Taken("version"),
            _ => StoreError::Database(e),
        })?;
        Ok(version)
    }

    /// The current version of scenario `name`, if any.
    pub async fn scenario(&self, bot: &BotId, name: &str) -> StoreResult<Option<ScenarioVersion>> {
        let row: Option<(i64, String, String, String, i64)> = sqlx::query_as(
            "SELECT version, definition_json, note, author, created_at FROM scenario_versions \
             WHERE bot_id = $1 AND name = $2 ORDER BY version DESC LIMIT 1",
        )
        .bind(bot.as_str())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(version, json, note, author, created_at)| {
            let definition = serde_json::from_str(&json)
                .map_err(|e| StoreError::Database(sqlx::Error::Decode(format!("scenario_versions.definition_json: {e}").into())))?;
            Ok(ScenarioVersion { bot_id: bot.to_string(), name: name.to_string(), version, definition, note, author, created_at })
        })
        .transpose()
    }

    /// Version `version` of scenario `name` (the one a run started with).
    pub async fn scenario_version(&self, bot: &BotId, name: &str, version: i64) -> StoreResult<Option<Scenario>> {
        let key = (bot.as_str().to_string(), name.to_string(), version);
        if let Some(found) = self.cache.scenario_versions.get(&key) {
            return Ok(found);
        }
        let json: Option<String> =
            sqlx::query_scalar("SELECT definition_json FROM scenario_versions WHERE bot_id = $1 AND name = $2 AND version = $3")
                .bind(bot.as_str())
                .bind(name)
                .bind(version)
                .fetch_optional(&self.pool)
                .await?;
        let scenario: Option<Scenario> = json
            .map(|json| {
                serde_json::from_str(&json)
                    .map_err(|e| StoreError::Database(sqlx::Error::Decode(format!("scenario_versions.definition_json: {e}").into())))
            })
            .transpose()?;
        // Only found versions: a version saved a moment later must be seen.
        if scenario.is_some() {
            self.cache.scenario_versions.put(key, scenario.clone());
        }
        Ok(scenario)
    }

    /// Current versions of every scenario of `bot`, by name.
    pub async fn list_scenarios(&self, bot: &BotId) -> StoreResult<Vec<ScenarioSummary>> {
        Ok(self
            .current_scenarios(bot)
            .await?
            .into_iter()
            .map(|current| ScenarioSummary {
                name: current.name,
                version: current.version,
                steps: current.definition.map(|s| s.steps.len()).unwrap_or(0),
                author: current.author,
                updated_at: current.updated_at,
            })
            .collect())
    }

    /// The newest version of each scenario of `bot`, by name (a definition
    /// that no longer parses is `None`).
    pub(crate) async fn current_scenarios(&self, bot: &BotId) -> StoreResult<Vec<CurrentScenario>> {
        let rows: Vec<(String, i64, String, String, i64)> = sqlx::query_as(
            "SELECT v.name, v.version, v.definition_json, v.author, v.created_at FROM scenario_versions v \
             WHERE v.bot_id = $1 AND v.version = (SELECT MAX(w.version) FROM scenario_versions w WHERE w.bot_id = v.bot_id AND w.name = v.name) \
             ORDER BY v.name",
        )
        .bind(bot.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(name, version, json, author, updated_at)| CurrentScenario {
                name,
                version,
                definition: serde_json::from_str::<Scenario>(&json).ok(),
                author,
                updated_at,
            })
            .collect())
    }
}

/// A scenario's newest version as the listings read it.
pub(crate) struct CurrentScenario {
    pub name: String,
    pub version: i64,
    pub definition: Option<Scenario>,
    pub author: String,
    pub updated_at: crate::Millis,
}
