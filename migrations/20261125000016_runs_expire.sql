-- A paused run is woken to expire 30 days after it started (SPEC §4),
-- as the executor now writes it; runs paused before (an ask without a
-- timeout had no wake time, so waited for ever and held its lead's one run
-- of the endpoint) get that time too. `created_at` is when the run started.
UPDATE runs SET wake_at = created_at + 2592000001 WHERE status = 'waiting' AND wake_at IS NULL;
