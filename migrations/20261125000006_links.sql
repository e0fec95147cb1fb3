-- One-time deep-link codes: POST /bots/{botId}/links makes one for a
-- business userId; `/start <code>` in the messenger binds that user.
CREATE TABLE link_codes (
    code_hash  TEXT PRIMARY KEY,
    bot_id     TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    created_at BIGINT NOT NULL
);
