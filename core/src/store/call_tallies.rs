//! Calls counted per day (`call_tallies`), and the trace log's retention.
//!
//! All-time figures — a map row's calls, errors and last call, `/metrics`'
//! outbound calls — used to count every `api.call` or `callback.http`
//! trace ever written, so they slowed down with the history and would
//! have shrunk had traces ever been removed. [`Store::roll_up_calls`] adds
//! the traces older than [`TALLY_LAG_MS`] to a row per bot, endpoint,
//! step, status and day, and moves the mark `call_tally_mark.rolled_to`
//! in the same commit; a reader takes the tallies plus the traces since
//! the mark, in one statement ([`all_time_calls`]). Only traces already
//! tallied are purged ([`Store::purge_traces`]).
//!
//! A trace recorded more than [`TALLY_LAG_MS`] after its own time (a run
//! slice of http steps longer than that, saved when it ends) is not
//! tallied; every other one is counted exactly once, by one process: a
//! pass moves the mark only from the value it read.

use super::{placeholders, Store, StoreResult, Work};
use crate::BotId;

/// How old a trace must be before it is tallied: group commits, and the
/// slice of a run that saves its traces when it ends, write a trace a
/// little after its `at`.
pub const TALLY_LAG_MS: i64 = 15 * 60_000;

/// At most this much of the trace log per pass (one write turn), so a
/// first pass over a long history does not hold the write lane for long.
const PASS_SPAN_MS: i64 = 6 * 3_600_000;

/// Traces removed per statement by [`Store::purge_traces`].
const PURGE_CHUNK: i64 = 5_000;

const DAY_MS: i64 = 86_400_000;

/// The steps tallied: calls in from business systems, calls out to them.
pub const TALLIED_STEPS: [&str; 2] = ["api.call", "callback.http"];

/// `SELECT bot_id, endpoint, status, calls, last_at` over all time for
/// `step` (one of [`TALLIED_STEPS`], written in, not bound) and the bots
/// bound from `$1`: the tallies and the traces not yet tallied, as one
/// statement, so a pass committing meanwhile is seen wholly or not at all.
/// Group and order it by wrapping it: `SELECT … FROM ({this}) calls …`.
pub(crate) fn all_time_calls(step: &str, bots: usize) -> String {
    debug_assert!(TALLIED_STEPS.contains(&step));
    format!(
        "SELECT bot_id, endpoint, status, calls, last_at FROM call_tallies WHERE step = '{step}' AND bot_id IN ({tallied}) \
         UNION ALL \
         SELECT bot_id, endpoint, status, 1, at FROM trace_events \
         WHERE step = '{step}' AND dry_run = 0 AND at >= (SELECT rolled_to FROM call_tally_mark WHERE id = 1) AND bot_id IN ({live})",
        tallied = placeholders(1, bots),
        live = placeholders(1 + bots, bots),
    )
}

/// Binds `bots` twice, for both halves of [`all_time_calls`].
pub(crate) fn bind_bots_twice<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    bots: &'q [BotId],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for bot in bots.iter().chain(bots) {
        query = query.bind(bot.as_str());
    }
    query
}

impl Store {
    /// Tallies the calls traced up to `now` − [`TALLY_LAG_MS`], at most
    /// six hours of them; true when nothing is left to tally (call again
    /// while false). A process that finds the mark moved under it by
    /// another tallies nothing.
    pub async fn roll_up_calls(&self, now: i64) -> StoreResult<bool> {
        let target = now - TALLY_LAG_MS;
        let mut turn = self.write_turn(Work::Other).await;
        let mut tx = turn.begin().await?;
        let mark: i64 = sqlx::query_scalar("SELECT rolled_to FROM call_tally_mark WHERE id = 1").fetch_one(&mut *tx).await?;
        if mark >= target {
            return Ok(true);
        }
        // Skip a stretch without traces at once (a first pass, a quiet
        // weekend): nothing between the mark and the next trace is lost.
        let next: Option<i64> = sqlx::query_scalar("SELECT MIN(at) FROM trace_events WHERE at >= $1").bind(mark).fetch_one(&mut *tx).await?;
        let to = match next {
            Some(next) if next < target => target.min(next.saturating_add(PASS_SPAN_MS)),
            _ => target,
        };
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
    /// already, a chunk per write turn, and notes the moment before which
    /// traces are gone ([`Store::traces_purged_before`]); returns how many.
    pub async fn purge_traces(&self, before: i64) -> StoreResult<u64> {
        let rolled_to: i64 = sqlx::query_scalar("SELECT rolled_to FROM call_tally_mark WHERE id = 1").fetch_one(&self.pool).await?;
        // The mark only moves on, so what is tallied now stays tallied.
        let cutoff = before.min(rolled_to);
        let mut purged = 0;
        loop {
            let mut turn = self.write_turn(Work::Other).await;
            let mut tx = turn.begin().await?;
            let removed = sqlx::query("DELETE FROM trace_events WHERE id IN (SELECT id FROM trace_events WHERE at < $1 ORDER BY at LIMIT $2)")
                .bind(cutoff)
                .bind(PURGE_CHUNK)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if removed > 0 {
                sqlx::query("UPDATE call_tally_mark SET purged_before = $1 WHERE id = 1 AND purged_before < $1").bind(cutoff).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            purged += removed;
            if removed < PURGE_CHUNK as u64 {
                return Ok(purged);
            }
        }
    }

    /// The moment before which traces were purged, if any were: replies,
    /// steps and outbound calls before it are no longer in the log.
    pub async fn traces_purged_before(&self) -> StoreResult<Option<i64>> {
        let at: i64 = sqlx::query_scalar("SELECT purged_before FROM call_tally_mark WHERE id = 1").fetch_one(&self.pool).await?;
        Ok((at > 0).then_some(at))
    }
}
