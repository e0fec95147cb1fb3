-- The ids of deleted bots. Rows elsewhere go on naming them (traces,
-- call tallies, what analytics kept, tokens' scopes), so an id someone
-- chooses for a new bot must not be one of these, or the new bot would
-- take over what the old one left (`Store::bot_id_retired`). Bots deleted
-- before this table are known by their call tallies.
CREATE TABLE retired_bot_ids (
    id         TEXT PRIMARY KEY,
    retired_at BIGINT NOT NULL
);
INSERT INTO retired_bot_ids (id, retired_at)
SELECT DISTINCT bot_id, 0 FROM call_tallies WHERE bot_id NOT IN (SELECT id FROM bots);
