-- Endpoints are versioned like maps (SPEC §6): `endpoints` holds the
-- current version's number, `endpoint_versions` every version saved
-- (the draft the studio edits, as JSON). A save is a compare-and-set on
-- `endpoints.version`. Endpoints made before this have version 1; the
-- store writes their first version from the row when it opens
-- (`Store::migrate`), which SQL alone cannot do portably.
ALTER TABLE endpoints ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

CREATE TABLE endpoint_versions (
    endpoint_id TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    draft_json  TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    author      TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (endpoint_id, version)
);
