//! Live figures of endpoints for the studio's map rows and the ComOps
//! loop's trace overlay: calls received (dry runs excluded), how many were
//! refused or failed, and when the last one came. All time is read from
//! the calls tallied per day plus the `api.call` traces not tallied yet
//! (`call_tallies`), so it costs the same however long the history; since
//! a moment, from the tallies of the period's whole days and the traces of
//! the rest, so a period longer than the trace retention keeps its calls
//! (`calls_since`, one statement for both).

use super::call_tallies::{calls_since, Calls};
use super::{Store, StoreResult};
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

/// bot, endpoint, calls, errors, last call.
type FigureRow = (String, String, i64, i64, Option<i64>);

impl Store {
    /// Figures of every endpoint of `bots` called at or after `since`
    /// (epoch milliseconds; 0 for all time), endpoints not called then
    /// left out.
    pub async fn endpoint_figures(&self, bots: &[BotId], since: i64) -> StoreResult<Vec<EndpointFigures>> {
        if bots.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT bot_id, endpoint, CAST(SUM(calls) AS BIGINT), CAST(SUM(CASE WHEN status = 'success' THEN 0 ELSE calls END) AS BIGINT), MAX(last_at) \
             FROM ({}) calls GROUP BY bot_id, endpoint ORDER BY bot_id, endpoint",
            calls_since("api.call", Some(bots.len()))
        );
        let bound = Calls { mark: self.tally_mark().await?, since, bots };
        let rows: Vec<FigureRow> = bound.bind(sqlx::query_as(&sql)).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(bot_id, alias, calls, errors, last_call_at)| EndpointFigures { bot_id, alias, calls, errors, last_call_at })
            .collect())
    }
}
