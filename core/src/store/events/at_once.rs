//! SQLite: a batch of events accepted in one trip to the connection
//! (`one_trip`).
//!
//! A batch whose events carry no idempotency key (a keyed one needs a
//! savepoint of its own) is written by one text of five statements —
//! `BEGIN IMMEDIATE`, the events, the runs (the inserted ones returned),
//! the traces, `COMMIT` — that the connection's thread runs back to back,
//! rather than a trip for each statement and for each chunk of rows.

use super::{planned_runs, what_events_became, Accepted, NewEvent};
use crate::store::endpoints::json_text;
use crate::store::one_trip::{fields, roll_back};
use crate::store::traces::{json_rows, time_ordered_id, INSERT_JSON_ROWS};
use std::sync::LazyLock;

/// The five statements. Binds, in order: the time, the events, the time
/// twice, the runs, the traces.
static TEXT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "BEGIN IMMEDIATE; \
         INSERT INTO events (id, bot_id, endpoint_id, alias, trace_id, token_id, source_system, params_json, recipients_json, status, created_at) \
         SELECT {}, 'accepted', ? FROM json_each(?); \
         INSERT INTO runs (id, event_id, bot_id, endpoint_id, scenario, lead_id, user_id, trace_id, status, created_at, updated_at, scenario_version, exclusive, lease_until) \
         SELECT {}, 'pending', ?, ?, (SELECT COALESCE(MAX(version), 0) FROM scenario_versions WHERE bot_id = value ->> 2 AND name = value ->> 4), value ->> 8, value ->> 9 \
         FROM json_each(?) WHERE true ON CONFLICT DO NOTHING RETURNING id, scenario_version; \
         {}; \
         COMMIT",
        fields(9),
        fields(8),
        *INSERT_JSON_ROWS
    )
});

/// Inserts and commits `events` (none with an idempotency key; each with
/// its params as stored), their runs and their `api.call` traces at `now`.
/// On failure the transaction is rolled back; the error comes with the
/// runs that would have been handed off (written leased to the executor)
/// and their leases, which a commit that failed unheard may have kept.
pub(in crate::store) async fn accept(conn: &mut sqlx::AnyConnection, events: &[(&NewEvent, &str)], now: crate::Millis) -> Result<Vec<Accepted>, (sqlx::Error, Vec<(String, crate::Millis)>)> {
    let (owners, runs) = planned_runs(events, now);
    let ids: Vec<String> = runs.iter().map(|_| format!("run_{}", time_ordered_id(now))).collect();
    let event_rows: Vec<_> = events
        .iter()
        .map(|(e, params)| {
            (e.id.as_str(), e.bot.as_str(), e.endpoint.id.as_str(), e.endpoint.alias.as_str(), &e.trace.trace_id, e.token.as_str(), &e.trace.source_system, *params, json_text(&e.recipients))
        })
        .collect();
    let run_rows: Vec<_> = runs
        .iter()
        .zip(&ids)
        .map(|(r, id)| (id, r.source_id, r.bot.as_str(), r.endpoint_id, r.scenario, &r.recipient.lead_id, &r.recipient.user_id, r.trace_id, r.exclusive as i64, r.lease_until))
        .collect();
    let written = sqlx::query_as::<_, (String, i64)>(TEXT.as_str())
        .bind(now)
        .bind(json_text(&event_rows))
        .bind(now)
        .bind(now)
        .bind(json_text(&run_rows))
        .bind(json_rows(events.iter().map(|(e, _)| &e.trace), Some(now)))
        .fetch_all(&mut *conn)
        .await;
    match written {
        Ok(rows) => {
            let mut inserted: std::collections::HashMap<String, i64> = rows.into_iter().collect();
            let inserted = ids.into_iter().map(|id| inserted.remove(&id).map(|version| (id, version))).collect();
            Ok(what_events_became(events, &owners, &runs, inserted, now))
        }
        Err(err) => {
            roll_back(conn).await;
            let handed = runs.iter().zip(ids).filter(|(run, _)| run.lease_until > 0).map(|(run, id)| (id, run.lease_until)).collect();
            Err((err, handed))
        }
    }
}
