//! Scheduled jobs: store them, and turn due ones into runs.

use super::events::{insert_run, NewRun, Recipient};
use super::traces::time_ordered_id;
use super::{now_millis, Store, StoreResult};
use crate::job::{JobRequest, ScheduledJob};
use crate::trace::TraceEvent;
use crate::BotId;
use sqlx::Row;

/// The columns [`job_of`] reads.
const JOB_COLUMNS: &str = "id, bot_id, scenario, user_id, lead_id, run_at, every_ms, status, runs_made, trace_id";

/// What [`Store::cancel_job`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum JobCancel {
    /// Cancelled now; the job as it is after.
    Cancelled(ScheduledJob),
    /// No such job of this bot.
    NotFound,
    /// Already `done` or `cancelled`: nothing changed.
    Over(ScheduledJob),
}

fn job_of(row: &sqlx::any::AnyRow) -> Result<ScheduledJob, sqlx::Error> {
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
}

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

    /// Every job of `bot`, soonest first.
    pub async fn list_jobs(&self, bot: &BotId) -> StoreResult<Vec<ScheduledJob>> {
        let rows = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM scheduled_jobs WHERE bot_id = $1 ORDER BY run_at"))
            .bind(bot.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_of).collect::<Result<_, sqlx::Error>>().map_err(Into::into)
    }

    /// The jobs of `bot` still to run (up to `limit`), soonest first, and
    /// whether there are more.
    pub async fn scheduled_jobs(&self, bot: &BotId, limit: i64) -> StoreResult<(Vec<ScheduledJob>, bool)> {
        let limit = limit.clamp(1, 1000);
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM scheduled_jobs WHERE bot_id = $1 AND status = 'scheduled' ORDER BY run_at, id LIMIT {}",
            limit + 1
        ))
        .bind(bot.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut jobs = rows.iter().map(job_of).collect::<Result<Vec<_>, sqlx::Error>>()?;
        let more = jobs.len() as i64 > limit;
        jobs.truncate(limit as usize);
        Ok((jobs, more))
    }

    /// One job of `bot`.
    pub async fn job(&self, bot: &BotId, id: &str) -> StoreResult<Option<ScheduledJob>> {
        let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM scheduled_jobs WHERE id = $1 AND bot_id = $2"))
            .bind(id)
            .bind(bot.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(job_of).transpose()?)
    }

    /// Cancels job `id` of `bot` if it is still to run (a periodic one
    /// between its runs included). A run it is starting at that moment
    /// commits first: the cancel then finds it rescheduled (a periodic
    /// job, cancelled) or done.
    pub async fn cancel_job(&self, bot: &BotId, id: &str) -> StoreResult<JobCancel> {
        let done = sqlx::query("UPDATE scheduled_jobs SET status = 'cancelled', updated_at = $1 WHERE id = $2 AND bot_id = $3 AND status = 'scheduled'")
            .bind(now_millis())
            .bind(id)
            .bind(bot.as_str())
            .execute(&self.pool)
            .await?;
        Ok(match self.job(bot, id).await? {
            None => JobCancel::NotFound,
            Some(job) if done.rows_affected() == 1 => JobCancel::Cancelled(job),
            Some(job) => JobCancel::Over(job),
        })
    }

    /// Cancels every job of `bot` still to run scenario `scenario`;
    /// returns how many.
    pub async fn cancel_scenario_jobs(&self, bot: &BotId, scenario: &str) -> StoreResult<u64> {
        let done = sqlx::query("UPDATE scheduled_jobs SET status = 'cancelled', updated_at = $1 WHERE bot_id = $2 AND scenario = $3 AND status = 'scheduled'")
            .bind(now_millis())
            .bind(bot.as_str())
            .bind(scenario)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
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
