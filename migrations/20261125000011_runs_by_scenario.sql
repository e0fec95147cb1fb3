-- The studio canvas's trace overlay reads the newest runs of one scenario
-- version (`Store::run_states_of_version`).
CREATE INDEX runs_scenario_version ON runs(bot_id, scenario, scenario_version, created_at);
