//! Live figures of endpoints for the studio's map rows and the ComOps
//! loop's trace overlay: calls received (dry runs excluded), how many were
//! refused or failed, and when the last one came — read from the
//! `api.call` traces of the project's bots, all of them or those since a
//! moment (index `trace_events_bot_endpoint`: bot, endpoint, time).

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
    /// Figures of every endpoint of `bots` called at or after `since`
    /// (epoch milliseconds; 0 for all time), endpoints not called then
    /// left out.
    pub async fn endpoint_figures(&self, bots: &[BotId], since: i64) -> StoreResult<Vec<EndpointFigures>> {
        if bots.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT bot_id, endpoint, COUNT(*), SUM(CASE WHEN status = 'success' THEN 0 ELSE 1 END), MAX(at) FROM trace_events \
             WHERE step = 'api.call' AND dry_run = 0 AND at >= $1 AND bot_id IN ({}) GROUP BY bot_id, endpoint ORDER BY bot_id, endpoint",
            placeholders(2, bots.len())
        );
        let mut query = sqlx::query_as::<_, (String, String, i64, i64, Option<i64>)>(&sql).bind(since);
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
