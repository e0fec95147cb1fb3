-- Studio maps (CJM, Service Blueprint, communication and integration-points
-- maps) and their versions. `maps` holds the current state; every save
-- appends the full snapshot to `map_versions` under the next number. A
-- save names the version it started from and only applies while that is
-- still current (compare-and-set on `maps.version`), so two people never
-- silently overwrite each other.
CREATE TABLE maps (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    title        TEXT NOT NULL,
    content_json TEXT NOT NULL,
    version      BIGINT NOT NULL,
    author       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE INDEX maps_by_project ON maps (project_id, created_at);

CREATE TABLE map_versions (
    map_id       TEXT NOT NULL REFERENCES maps(id) ON DELETE CASCADE,
    version      BIGINT NOT NULL,
    title        TEXT NOT NULL,
    content_json TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    author       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (map_id, version)
);
