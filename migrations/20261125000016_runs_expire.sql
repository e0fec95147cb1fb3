-- A paused run is woken at its own time or to expire 30 days after it
-- started (SPEC §4), as the executor now writes it. Runs paused before
-- without a wake time (an ask without a timeout; a wait whose time an
-- ignored input erased) are woken once now: the executor reads their
-- state, which only it can open, and writes the time they wait for.
UPDATE runs SET wake_at = 0 WHERE status = 'waiting' AND wake_at IS NULL;
