//! Calls counted per day (`call_tallies`), and the trace log's retention.
//!
//! All-time figures — a map row's calls, errors and last call, `/metrics`'
//! outbound calls — used to count every `api.call` or `callback.http`
//! trace ever written, so they slowed down with the history and would
//! have shrunk had traces ever been removed. [`Store::roll_up_calls`] adds
//! the traces older than [`TALLY_LAG_MS`] to a row per bot, endpoint,
//! step, status and day, and moves the mark `call_tally_mark.rolled_to`
//! in the same commit; a reader takes the tallies plus the traces since
//! the mark, in one statement ([`calls_since`]). Only traces already
//! tallied are purged ([`Store::purge_traces`]), and what the analytics
//! read from them is kept in the same commit (`kept_replies`,
//! `kept_http_calls`, `kept_step_days`), so a period past the retention
//! still has its replies, outbound calls and steps.
//!
//! Every trace is stamped with the time it is written (a recorded trace
//! when it is handed to its group commit, which waits for the write lane:
//! seconds at worst, under overload), so the lag leaves each one time to
//! commit before its stretch is tallied; a trace committed later than that
//! would not be. Each is counted once, by one process: a pass moves the
//! mark only from the value it read.

use super::{placeholders, Store, StoreResult, Work};
use crate::BotId;

/// How old a trace must be before it is tallied (see the module doc).
pub const TALLY_LAG_MS: i64 = 5 * 60_000;

/// Traces one pass reads at most (one write turn): a first pass over a
/// long history, or a minute of a busy instance, is cut into turns short
/// enough not to hold up the engine's writes.
pub const PASS_TRACES: i64 = 20_000;

/// Traces [`Store::purge_traces`] removes per write turn: this many and
/// the rest of the last one's millisecond, or what is left.
const PURGE_CHUNK: i64 = 5_000;

const DAY_MS: i64 = 86_400_000;

/// The steps tallied: calls in from business systems, calls out to them.
pub const TALLIED_STEPS: [&str; 2] = ["api.call", "callback.http"];

/// A trace's bot, written so that no index on it is used: with an
/// equality on `bot_id` SQLite's planner (without statistics) reads the
/// bots' entries of `trace_events_bot_endpoint` over the whole history
/// rather than the time range of `trace_events_at`, which a reader's
/// `at >=` bounds to the traces it needs (all time: 1.1 s against 7 ms at
/// a million traces). Filtering those few rows by bot costs nothing.
pub(crate) const BOT_OF_TRACE: &str = "bot_id || ''";

/// `SELECT bot_id, endpoint, status, calls, last_at` of `step` (one of
/// [`TALLIED_STEPS`], written in, not bound) since a moment (0: all time),
/// as one statement, so a pass committing meanwhile is seen wholly or not
/// at all: the tallies of the whole days from the moment on, the tallied
/// traces between the moment and the first of those days, and the traces
/// not tallied yet. So a period longer than the trace retention keeps its
/// calls, but for the part of its first day before midnight that was
/// purged (a day's tally holds that day whole, so that part is counted
/// from the traces). With `bots`, only those bots. Bind with
/// [`Calls::bind`]. Group and order it by wrapping it: `SELECT … FROM
/// ({this}) calls …`.
pub(crate) fn calls_since(step: &str, bots: Option<usize>) -> String {
    debug_assert!(TALLIED_STEPS.contains(&step));
    let count = bots.unwrap_or(0);
    let only = |column: &str, first: usize| bots.map_or(String::new(), |_| format!(" AND {column} IN ({})", placeholders(first, count)));
    let (tallied, first_day, live) = (only("bot_id", 5), only(BOT_OF_TRACE, 5 + count), only(BOT_OF_TRACE, 5 + 2 * count));
    // `$1`, the later of the moment and the mark read just before, is
    // never above the mark the statement reads (it only moves on), so it
    // changes no result; it lets the planner see how short the range of
    // `trace_events_at` is (PostgreSQL takes `at >= (subquery)` for a
    // third of the table and reads all of it).
    format!(
        "SELECT bot_id, endpoint, status, calls, last_at FROM call_tallies WHERE step = '{step}' AND day >= $4{tallied} \
         UNION ALL \
         SELECT bot_id, endpoint, status, 1, at FROM trace_events \
         WHERE step = '{step}' AND dry_run = 0 AND at >= $2 AND at < $3 AND at < (SELECT rolled_to FROM call_tally_mark WHERE id = 1){first_day} \
         UNION ALL \
         SELECT bot_id, endpoint, status, 1, at FROM trace_events \
         WHERE step = '{step}' AND dry_run = 0 AND at >= $1 AND at >= (SELECT rolled_to FROM call_tally_mark WHERE id = 1){live}"
    )
}

/// What a [`calls_since`] statement is bound with.
pub(crate) struct Calls<'a> {
    /// The mark read before the statement ([`Store::tally_mark`]).
    pub mark: i64,
    /// The period's start, epoch ms; 0 for all time.
    pub since: i64,
    /// The statement's bots (none when it was made for every bot).
    pub bots: &'a [BotId],
}

impl<'a> Calls<'a> {
    /// Binds the moments, the first whole day, then the bots for each part.
    pub(crate) fn bind<O>(
        &self,
        query: sqlx::query::QueryAs<'a, sqlx::Any, O, sqlx::any::AnyArguments<'a>>,
    ) -> sqlx::query::QueryAs<'a, sqlx::Any, O, sqlx::any::AnyArguments<'a>> {
        let since = self.since.max(0);
        let day = since.div_euclid(DAY_MS) + i64::from(since.rem_euclid(DAY_MS) > 0);
        let mut query = query.bind(since.max(self.mark)).bind(since).bind(day * DAY_MS).bind(day);
        for bot in self.bots.iter().chain(self.bots).chain(self.bots) {
            query = query.bind(bot.as_str());
        }
        query
    }
}

impl Store {
    /// Tallies the calls traced up to `now` − [`TALLY_LAG_MS`], at most
    /// `pass_traces` traces of the log (any step; [`PASS_TRACES`] in the
    /// server); true when nothing is left to tally (call again while
    /// false). A process that finds the mark moved under it by another
    /// tallies nothing.
    pub async fn roll_up_calls(&self, now: i64, pass_traces: i64) -> StoreResult<bool> {
        let target = now - TALLY_LAG_MS;
        let mut turn = self.write_turn(Work::Other).await;
        let mut tx = turn.begin().await?;
        let mark: i64 = sqlx::query_scalar("SELECT rolled_to FROM call_tally_mark WHERE id = 1").fetch_one(&mut *tx).await?;
        if mark >= target {
            return Ok(true);
        }
        // The time of the trace one past the pass's share (index
        // `trace_events_at`): the pass ends there, or at the target.
        // Stretches without traces cost nothing.
        let beyond: Option<i64> = sqlx::query_scalar("SELECT at FROM trace_events WHERE at >= $1 ORDER BY at LIMIT 1 OFFSET $2")
            .bind(mark)
            .bind(pass_traces.max(1))
            .fetch_optional(&mut *tx)
            .await?;
        // Never short of one millisecond past the mark, so a pass always
        // moves it even when more traces than its share have one time.
        let to = beyond.map_or(target, |at| target.min(at.max(mark + 1)));
        let moved = sqlx::query("UPDATE call_tally_mark SET rolled_to = $1 WHERE id = 1 AND rolled_to = $2")
            .bind(to)
            .bind(mark)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if moved == 0 {
            return Ok(true);
        }
        let steps = TALLIED_STEPS.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
        // SQLite needs the WHERE for the upsert to parse after a SELECT.
        let roll = format!(
            "INSERT INTO call_tallies (bot_id, endpoint, step, status, day, calls, last_at) \
             SELECT bot_id, endpoint, step, status, at / {DAY_MS}, COUNT(*), MAX(at) FROM trace_events \
             WHERE step IN ({steps}) AND dry_run = 0 AND at >= $1 AND at < $2 \
             GROUP BY bot_id, endpoint, step, status, at / {DAY_MS} \
             ON CONFLICT (bot_id, endpoint, step, status, day) DO UPDATE SET calls = call_tallies.calls + excluded.calls, \
             last_at = CASE WHEN excluded.last_at > call_tallies.last_at THEN excluded.last_at ELSE call_tallies.last_at END"
        );
        sqlx::query(&roll).bind(mark).bind(to).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(to == target)
    }

    /// Removes the traces older than `before` (epoch ms) that are tallied
    /// already, oldest first, about [`PURGE_CHUNK`] per write turn; what
    /// the analytics read from them is kept in the same commit (see the
    /// module doc). Returns how many were removed.
    pub async fn purge_traces(&self, before: i64) -> StoreResult<u64> {
        // The mark only moves on, so what is tallied now stays tallied.
        let cutoff = before.min(self.tally_mark().await?);
        // What the analytics read, kept from the traces before `$1`.
        // SQLite needs the WHERE for the upsert to parse after a SELECT.
        let keep = [
            "INSERT INTO kept_replies (bot_id, lead_id, at) SELECT bot_id, lead_id, at FROM trace_events \
             WHERE step = 'user.reply' AND dry_run = 0 AND at < $1"
                .to_string(),
            "INSERT INTO kept_http_calls (bot_id, trace_id, status, at) SELECT bot_id, trace_id, status, at FROM trace_events \
             WHERE step = 'callback.http' AND dry_run = 0 AND at < $1"
                .to_string(),
            format!(
                "INSERT INTO kept_step_days (bot_id, endpoint, day, steps) \
                 SELECT bot_id, endpoint, at / {DAY_MS}, COUNT(*) FROM trace_events \
                 WHERE step LIKE 'scenario.%' AND dry_run = 0 AND at < $1 GROUP BY bot_id, endpoint, at / {DAY_MS} \
                 ON CONFLICT (bot_id, endpoint, day) DO UPDATE SET steps = kept_step_days.steps + excluded.steps"
            ),
        ];
        let mut purged = 0;
        loop {
            let mut turn = self.write_turn(Work::Other).await;
            let mut tx = turn.begin().await?;
            // First a write to the mark's row: on PostgreSQL a second
            // process purging waits here for this commit, then finds these
            // traces gone and keeps nothing twice.
            sqlx::query("UPDATE call_tally_mark SET purged_before = purged_before WHERE id = 1").execute(&mut *tx).await?;
            // This turn's stretch: up to the trace one past the chunk (its
            // whole millisecond), or the cutoff.
            let beyond: Option<i64> = sqlx::query_scalar("SELECT at FROM trace_events WHERE at < $1 ORDER BY at LIMIT 1 OFFSET $2")
                .bind(cutoff)
                .bind(PURGE_CHUNK)
                .fetch_optional(&mut *tx)
                .await?;
            let upto = beyond.map_or(cutoff, |at| (at + 1).min(cutoff));
            for statement in &keep {
                sqlx::query(statement).bind(upto).execute(&mut *tx).await?;
            }
            let removed = sqlx::query("DELETE FROM trace_events WHERE at < $1").bind(upto).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            purged += removed;
            if beyond.is_none() || upto >= cutoff {
                return Ok(purged);
            }
        }
    }

    /// Up to when traces are tallied (0: none are yet).
    pub(crate) async fn tally_mark(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT rolled_to FROM call_tally_mark WHERE id = 1").fetch_one(&self.pool).await?)
    }

    /// The moment before which traces were purged without what the
    /// analytics read from them being kept (by a version before
    /// `kept_replies`…; purges keep it since), if any were: replies, steps
    /// and outbound calls before it are missing.
    pub async fn traces_purged_before(&self) -> StoreResult<Option<i64>> {
        let at: i64 = sqlx::query_scalar("SELECT purged_before FROM call_tally_mark WHERE id = 1").fetch_one(&self.pool).await?;
        Ok((at > 0).then_some(at))
    }
}
