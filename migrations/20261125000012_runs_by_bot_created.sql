-- The ComOps loop's trace overlay counts the runs of a project's bots
-- created since a moment, by scenario and status
-- (`Store::scenario_figures`): this index covers that query, so it never
-- reads the runs themselves.
CREATE INDEX runs_bot_created ON runs(bot_id, created_at, scenario, status);
