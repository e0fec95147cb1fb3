//! A batch of events accepted in one trip to the database (`one_trip`).
//!
//! A batch whose events carry no idempotency key (a keyed one needs a
//! savepoint of its own) is written by one text: on SQLite six
//! statements — `BEGIN IMMEDIATE`, the events, the runs (the inserted
//! ones returned), the traces, the `run.skipped` steps, `COMMIT` — that
//! the connection's thread runs back to back; on PostgreSQL one
//! statement, the events, the traces and the steps inserted by `WITH`s
//! beside the runs, committed on its own. Not a trip for each statement
//! and for each chunk of rows.
//!
//! An event whose leads have a run from the endpoint still active (the
//! unique index `runs_one_active` skips theirs) gets a `run.skipped`
//! step, counted in SQL from the run ids it planned that are not in
//! `runs`: in the accept's own commit, durable with it, not a second one
//! the call would wait for or the trace lane would take a turn for (in
//! `call_api`'s bench, where nearly every call skips, those turns held
//! the write lane about a third of the time, docs/benchmarks.md). Each
//! event that plans runs carries their ids for it (a fan-out to 10,000
//! leads ~330 KB more JSON in its accept); an event whose endpoint allows
//! overlapping runs cannot skip and carries none.
//!
//! [`SKIPPED_TEXT`] is written into the SQL as a literal: it holds no
//! quote (tested).

use super::{planned_runs, skipped_step, what_events_became, Accepted, NewEvent};
use crate::store::endpoints::json_text;
use crate::store::one_trip::{fields, pg_fields, pg_rows, roll_back, ROWS};
use crate::store::traces::{json_rows, json_rows_with, pg_insert_json_rows, time_ordered_id, At, COLUMNS, INSERT_JSON_ROWS};
use crate::store::Dialect;
use crate::trace::{detail::SKIPPED_TEXT, TraceEvent};
use std::sync::LazyLock;

const EVENTS: &str = "INSERT INTO events (id, bot_id, endpoint_id, alias, trace_id, token_id, source_system, params_json, recipients_json, status, created_at)";
const RUNS: &str = "INSERT INTO runs (id, event_id, bot_id, endpoint_id, scenario, lead_id, user_id, trace_id, status, created_at, updated_at, scenario_version, exclusive, lease_until)";
/// A run's scenario version: the newest saved (0 before the first).
const VERSION: &str = "(SELECT COALESCE(MAX(version), 0) FROM scenario_versions WHERE bot_id = value ->> 2 AND name = value ->> 4)";

/// The `run.skipped` steps: rows of `json_rows_with` (a trace row, then
/// the run ids its event planned as JSON text) from `batch` (a `FROM`
/// item named `batch` with a column `value`), each written only when
/// `unwritten` (SQL true of a planned id `r` that no run has) holds for
/// any of `planned_ids`, its text that count and [`SKIPPED_TEXT`].
/// `first` reads a row's first 12 fields, `at` its 14th (the time).
fn skipped_steps(batch: &str, planned_ids: &str, unwritten: &str, first: String, at: &str) -> String {
    format!(
        "INSERT INTO trace_events ({COLUMNS}) SELECT {first}, CAST(skipped AS TEXT) || '{SKIPPED_TEXT}', {at} \
         FROM (SELECT value, (SELECT COUNT(*) FROM {planned_ids} WHERE {unwritten}) AS skipped FROM {batch}) AS planned WHERE skipped > 0"
    )
}

/// SQLite: the six statements. Binds, in order: the time, the events,
/// the time twice, the runs, the traces, the planned steps.
static TEXT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "BEGIN IMMEDIATE; \
         {EVENTS} SELECT {}, 'accepted', ? FROM {ROWS}; \
         {RUNS} SELECT {}, 'pending', ?, ?, {VERSION}, value ->> 8, value ->> 9 \
         FROM {ROWS} WHERE true ON CONFLICT DO NOTHING RETURNING id, scenario_version; \
         {}; \
         {}; \
         COMMIT",
        fields(9),
        fields(8),
        *INSERT_JSON_ROWS,
        skipped_steps(&format!("{ROWS} AS batch"), "json_each(batch.value ->> 14) AS r", "NOT EXISTS (SELECT 1 FROM runs WHERE runs.id = r.value)", fields(12), "value ->> 13")
    )
});

/// PostgreSQL: the one statement. Binds: $1 the time, $2 the events, $3
/// the runs, $4 the traces, $5 the planned steps (which see the runs
/// this statement inserted through `new_runs`, not through `runs`).
static PG_TEXT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH new_events AS ({EVENTS} SELECT {}, 'accepted', $1 FROM {}), \
         new_traces AS ({}), \
         new_runs AS ({RUNS} SELECT {}, 'pending', $1, $1, {VERSION}, (value ->> 8)::bigint, (value ->> 9)::bigint \
         FROM {} ON CONFLICT DO NOTHING RETURNING id, scenario_version), \
         skipped_steps AS ({}) \
         SELECT id, scenario_version FROM new_runs",
        pg_fields(9, &[]),
        pg_rows(2),
        pg_insert_json_rows(4),
        pg_fields(8, &[]),
        pg_rows(3),
        skipped_steps(
            &format!("{} AS batch(value)", pg_rows(5)),
            "jsonb_array_elements_text((batch.value ->> 14)::jsonb) AS r(id)",
            "r.id NOT IN (SELECT id FROM new_runs)",
            pg_fields(12, &[9, 10, 11]),
            "(value ->> 13)::bigint"
        )
    )
});

/// The `run.skipped` step of each event whose runs may be skipped (its
/// endpoint allows no overlap: only `runs_one_active` skips a run), but
/// for the count, with the ids of the runs it planned.
fn planned_steps(events: &[(&NewEvent, &str)], owners: &[usize], ids: &[String]) -> Vec<(String, TraceEvent)> {
    let mut steps: Vec<(Vec<&str>, TraceEvent)> = Vec::new();
    let mut last = None;
    for (owner, id) in owners.iter().copied().zip(ids) {
        let event = events[owner].0;
        if event.endpoint.allow_overlap {
            continue;
        }
        if last != Some(owner) {
            last = Some(owner);
            steps.push((Vec::new(), skipped_step(&event.trace, String::new())));
        }
        if let Some((planned, _)) = steps.last_mut() {
            planned.push(id);
        }
    }
    steps.into_iter().map(|(planned, trace)| (json_text(&planned), trace)).collect()
}

/// Inserts and commits `events` (none with an idempotency key; each with
/// its params as stored), their runs, their `api.call` traces at `now`
/// and the `run.skipped` steps of those that skipped leads.
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
    // After the calls' traces, so their ids sort after them.
    let steps = planned_steps(events, &owners, &ids);
    let step_rows = json_rows_with(steps.iter().map(|(planned, trace)| (planned.as_str(), trace)), At::Turn(now));
    let written = match dialect {
        Dialect::Sqlite => {
            sqlx::query_as::<_, (String, i64)>(TEXT.as_str())
                .bind(now)
                .bind(event_rows)
                .bind(now)
                .bind(now)
                .bind(run_rows)
                .bind(trace_rows)
                .bind(step_rows)
                .fetch_all(&mut *conn)
                .await
        }
        Dialect::Postgres => {
            sqlx::query_as::<_, (String, i64)>(PG_TEXT.as_str()).bind(now).bind(event_rows).bind(run_rows).bind(trace_rows).bind(step_rows).fetch_all(&mut *conn).await
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_skipped_text_is_a_plain_sql_literal() {
        assert!(!SKIPPED_TEXT.contains(['\'', '?', '$', '\\']), "{SKIPPED_TEXT}");
        assert_eq!(TEXT.matches('?').count(), 7, "seven binds, as `accept` binds them");
        assert!(PG_TEXT.contains("$5") && !PG_TEXT.contains("$6"));
    }
}
