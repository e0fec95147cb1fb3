//! Live figures of endpoints for the studio's map rows: calls received
//! (dry runs excluded), how many were refused or failed, and when the last
//! one came — read from the `api.call` traces of the project's bots.

use super::{placeholders, Store, StoreResult};
use crate::BotId;
use serde::{Deserialize, Serialize};

/// One endpoint's traffic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointFigures {
    pub bot_id: String,
    pub alias: String,
    pub calls: i64,
    /// Calls answered with an error (refused or failed).
    pub errors: i64,
    pub last_call_at: Option<i64>,
}

impl Store {
    /// Figures of every endpoint of `bots` that was ever called.
    pub async fn endpoint_figures(&self, bots: &[BotId]) -> StoreResult<Vec<EndpointFigures>> {
        if bots.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT bot_id, endpoint, COUNT(*), SUM(CASE WHEN status = 'success' THEN 0 ELSE 1 END), MAX(at) FROM trace_events \
             WHERE step = 'api.call' AND dry_run = 0 AND bot_id IN ({}) GROUP BY bot_id, endpoint ORDER BY bot_id, endpoint",
            placeholders(1, bots.len())
        );
        let mut query = sqlx::query_as::<_, (String, String, i64, i64, Option<i64>)>(&sql);
        for bot in bots {
            query = query.bind(bot.as_str());
        }
        let rows = query.fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(bot_id, alias, calls, errors, last_call_at)| EndpointFigures { bot_id, alias, calls, errors, last_call_at })
            .collect())
    }
}
