-- Reviews: what a verdict covered, its findings, every API call's cost, and what was sent.

-- 0 when some files were withheld (.hybridignore) or a part was not reviewed: such a verdict
-- approves the lines it saw, never the change as a whole.
ALTER TABLE verdicts ADD COLUMN complete INTEGER NOT NULL DEFAULT 1;
ALTER TABLE verdicts ADD COLUMN summary TEXT;
ALTER TABLE verdicts ADD COLUMN base_commit TEXT;
ALTER TABLE verdicts ADD COLUMN tip_commit TEXT;
ALTER TABLE verdicts ADD COLUMN target TEXT;
ALTER TABLE verdicts ADD COLUMN parts INTEGER NOT NULL DEFAULT 1;

CREATE TABLE findings (
    id         INTEGER PRIMARY KEY,
    verdict_id INTEGER NOT NULL REFERENCES verdicts (id) ON DELETE CASCADE,
    source     TEXT NOT NULL CHECK (source IN ('reviewer', 'local')),
    path       TEXT NOT NULL,
    line       INTEGER NOT NULL,
    severity   TEXT NOT NULL,
    category   TEXT NOT NULL,
    message    TEXT NOT NULL,
    suggestion TEXT NOT NULL DEFAULT ''
);
CREATE INDEX findings_by_verdict ON findings (verdict_id);

-- The cost ledger: one row per API call (or local generation), priced when it happened.
CREATE TABLE usage (
    id                 INTEGER PRIMARY KEY,
    at                 INTEGER NOT NULL,              -- unix seconds
    phase              TEXT NOT NULL,                 -- spec, implement, review, fix
    provider           TEXT NOT NULL,                 -- anthropic, embedded, openai
    model              TEXT NOT NULL,
    input_tokens       INTEGER NOT NULL DEFAULT 0,
    output_tokens      INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
    usd                REAL,                          -- NULL when no price is known
    wall_ms            INTEGER NOT NULL DEFAULT 0,
    batch              INTEGER NOT NULL DEFAULT 0,
    request_id         TEXT,
    ok                 INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX usage_by_time ON usage (at);

-- What left the machine: size and hash of every request body, for audit.
CREATE TABLE requests (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    provider   TEXT NOT NULL,
    model      TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    request_id TEXT,
    outcome    TEXT NOT NULL
);
