//! The facts behind the analytics screen (see [`crate::analytics`]) for
//! one bot and period: runs started with their endpoint, goal and rating
//! answers; their outgoing messages; leads' replies (up to 24 h after the
//! period); outbound API calls; and scenario steps executed per day —
//! from the trace log, and for traces past its retention from what their
//! purge kept (`kept_*`, `call_tallies.rs`). Dry runs are left out.
//! Nothing personal leaves this module: leads are opaque ids and only
//! counts reach the studio.

use super::{Store, StoreResult};
use crate::analytics::{CallFact, Delivery, Facts, MessageFact, ReplyFact, RunFact, StepFact, DAY_MS, MAX_RUNS, REPLY_WINDOW_MS};
use crate::scenario::{Expect, StepKind};
use crate::BotId;
use std::collections::{HashMap, HashSet};

type RunRow = (String, String, String, String, String, i64, String, String, String, i64);

impl Store {
    /// Facts of `bot` for runs started in `[from_ms, to_ms)`.
    pub async fn analytics_facts(&self, bot: &BotId, from_ms: i64, to_ms: i64) -> StoreResult<Facts> {
        let bot_id = bot.as_str();
        let mut rows: Vec<RunRow> = sqlx::query_as(
            "SELECT r.id, r.trace_id, COALESCE(e.alias, ''), r.scenario, r.lead_id, r.created_at, r.status, r.outcome, r.state_json, r.scenario_version \
             FROM runs r LEFT JOIN endpoints e ON e.id = r.endpoint_id \
             WHERE r.bot_id = $1 AND r.created_at >= $2 AND r.created_at < $3 ORDER BY r.created_at DESC LIMIT $4",
        )
        .bind(bot_id)
        .bind(from_ms)
        .bind(to_ms)
        .bind(MAX_RUNS + 1)
        .fetch_all(&self.pool)
        .await?;
        let truncated = rows.len() as i64 > MAX_RUNS;
        rows.truncate(MAX_RUNS as usize);

        let mut rating_vars: HashMap<(String, i64), Vec<String>> = HashMap::new();
        let mut runs = Vec::with_capacity(rows.len());
        for (id, trace_id, alias, scenario, lead, created_at, status, outcome, state_json, version) in rows {
            let key = (scenario.clone(), version);
            if !rating_vars.contains_key(&key) {
                let vars = self.rating_vars(bot, &scenario, version).await?;
                rating_vars.insert(key.clone(), vars);
            }
            // Run state is sealed at rest (sealing.rs): opened only for
            // scenarios that ask for ratings.
            let ratings = if rating_vars[&key].is_empty() {
                vec![]
            } else {
                ratings_of(&self.keyring().open(&super::sealing::run_state_place(&id), &state_json)?, &rating_vars[&key])
            };
            runs.push(RunFact { id, trace_id, alias, scenario, lead, created_at, goal: status == "done" && !outcome.is_empty(), ratings });
        }
        let run_ids: HashSet<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        let traces: HashSet<&str> = runs.iter().map(|r| r.trace_id.as_str()).collect();

        let outbox: Vec<(String, String, String, Option<i64>)> =
            sqlx::query_as("SELECT run_id, lead_id, status, sent_at FROM outbox WHERE bot_id = $1 AND created_at >= $2")
                .bind(bot_id)
                .bind(from_ms)
                .fetch_all(&self.pool)
                .await?;
        let messages = outbox
            .into_iter()
            .filter(|(run, ..)| run_ids.contains(run.as_str()))
            .map(|(run, lead, status, sent_at)| {
                let delivery = match status.as_str() {
                    "sent" => Delivery::Sent,
                    "dead" => Delivery::Dead,
                    _ => Delivery::Queued,
                };
                MessageFact { run, lead, delivery, sent_at }
            })
            .collect();

        let replies: Vec<(String, i64)> = sqlx::query_as(
            "SELECT lead_id, at FROM trace_events WHERE bot_id = $1 AND step = 'user.reply' AND dry_run = 0 AND at >= $2 AND at < $3 \
             UNION ALL SELECT lead_id, at FROM kept_replies WHERE bot_id = $1 AND at >= $2 AND at < $3",
        )
        .bind(bot_id)
        .bind(from_ms)
        .bind(to_ms + REPLY_WINDOW_MS)
        .fetch_all(&self.pool)
        .await?;
        let replies = replies.into_iter().map(|(lead, at)| ReplyFact { lead, at }).collect();

        let calls: Vec<(String, String)> = sqlx::query_as(
            "SELECT trace_id, status FROM trace_events WHERE bot_id = $1 AND step = 'callback.http' AND dry_run = 0 AND at >= $2 \
             UNION ALL SELECT trace_id, status FROM kept_http_calls WHERE bot_id = $1 AND at >= $2",
        )
        .bind(bot_id)
        .bind(from_ms)
        .fetch_all(&self.pool)
        .await?;
        let calls = calls
            .into_iter()
            .filter(|(trace, _)| traces.contains(trace.as_str()))
            .map(|(trace_id, status)| CallFact { trace_id, failed: status == "fail" })
            .collect();

        // Kept step counts are per day: the days the period touches.
        let by_day = format!(
            "SELECT endpoint, at / {DAY_MS}, COUNT(*) FROM trace_events \
             WHERE bot_id = $1 AND step LIKE 'scenario.%' AND dry_run = 0 AND at >= $2 AND at < $3 GROUP BY endpoint, at / {DAY_MS} \
             UNION ALL SELECT endpoint, day, steps FROM kept_step_days WHERE bot_id = $1 AND day >= $4 AND day <= $5"
        );
        let step_rows: Vec<(String, i64, i64)> = sqlx::query_as(&by_day)
            .bind(bot_id)
            .bind(from_ms)
            .bind(to_ms)
            .bind(from_ms.div_euclid(DAY_MS))
            .bind((to_ms - 1).div_euclid(DAY_MS))
            .fetch_all(&self.pool)
            .await?;
        let steps = step_rows
            .into_iter()
            .filter_map(|(endpoint, day, count)| {
                let (scenario, step) = endpoint.split_once('/')?;
                Some(StepFact { scenario: scenario.into(), step: step.into(), day, count: count.max(0) as u64 })
            })
            .collect();

        let traces_purged_before = self.traces_purged_before().await?.filter(|at| *at > from_ms);
        Ok(Facts { runs, messages, replies, calls, steps, truncated, traces_purged_before })
    }

    /// The variables that `ask` steps expecting a rating save into.
    async fn rating_vars(&self, bot: &BotId, scenario: &str, version: i64) -> StoreResult<Vec<String>> {
        let Some(definition) = self.scenario_version(bot, scenario, version).await? else { return Ok(vec![]) };
        Ok(definition
            .steps
            .iter()
            .filter_map(|step| match &step.kind {
                StepKind::Ask { expect: Expect::Rating, var, .. } => Some(var.clone()),
                _ => None,
            })
            .collect())
    }
}

/// The rating answers a run saved (integers 1–5 in its variables).
fn ratings_of(state_json: &str, vars: &[String]) -> Vec<i64> {
    if vars.is_empty() || state_json.is_empty() {
        return vec![];
    }
    let Ok(state) = serde_json::from_str::<serde_json::Value>(state_json) else { return vec![] };
    vars.iter().filter_map(|var| state["vars"].get(var)?.as_i64()).filter(|r| (1..=5).contains(r)).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ratings_are_read_from_the_run_state() {
        let state = serde_json::json!({
            "scenario_version": 1, "current": "done", "vars": {"score": 4, "name": "Анна", "other": 9},
            "attributes": {}, "tags": {}, "status": null, "steps_taken": 3, "repeats": ["done", 1], "started_at": 0, "waiting": null
        });
        let vars = vec!["score".to_string(), "other".to_string(), "missing".to_string()];
        assert_eq!(super::ratings_of(&state.to_string(), &vars), vec![4]);
        assert!(super::ratings_of("", &vars).is_empty());
        assert!(super::ratings_of("not json", &vars).is_empty());
    }
}
