//! A batch of events accepted in one trip to the database (`one_trip`).
//!
//! A batch whose events carry no idempotency key (a keyed one needs a
//! savepoint of its own) is written by one text: on SQLite five
//! statements — `BEGIN IMMEDIATE`, the events, the runs (the inserted
//! ones returned), the traces, `COMMIT` — that the connection's thread
//! runs back to back; on PostgreSQL one statement, the events and the
//! traces inserted by `WITH`s beside the runs, committed on its own. Not
//! a trip for each statement and for each chunk of rows.

use super::{planned_runs, what_events_became, Accepted, NewEvent};
use crate::store::endpoints::json_text;
use crate::store::one_trip::{fields, pg_fields, pg_rows, roll_back, ROWS};
use crate::store::traces::{json_rows, pg_insert_json_rows, time_ordered_id, At, INSERT_JSON_ROWS};
use crate::store::Dialect;
use std::sync::LazyLock;

const EVENTS: &str = "INSERT INTO events (id, bot_id, endpoint_id, alias, trace_id, token_id, source_system, params_json, recipients_json, status, created_at)";
const RUNS: &str = "INSERT INTO runs (id, event_id, bot_id, endpoint_id, scenario, lead_id, user_id, trace_id, status, created_at, updated_at, scenario_version, exclusive, lease_until)";
/// A run's scenario version: the newest saved (0 before the first).
const VERSION: &str = "(SELECT COALESCE(MAX(version), 0) FROM scenario_versions WHERE bot_id = value ->> 2 AND name = value ->> 4)";

/// SQLite: the five statements. Binds, in order: the time, the events,
/// the time twice, the runs, the traces.
static TEXT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "BEGIN IMMEDIATE; \
         {EVENTS} SELECT {}, 'accepted', ? FROM {ROWS}; \
         {RUNS} SELECT {}, 'pending', ?, ?, {VERSION}, value ->> 8, value ->> 9 \
         FROM {ROWS} WHERE true ON CONFLICT DO NOTHING RETURNING id, scenario_version; \
         {}; \
         COMMIT",
        fields(9),
        fields(8),
        *INSERT_JSON_ROWS
    )
});

/// PostgreSQL: the one statement. Binds: $1 the time, $2 the events, $3
/// the runs, $4 the traces.
static PG_TEXT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH new_events AS ({EVENTS} SELECT {}, 'accepted', $1 FROM {}), \
         new_traces AS ({}) \
         {RUNS} SELECT {}, 'pending', $1, $1, {VERSION}, (value ->> 8)::bigint, (value ->> 9)::bigint \
         FROM {} ON CONFLICT DO NOTHING RETURNING id, scenario_version",
        pg_fields(9, &[]),
        pg_rows(2),
        pg_insert_json_rows(4),
        pg_fields(8, &[]),
        pg_rows(3)
    )
});

/// Inserts and commits `events` (none with an idempotency key; each with
/// its params as stored), their runs and their `api.call` traces at `now`.
/// On failure nothing of it stays; the error comes with the
/// runs that would have been handed off (written leased to the executor)
/// and their leases, which a commit that failed unheard may have kept.
pub(in crate::store) async fn accept(conn: &mut sqlx::AnyConnection, dialect: Dialect, events: &[(&NewEvent, &str)], now: crate::Millis) -> Result<Vec<Accepted>, (sqlx::Error, Vec<(String, crate::Millis)>)> {
    let (owners, runs) = planned_runs(events, now);
    let ids: Vec<String> = runs.iter().map(|_| time_ordered_id("run_", now)).collect();
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
    let (event_rows, run_rows, trace_rows) = (json_text(&event_rows), json_text(&run_rows), json_rows(events.iter().map(|(e, _)| &e.trace), At::Turn(now)));
    let written = match dialect {
        Dialect::Sqlite => {
            sqlx::query_as::<_, (String, i64)>(TEXT.as_str()).bind(now).bind(event_rows).bind(now).bind(now).bind(run_rows).bind(trace_rows).fetch_all(&mut *conn).await
        }
        Dialect::Postgres => sqlx::query_as::<_, (String, i64)>(PG_TEXT.as_str()).bind(now).bind(event_rows).bind(run_rows).bind(trace_rows).fetch_all(&mut *conn).await,
    };
    match written {
        Ok(rows) => {
            let mut inserted: std::collections::HashMap<String, i64> = rows.into_iter().collect();
            let inserted = ids.into_iter().map(|id| inserted.remove(&id).map(|version| (id, version))).collect();
            Ok(what_events_became(events, &owners, &runs, inserted, now))
        }
        Err(err) => {
            // PostgreSQL's one statement rolled itself back.
            if dialect == Dialect::Sqlite {
                roll_back(conn).await;
            }
            let handed = runs.iter().zip(ids).filter(|(run, _)| run.lease_until > 0).map(|(run, id)| (id, run.lease_until)).collect();
            Err((err, handed))
        }
    }
}
