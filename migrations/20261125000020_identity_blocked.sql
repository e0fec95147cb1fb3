-- Why an address went inactive: `blocked_at` is when the person blocked
-- the bot (the messenger said so), 0 when it was deactivated otherwise
-- (the business system or the studio) or is active. A run that comes to
-- a message with no active address left reports a block only.
ALTER TABLE identity_links ADD COLUMN blocked_at BIGINT NOT NULL DEFAULT 0;
