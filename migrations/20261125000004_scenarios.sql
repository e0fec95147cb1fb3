-- Scenarios: every save is a new version; the highest number is current.
-- Runs record the version they started with (runs.scenario_version).
CREATE TABLE scenario_versions (
    bot_id          TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    version         BIGINT NOT NULL,
    definition_json TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    author          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (bot_id, name, version)
);

ALTER TABLE runs ADD COLUMN scenario_version BIGINT NOT NULL DEFAULT 0;
