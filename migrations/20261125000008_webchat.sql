-- The built-in web chat: its visitors and the conversation log the widget
-- shows (and re-shows after a reload).

-- One row per widget session. `chat_id` (the channel address, `wc_` + 16
-- hex of the token's SHA-256) is what identity links, the studio and traces
-- see; the visitor's secret token itself is never stored, only its full
-- SHA-256 (`token_hash`), checked in constant time on every call.
CREATE TABLE webchat_visitors (
    chat_id    TEXT PRIMARY KEY,
    bot_id     TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX webchat_visitors_bot ON webchat_visitors(bot_id);

-- Both sides of every conversation, numbered 1, 2, 3… per chat without
-- gaps (`seq`, the SSE event id): a listener that has seen n asks for
-- "after n" and misses nothing, whichever process wrote the rows.
-- `delivery_key` (outbox id and part) makes a repeated send of one
-- outbox message store nothing new; visitor rows have none (NULL, and
-- NULLs never collide in a UNIQUE column on SQLite or PostgreSQL).
CREATE TABLE webchat_messages (
    chat_id      TEXT NOT NULL REFERENCES webchat_visitors(chat_id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    bot_id       TEXT NOT NULL,
    author       TEXT NOT NULL,
    body_json    TEXT NOT NULL,
    delivery_key TEXT UNIQUE,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (chat_id, seq)
);
