//! Scheduled jobs: store them, and turn due ones into runs.

use super::events::{insert_run, NewRun, Recipient};
use super::traces::time_ordered_id;
use super::{now_millis, Store, StoreResult};
use crate::job::{JobRequest, ScheduledJob};
use crate::trace::TraceEvent;
use crate::BotId;
use sqlx::Row;

impl Store {
    /// Stores a job; returns it as listed.
    pub async fn schedule_job(&self, bot: &BotId, job: &JobRequest, trace_id: &str, created_by: &str) -> StoreResult<ScheduledJob> {
        let now = now_millis();
        let id = time_ordered_id("job_", now);
        let run_at = job.first_run(now);
        sqlx::query(
            "INSERT INTO scheduled_jobs (id, bot_id, scenario, user_id, lead_id, params_json, run_at, every_ms, status, trace_id, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'scheduled', $9, $10, $11, $11)",
        )
        .bind(&id)
        .bind(bot.as_str())
        .bind(&job.scenario)
        .bind(&job.user_id)
        .bind(&job.lead_id)
        .bind(self.keyring.seal(&super::sealing::job_place(&id), &super::endpoints::json_text(&job.params)))
        .bind(run_at)
        .bind(job.every_ms)
        .bind(trace_id)
        .bind(created_by)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(ScheduledJob {
            id,
            bot_id: bot.to_string(),
            scenario: job.scenario.clone(),
            user_id: job.user_id.clone(),
            lead_id: job.lead_id.clone(),
            run_at,
            every_ms: job.every_ms,
            status: "scheduled".into(),
            runs_made: 0,
            trace_id: trace_id.into(),
        })
    }

    pub async fn list_jobs(&self, bot: &BotId) -> StoreResult<Vec<ScheduledJob>> {
        let rows = sqlx::query(
            "SELECT id, bot_id, scenario, user_id, lead_id, run_at, every_ms, status, runs_made, trace_id FROM scheduled_jobs \
             WHERE bot_id = $1 ORDER BY run_at",
        )
        .bind(bot.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ScheduledJob {
                    id: row.try_get("id")?,
                    bot_id: row.try_get("bot_id")?,
                    scenario: row.try_get("scenario")?,
                    user_id: row.try_get("user_id")?,
                    lead_id: row.try_get("lead_id")?,
                    run_at: row.try_get("run_at")?,
                    every_ms: row.try_get("every_ms")?,
                    status: row.try_get("status")?,
                    runs_made: row.try_get("runs_made")?,
                    trace_id: row.try_get("trace_id")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Runs every job due at `now` (up to `limit`): each in its own
    /// transaction that claims it, creates runs for its leads, traces it
    /// and reschedules or finishes it. Returns how many jobs ran.
    pub async fn run_due_jobs(&self, now: crate::Millis, limit: i64) -> StoreResult<usize> {
        let due: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM scheduled_jobs WHERE status = 'scheduled' AND run_at <= $1 ORDER BY run_at LIMIT {}",
            limit.clamp(1, 1000)
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut ran = 0;
        for id in due {
            if self.run_job(&id, now).await? {
                ran += 1;
            }
        }
        Ok(ran)
    }

    async fn run_job(&self, id: &str, now: crate::Millis) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        // The claim: only one process turns a due job from scheduled to running.
        let claimed = sqlx::query("UPDATE scheduled_jobs SET status = 'running', updated_at = $1 WHERE id = $2 AND status = 'scheduled'")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if claimed.rows_affected() == 0 {
            return Ok(false);
        }
        let row = sqlx::query("SELECT bot_id, scenario, user_id, lead_id, run_at, every_ms, trace_id FROM scheduled_jobs WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let bot_id: String = row.try_get("bot_id")?;
        let bot = BotId::from_store(bot_id.clone());
        let scenario: String = row.try_get("scenario")?;
        let user_id: String = row.try_get("user_id")?;
        let lead_id: String = row.try_get("lead_id")?;
        let run_at: i64 = row.try_get("run_at")?;
        let every_ms: i64 = row.try_get("every_ms")?;
        let trace_id: String = row.try_get("trace_id")?;

        let leads: Vec<String> = if lead_id.is_empty() {
            sqlx::query_scalar("SELECT DISTINCT lead_id FROM identity_links WHERE bot_id = $1 AND user_id = $2 AND is_active = 1")
                .bind(&bot_id)
                .bind(&user_id)
                .fetch_all(&mut *tx)
                .await?
        } else {
            vec![lead_id.clone()]
        };
        for lead in &leads {
            let recipient = Recipient { lead_id: lead.clone(), user_id: user_id.clone() };
            let run = NewRun { source_id: id, bot: &bot, endpoint_id: "", scenario: &scenario, recipient: &recipient, trace_id: &trace_id, exclusive: false, lease_until: 0 };
            insert_run(&mut tx, &run, now).await?;
        }
        let trace = TraceEvent {
            id: String::new(),
            trace_id: trace_id.clone(),
            source_system: "scheduler".into(),
            bot_id: bot_id.clone(),
            endpoint: format!("jobs/{scenario}"),
            user_id: user_id.clone(),
            lead_id: leads.join(","),
            step: "job.run".into(),
            status: if leads.is_empty() { "fail".into() } else { "success".into() },
            http_status: 0,
            latency_ms: now - run_at,
            dry_run: false,
            detail: crate::trace::Detail::JobStarted { job: id.to_string(), runs: leads.len(), scenario: scenario.to_string() }.to_string(),
            at: now,
        };
        super::traces::insert_traces(&mut tx, &[&trace]).await?;
        if every_ms > 0 {
            // Next slot after now; missed slots (downtime) are not replayed.
            let missed = (now - run_at).max(0) / every_ms + 1;
            sqlx::query("UPDATE scheduled_jobs SET status = 'scheduled', run_at = $1, runs_made = runs_made + 1, updated_at = $2 WHERE id = $3")
                .bind(run_at + missed * every_ms)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("UPDATE scheduled_jobs SET status = 'done', runs_made = runs_made + 1, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
