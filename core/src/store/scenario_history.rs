//! What the studio needs beyond `scenarios.rs`: the scenario list with
//! descriptions, the version history of one scenario, what still uses a
//! scenario, and deleting it.
//!
//! Deleting removes every version. The caller refuses first when an
//! endpoint binds the scenario; [`Store::scenario_in_use`] reports the runs
//! and scheduled jobs that would otherwise lose their definition mid-way.

use super::{Store, StoreResult};
use crate::history::{self, HistoryPage, HistoryWindow};
use crate::BotId;
use serde::{Deserialize, Serialize};

/// A row of the studio's scenario list (current version only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioListing {
    pub name: String,
    pub description: String,
    pub version: i64,
    pub steps: usize,
    pub author: String,
    pub updated_at: crate::Millis,
}

/// One entry of a scenario's history (without its definition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioVersionInfo {
    pub version: i64,
    pub note: String,
    pub author: String,
    pub created_at: crate::Millis,
    pub steps: usize,
}

/// Work in flight that names a scenario: runs not finished yet (pending or
/// waiting) and scheduled jobs still due.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioUse {
    pub active_runs: i64,
    pub scheduled_jobs: i64,
}

impl Store {
    /// Current versions of every scenario of `bot`, with descriptions, by name.
    pub async fn scenario_listing(&self, bot: &BotId) -> StoreResult<Vec<ScenarioListing>> {
        Ok(self
            .current_scenarios(bot)
            .await?
            .into_iter()
            .map(|current| {
                let (description, steps) = current.definition.map(|s| (s.description, s.steps.len())).unwrap_or_default();
                ScenarioListing { name: current.name, description, version: current.version, steps, author: current.author, updated_at: current.updated_at }
            })
            .collect())
    }

    /// A page of scenario `name`'s versions, newest first. Each version's
    /// step count is read by the database from its definition, so a long
    /// history is not decoded version by version.
    pub async fn scenario_history(&self, bot: &BotId, name: &str, window: HistoryWindow) -> StoreResult<HistoryPage<ScenarioVersionInfo>> {
        let read = self.scenario_versions_below(bot, name, window.bound(), history::PAGE as i64 + 1).await?;
        Ok(HistoryPage::from_read(read))
    }

    /// Version `version` of scenario `name` as its history lists it.
    pub async fn scenario_version_info(&self, bot: &BotId, name: &str, version: i64) -> StoreResult<Option<ScenarioVersionInfo>> {
        let read = self.scenario_versions_below(bot, name, version.saturating_add(1), 1).await?;
        Ok(read.into_iter().find(|v| v.version == version))
    }

    /// At most `limit` versions of scenario `name` numbered below `below`,
    /// newest first.
    async fn scenario_versions_below(&self, bot: &BotId, name: &str, below: i64, limit: i64) -> StoreResult<Vec<ScenarioVersionInfo>> {
        let rows: Vec<(i64, String, String, i64, i64)> = sqlx::query_as(&format!(
            "SELECT version, note, author, created_at, CAST(COALESCE({}, 0) AS BIGINT) FROM scenario_versions \
             WHERE bot_id = $1 AND name = $2 AND version < $3 ORDER BY version DESC LIMIT $4",
            self.dialect.json_array_length("definition_json", "steps")
        ))
        .bind(bot.as_str())
        .bind(name)
        .bind(below)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(version, note, author, created_at, steps)| ScenarioVersionInfo {
                version,
                note,
                author,
                created_at,
                steps: usize::try_from(steps).unwrap_or(0),
            })
            .collect())
    }

    /// Runs and scheduled jobs of `bot` that still need scenario `name`.
    pub async fn scenario_in_use(&self, bot: &BotId, name: &str) -> StoreResult<ScenarioUse> {
        let active_runs: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE bot_id = $1 AND scenario = $2 AND status IN ('pending', 'waiting')")
                .bind(bot.as_str())
                .bind(name)
                .fetch_one(&self.pool)
                .await?;
        let scheduled_jobs: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM scheduled_jobs WHERE bot_id = $1 AND scenario = $2 AND status IN ('scheduled', 'running')",
        )
        .bind(bot.as_str())
        .bind(name)
        .fetch_one(&self.pool)
        .await?;
        Ok(ScenarioUse { active_runs, scheduled_jobs })
    }

    /// Deletes every version of scenario `name`; returns how many there were.
    pub async fn delete_scenario(&self, bot: &BotId, name: &str) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM scenario_versions WHERE bot_id = $1 AND name = $2")
            .bind(bot.as_str())
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
