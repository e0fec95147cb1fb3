-- Foundation schema: users, sessions, login throttling, projects, bots, audit.
-- Written in the SQL subset that SQLite and PostgreSQL share, so one set of
-- migrations serves both: TEXT ids made by the application, BIGINT for
-- Unix-millisecond timestamps and 0/1 flags, TEXT for JSON.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    locale        TEXT NOT NULL DEFAULT 'en',
    display_name  TEXT NOT NULL DEFAULT '',
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

-- Server-side sessions; the cookie carries a random secret, we keep its hash.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Failed logins per subject ("email:…" or "ip:…"), for throttling.
CREATE TABLE login_failures (
    subject TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX login_failures_subject_at ON login_failures(subject, at);

CREATE TABLE projects (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_by  TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE bots (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    username    TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    enabled     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX bots_project ON bots(project_id);

-- Who did what to users, tokens, credentials and settings.
CREATE TABLE audit_log (
    id      TEXT PRIMARY KEY,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT '',
    at      BIGINT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
