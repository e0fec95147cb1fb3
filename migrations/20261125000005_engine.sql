-- The engine: run state persisted after every step, the outbox of messages
-- to deliver, and each bot's channel settings.

ALTER TABLE runs ADD COLUMN state_json TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN wake_at BIGINT;
ALTER TABLE runs ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
CREATE INDEX runs_wake ON runs(status, wake_at);

-- One row per message and chat; delivery_key makes a re-run of the same
-- step insert nothing, so a restart never sends a message twice.
CREATE TABLE outbox (
    id                  TEXT PRIMARY KEY,
    delivery_key        TEXT NOT NULL UNIQUE,
    run_id              TEXT NOT NULL,
    bot_id              TEXT NOT NULL,
    lead_id             TEXT NOT NULL,
    channel             TEXT NOT NULL,
    chat_id             TEXT NOT NULL,
    payload_json        TEXT NOT NULL,
    trace_id            TEXT NOT NULL,
    status              TEXT NOT NULL,
    attempts            BIGINT NOT NULL DEFAULT 0,
    next_attempt_at     BIGINT NOT NULL,
    lease_until         BIGINT NOT NULL DEFAULT 0,
    last_error          TEXT NOT NULL DEFAULT '',
    provider_message_id TEXT NOT NULL DEFAULT '',
    created_at          BIGINT NOT NULL,
    sent_at             BIGINT
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_chat ON outbox(bot_id, chat_id, status);

-- Channel settings of a bot (e.g. the Telegram token and webhook secret).
CREATE TABLE bot_channels (
    bot_id      TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    config_json TEXT NOT NULL,
    enabled     BIGINT NOT NULL DEFAULT 1,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (bot_id, kind)
);
