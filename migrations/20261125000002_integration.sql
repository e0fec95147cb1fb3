-- Integration layer: endpoints, API tokens, accepted events and their runs,
-- idempotency keys, identity links for recipient resolution, trace events.
-- Same portable subset as the foundation: TEXT ids (time-ordered where
-- rows are paged), BIGINT millis and flags, JSON as TEXT.

CREATE TABLE endpoints (
    id                   TEXT PRIMARY KEY,
    bot_id               TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    alias                TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    owner                TEXT NOT NULL DEFAULT '',
    schema_json          TEXT NOT NULL DEFAULT '{"fields":[]}',
    example_json         TEXT NOT NULL DEFAULT '{}',
    response_description TEXT NOT NULL DEFAULT '',
    isolated             BIGINT NOT NULL DEFAULT 0,
    enabled              BIGINT NOT NULL DEFAULT 1,
    scenario             TEXT NOT NULL DEFAULT '',
    allow_overlap        BIGINT NOT NULL DEFAULT 0,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    UNIQUE (bot_id, alias)
);

CREATE TABLE api_tokens (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    secret_hash     TEXT NOT NULL,
    scope_json      TEXT NOT NULL,
    expires_at      BIGINT,
    rate_per_minute BIGINT NOT NULL DEFAULT 0,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT,
    revoked_at      BIGINT
);

-- userId (business system) <-> leadId <-> chatId per channel.
CREATE TABLE identity_links (
    id           TEXT PRIMARY KEY,
    bot_id       TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL,
    lead_id      TEXT NOT NULL,
    channel      TEXT NOT NULL,
    chat_id      TEXT NOT NULL,
    is_active    BIGINT NOT NULL DEFAULT 1,
    source       TEXT NOT NULL DEFAULT '',
    connected_at BIGINT NOT NULL
);
CREATE INDEX identity_links_user ON identity_links(bot_id, user_id);
CREATE INDEX identity_links_lead ON identity_links(bot_id, lead_id);

-- Business events accepted by call/{alias}; committed before the 200.
CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    bot_id          TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    alias           TEXT NOT NULL,
    trace_id        TEXT NOT NULL,
    token_id        TEXT NOT NULL,
    source_system   TEXT NOT NULL,
    params_json     TEXT NOT NULL,
    recipients_json TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX events_status ON events(status, created_at);
CREATE INDEX events_trace ON events(trace_id);

-- One scenario run per resolved lead of an event; the engine executes them.
CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    event_id    TEXT NOT NULL,
    bot_id      TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    scenario    TEXT NOT NULL,
    lead_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL DEFAULT '',
    trace_id    TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX runs_status ON runs(status, created_at);
CREATE INDEX runs_lead ON runs(bot_id, lead_id, endpoint_id, status);

-- Idempotency-Key: the first response, replayed for the same key and body.
CREATE TABLE idempotency_keys (
    token_id      TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    http_status   BIGINT NOT NULL,
    response_json TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (token_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

-- The trace log (methodology fields). ids sort by time.
CREATE TABLE trace_events (
    id            TEXT PRIMARY KEY,
    trace_id      TEXT NOT NULL,
    source_system TEXT NOT NULL DEFAULT '',
    bot_id        TEXT NOT NULL DEFAULT '',
    endpoint      TEXT NOT NULL DEFAULT '',
    user_id       TEXT NOT NULL DEFAULT '',
    lead_id       TEXT NOT NULL DEFAULT '',
    step          TEXT NOT NULL,
    status        TEXT NOT NULL,
    http_status   BIGINT NOT NULL DEFAULT 0,
    latency_ms    BIGINT NOT NULL DEFAULT 0,
    dry_run       BIGINT NOT NULL DEFAULT 0,
    detail        TEXT NOT NULL DEFAULT '',
    at            BIGINT NOT NULL
);
CREATE INDEX trace_events_trace ON trace_events(trace_id);
CREATE INDEX trace_events_at ON trace_events(at);
CREATE INDEX trace_events_bot_endpoint ON trace_events(bot_id, endpoint, at);
