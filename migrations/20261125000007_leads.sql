-- Leads: the platform's person per bot, with attributes kept across
-- scenarios, tags, a status, and whether an operator took over (`active`, `stopped` when their last
-- channel address blocked the bot, or whatever a scenario sets).
CREATE TABLE leads (
    bot_id          TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    attributes_json TEXT NOT NULL DEFAULT '{}',
    tags_json       TEXT NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL DEFAULT 'active',
    -- Who talks to the lead: '' the bot, '*' handed over and waiting for an
    -- operator, else the operator's email (the bot is paused for the lead).
    operator        TEXT NOT NULL DEFAULT '',
    operator_at     BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (bot_id, id)
);
-- Every lead named by an existing identity link gets its row.
INSERT INTO leads (bot_id, id, created_at, updated_at)
SELECT bot_id, lead_id, MIN(connected_at), MIN(connected_at) FROM identity_links GROUP BY bot_id, lead_id;

CREATE INDEX identity_links_address ON identity_links(bot_id, channel, chat_id);

-- One REST-triggered run per lead and endpoint at a time (SPEC §4), held
-- by the database so concurrent calls and processes cannot both start one:
-- `exclusive` is 1 for runs of endpoints that do not allow overlap.
ALTER TABLE runs ADD COLUMN exclusive BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX runs_one_active ON runs(bot_id, lead_id, endpoint_id)
    WHERE exclusive = 1 AND status IN ('pending', 'running', 'waiting');

-- Inbound messenger updates, stored before they are acknowledged: the
-- external id (Telegram's update_id, …) makes a redelivered update a no-op,
-- and a crash after the acknowledgement still handles it.
CREATE TABLE inbound_updates (
    bot_id      TEXT NOT NULL,
    channel     TEXT NOT NULL,
    external_id TEXT NOT NULL,
    event_json  TEXT NOT NULL,
    status      TEXT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (bot_id, channel, external_id)
);
CREATE INDEX inbound_updates_status ON inbound_updates(status, received_at);

-- Work only one process may do at a time (e.g. long polling one bot's
-- Telegram updates): whoever holds an unexpired lease does it.
CREATE TABLE worker_leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    lease_until BIGINT NOT NULL
);

-- Send clocks shared by every process on one database (PostgreSQL): the
-- earliest time the next message may go out per bot and per chat, so
-- several processes together keep a messenger's rate (see
-- core/src/store/send_clocks.rs).
CREATE TABLE send_clocks (
    key     TEXT PRIMARY KEY,
    next_at BIGINT NOT NULL
);
