-- What the analytics read from the trace log, kept when its traces are
-- purged (`Store::purge_traces` moves them here in the same commit), so a
-- period older than the retention still has its replies, outbound calls
-- and step counts: a lead's replies (`user.reply`), the http steps'
-- outcomes per trace (`callback.http`), and scenario steps (`scenario.*`)
-- counted per bot, step and day. Dry runs are left out, as the analytics
-- leave them out. Leads are opaque ids; no text of a trace is kept.
CREATE TABLE kept_replies (
    bot_id  TEXT NOT NULL,
    lead_id TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX kept_replies_bot_at ON kept_replies(bot_id, at);

CREATE TABLE kept_http_calls (
    bot_id   TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    status   TEXT NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX kept_http_calls_bot_at ON kept_http_calls(bot_id, at);

CREATE TABLE kept_step_days (
    bot_id   TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    day      BIGINT NOT NULL,
    steps    BIGINT NOT NULL,
    PRIMARY KEY (bot_id, endpoint, day)
);
