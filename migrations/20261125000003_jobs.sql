-- Scheduled runs (POST /bots/{botId}/jobs/schedule): a scenario for a lead
-- at a time, once or every `every_ms`. Workers claim due jobs with a
-- conditional UPDATE, so several processes never run one job twice.
CREATE TABLE scheduled_jobs (
    id          TEXT PRIMARY KEY,
    bot_id      TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    scenario    TEXT NOT NULL,
    user_id     TEXT NOT NULL DEFAULT '',
    lead_id     TEXT NOT NULL DEFAULT '',
    params_json TEXT NOT NULL DEFAULT '{}',
    run_at      BIGINT NOT NULL,
    every_ms    BIGINT NOT NULL DEFAULT 0,
    status      TEXT NOT NULL,
    runs_made   BIGINT NOT NULL DEFAULT 0,
    trace_id    TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX scheduled_jobs_due ON scheduled_jobs(status, run_at);
