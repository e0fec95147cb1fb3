-- Calls counted per day, so that all-time figures (a map row's calls and
-- errors, `/metrics`' outbound calls) never count the whole trace log and
-- survive its retention: the `api.call` traces (business systems calling
-- an endpoint) and `callback.http` traces (http steps calling out), dry
-- runs left out. `Store::roll_up_calls` adds the traces before
-- `call_tally_mark.rolled_to` here; readers add the traces since then.
CREATE TABLE call_tallies (
    bot_id   TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    step     TEXT NOT NULL,
    status   TEXT NOT NULL,
    day      BIGINT NOT NULL,
    calls    BIGINT NOT NULL,
    last_at  BIGINT NOT NULL,
    PRIMARY KEY (bot_id, endpoint, step, status, day)
);

-- One row: the time up to which traces are in `call_tallies` (0: none
-- yet), and the time before which traces were purged (0: none were).
CREATE TABLE call_tally_mark (
    id            BIGINT PRIMARY KEY,
    rolled_to     BIGINT NOT NULL,
    purged_before BIGINT NOT NULL
);
INSERT INTO call_tally_mark (id, rolled_to, purged_before) VALUES (1, 0, 0);
