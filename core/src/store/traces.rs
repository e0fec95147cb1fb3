//! The trace log: append events, list them with filters.

use super::conditions::Conditions;
use super::group_commit::GroupCommit;
use super::{flag, now_millis, Store, StoreResult, WriteTurn};
use std::future::Future;
use std::pin::Pin;
use crate::trace::{TraceEvent, TraceFilter};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::sync::LazyLock;

/// A time-ordered id after `prefix` (`"run_"`, `"msg_"`, … or none):
/// 13 hex digits of milliseconds, a process-wide sequence (so rows made
/// in the same millisecond keep their order), then random characters (so
/// processes never collide). Written into one string of its final size:
/// ids are made for every accepted call, run and message.
pub(crate) fn time_ordered_id(prefix: &str, now: crate::Millis) -> String {
    use std::fmt::Write;
    use std::sync::atomic::{AtomicU32, Ordering};
    /// 13 hex digits of time, 6 of sequence, 10 random characters.
    const LEN: usize = 29;
    static SEQUENCE: AtomicU32 = AtomicU32::new(0);
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed) & 0xff_ffff;
    let mut id = String::with_capacity(prefix.len() + LEN);
    id.push_str(prefix);
    // Writing to a String cannot fail.
    let _ = write!(id, "{:013x}{sequence:06x}", now.max(0));
    crate::id::push_random_suffix(&mut id);
    id
}

fn trace_event(row: &AnyRow) -> Result<TraceEvent, sqlx::Error> {
    Ok(TraceEvent {
        id: row.try_get("id")?,
        trace_id: row.try_get("trace_id")?,
        source_system: row.try_get("source_system")?,
        bot_id: row.try_get("bot_id")?,
        endpoint: row.try_get("endpoint")?,
        user_id: row.try_get("user_id")?,
        lead_id: row.try_get("lead_id")?,
        step: row.try_get("step")?,
        status: row.try_get("status")?,
        http_status: row.try_get("http_status")?,
        latency_ms: row.try_get("latency_ms")?,
        dry_run: flag(row, "dry_run")?,
        detail: row.try_get("detail")?,
        at: row.try_get("at")?,
    })
}

/// The columns of a trace row, in the order [`bind_fields`] binds them.
pub(crate) const COLUMNS: &str = "id, trace_id, source_system, bot_id, endpoint, user_id, lead_id, step, status, http_status, latency_ms, dry_run, detail, at";

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds one trace row's 14 values ([`COLUMNS`]) to `query`.
fn bind_fields<'q>(query: AnyQuery<'q>, event: &'q TraceEvent, id: String) -> AnyQuery<'q> {
    query
        .bind(id)
        .bind(&event.trace_id)
        .bind(&event.source_system)
        .bind(&event.bot_id)
        .bind(&event.endpoint)
        .bind(&event.user_id)
        .bind(&event.lead_id)
        .bind(&event.step)
        .bind(&event.status)
        .bind(event.http_status)
        .bind(event.latency_ms)
        .bind(event.dry_run as i64)
        .bind(&event.detail)
        .bind(event.at)
}

/// SQLite: inserts the trace rows of one JSON array made by
/// [`json_rows`] (one bind; `one_trip`).
pub(crate) static INSERT_JSON_ROWS: LazyLock<String> =
    LazyLock::new(|| format!("INSERT INTO trace_events ({COLUMNS}) SELECT {} FROM {}", super::one_trip::fields(14), super::one_trip::ROWS));

/// PostgreSQL: [`INSERT_JSON_ROWS`] with its rows in bind `$bind`
/// (`one_trip::pg_rows`), for a statement of its own or a `WITH`.
pub(crate) fn pg_insert_json_rows(bind: usize) -> String {
    format!("INSERT INTO trace_events ({COLUMNS}) SELECT {} FROM {}", super::one_trip::pg_fields(14, &[9, 10, 11, 13]), super::one_trip::pg_rows(bind))
}

/// SQLite: a turn that only inserts traces.
static TRACES_TURN: LazyLock<String> = LazyLock::new(|| format!("BEGIN IMMEDIATE; {}; COMMIT", *INSERT_JSON_ROWS));

/// PostgreSQL: the same turn, one statement.
static PG_TRACES_TURN: LazyLock<String> = LazyLock::new(|| pg_insert_json_rows(1));

/// One trace as a row of [`INSERT_JSON_ROWS`] — a JSON array of
/// [`COLUMNS`]: a new id, the trace's fields, `at` — with the run it is
/// of as one field more when there is one.
struct JsonRow<'a> {
    id: String,
    trace: &'a TraceEvent,
    at: crate::Millis,
    run: Option<&'a str>,
}

impl<'a> JsonRow<'a> {
    fn new(trace: &'a TraceEvent, at: crate::Millis, run: Option<&'a str>) -> Self {
        JsonRow { id: time_ordered_id("", at), trace, at, run }
    }
}

impl serde::Serialize for JsonRow<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let t = self.trace;
        let mut row = serializer.serialize_tuple(14 + usize::from(self.run.is_some()))?;
        row.serialize_element(&self.id)?;
        for text in [&t.trace_id, &t.source_system, &t.bot_id, &t.endpoint, &t.user_id, &t.lead_id, &t.step, &t.status] {
            row.serialize_element(text)?;
        }
        row.serialize_element(&t.http_status)?;
        row.serialize_element(&t.latency_ms)?;
        row.serialize_element(&(t.dry_run as i64))?;
        row.serialize_element(&t.detail)?;
        row.serialize_element(&self.at)?;
        if let Some(run) = self.run {
            row.serialize_element(run)?;
        }
        row.end()
    }
}

/// The time a row of [`json_rows`] records.
#[derive(Clone, Copy, Debug)]
pub(crate) enum At {
    /// The turn's: every row at this time.
    Turn(crate::Millis),
    /// The trace's own, or this one where it is unset (0).
    OwnOr(crate::Millis),
}

impl At {
    /// The time `trace`'s row records.
    pub(crate) fn of(self, trace: &TraceEvent) -> crate::Millis {
        match self {
            At::Turn(at) => at,
            At::OwnOr(at) if trace.at == 0 => at,
            At::OwnOr(_) => trace.at,
        }
    }
}

/// The rows of [`INSERT_JSON_ROWS`]: one JSON array of trace rows
/// ([`JsonRow`]), ids made in order.
pub(crate) fn json_rows<'a>(events: impl Iterator<Item = &'a TraceEvent>, at: At) -> String {
    let rows: Vec<_> = events.map(|t| JsonRow::new(t, at.of(t), None)).collect();
    super::endpoints::json_text(&rows)
}

/// Rows as [`json_rows`] with one field more that the statement reads to
/// choose which to write: the run each trace is of (PostgreSQL's turn
/// that writes only the traces of the runs it saves), or the runs an
/// event planned (`events::at_once`: its `run.skipped` step, written only
/// when some were not inserted).
pub(crate) fn json_rows_with<'a>(events: impl Iterator<Item = (&'a str, &'a TraceEvent)>, at: At) -> String {
    let rows: Vec<_> = events.map(|(run, t)| JsonRow::new(t, at.of(t), Some(run))).collect();
    super::endpoints::json_text(&rows)
}

/// Commits a batch of [`Store::record_trace`]'s events in one trip
/// (`one_trip`).
fn commit_traces<'a>(turn: &'a mut WriteTurn<'_>, events: &'a [TraceEvent]) -> Pin<Box<dyn Future<Output = StoreResult<()>> + Send + 'a>> {
    Box::pin(async move {
        let dialect = super::Dialect::of(turn.connection().await?);
        let text = match dialect {
            super::Dialect::Sqlite => TRACES_TURN.as_str(),
            super::Dialect::Postgres => PG_TRACES_TURN.as_str(),
        };
        turn.trip_begins();
        let written = super::one_trip::run(turn.connection().await?, dialect, sqlx::query(text).bind(json_rows(events.iter(), At::OwnOr(now_millis())))).await;
        turn.trip_ended(written.as_ref().err());
        Ok(written?)
    })
}

/// Appends trace events inside a transaction, many rows per statement:
/// the engine's batched saves write a few hundred at a time, and one
/// statement per row was most of their time under the write lock (at most
/// 32 rows of 14 binds per statement, see [`super::row_chunks`]). Ids are
/// made in slice order, so events keep their order; each event's `at` must
/// be set.
pub(crate) async fn insert_traces(conn: &mut sqlx::AnyConnection, events: &[&TraceEvent]) -> Result<(), sqlx::Error> {
    for chunk in super::row_chunks(events) {
        let sql = super::statement_texts::multi_row(conn, "insert_traces", chunk.len(), || {
            format!("INSERT INTO trace_events ({COLUMNS}) VALUES {}", super::row_placeholders(14, chunk.len()))
        });
        let mut query = sqlx::query(&sql);
        for event in chunk {
            query = bind_fields(query, event, time_ordered_id("", event.at));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

impl Store {
    /// Appends one trace event; `id` and (if 0) `at` are filled in.
    ///
    /// Group-committed in the write lane with the traces recorded beside
    /// it (dry runs and refused calls, one each): written on a connection
    /// of its own, each waited for SQLite's write lock behind the lane's
    /// writer, sleeping in the busy handler.
    pub async fn record_trace(&self, event: &TraceEvent) -> StoreResult<()> {
        let mut event = event.clone();
        if event.at == 0 {
            event.at = now_millis();
        }
        let saves = self.trace_saves.get_or_init(|| GroupCommit::start(self.lane.clone(), super::Work::Traces, commit_traces));
        saves.submit(event).await
    }

    /// Newest first, filtered; at most `limit` (default 100, max 1000).
    pub async fn list_traces(&self, filter: &TraceFilter) -> StoreResult<Vec<TraceEvent>> {
        let mut conditions = Conditions::default();
        for (column, value) in [("trace_id", &filter.trace_id), ("bot_id", &filter.bot_id), ("endpoint", &filter.endpoint), ("status", &filter.status)] {
            if !value.is_empty() {
                conditions.add(&format!("{column} = ?"), [value.as_str().into()]);
            }
        }
        if !filter.user.is_empty() {
            conditions.add("(user_id = ? OR lead_id = ?)", [filter.user.as_str().into(), filter.user.as_str().into()]);
        }
        if let Some(before) = &filter.before_id {
            conditions.add("id < ?", [before.as_str().into()]);
        }
        if let Some(since) = filter.since {
            conditions.add("at >= ?", [since.into()]);
        }
        if let Some(until) = filter.until {
            conditions.add("at < ?", [until.into()]);
        }
        let limit = filter.limit.unwrap_or(100).clamp(1, 1000);
        let sql = format!("SELECT * FROM trace_events{} ORDER BY id DESC LIMIT {limit}", conditions.sql());
        let query = conditions.bind(sqlx::query(&sql));
        let rows = query.fetch_all(&self.pool).await?;
        Ok(rows.iter().map(trace_event).collect::<Result<_, _>>()?)
    }
}
