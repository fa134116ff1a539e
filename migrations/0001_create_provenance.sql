-- Local output, reviews and gate decisions: what the gate's rule reads (ARCHITECTURE §4).

-- One run of a local model, or one adopted commit range.
CREATE TABLE generations (
    id            TEXT PRIMARY KEY,           -- 'g-' + 12 hex
    kind          TEXT NOT NULL CHECK (kind IN ('adopt', 'implement')),
    model         TEXT,
    spec_path     TEXT,
    branch        TEXT,                       -- the branch it lives on, when known
    base_commit   TEXT,
    result_commit TEXT NOT NULL,
    change_id     TEXT NOT NULL,
    params        TEXT,                       -- JSON
    tokens_in     INTEGER,
    tokens_out    INTEGER,
    wall_ms       INTEGER,
    created_at    INTEGER NOT NULL            -- unix seconds
);

-- Fingerprints of every non-trivial line a generation added.
CREATE TABLE generation_lines (
    generation_id TEXT NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
    fingerprint   INTEGER NOT NULL,
    path          BLOB NOT NULL,
    line          INTEGER NOT NULL
);
CREATE INDEX generation_lines_by_fingerprint ON generation_lines (fingerprint);
CREATE INDEX generation_lines_by_generation ON generation_lines (generation_id);

-- One review of one change.
CREATE TABLE verdicts (
    id           INTEGER PRIMARY KEY,
    change_id    TEXT NOT NULL,
    decision     TEXT NOT NULL CHECK (decision IN ('approve', 'request_changes')),
    model        TEXT NOT NULL,
    request_id   TEXT,
    raw_response TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX verdicts_by_change ON verdicts (change_id);

-- Fingerprints of the added lines of approved changes.
CREATE TABLE approved_lines (
    fingerprint INTEGER NOT NULL,
    verdict_id  INTEGER NOT NULL REFERENCES verdicts (id) ON DELETE CASCADE,
    PRIMARY KEY (fingerprint, verdict_id)
) WITHOUT ROWID;

-- Every decision the gate made on a protected ref.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,              -- unix milliseconds
    hook       TEXT NOT NULL,
    refname    BLOB,
    old        TEXT,
    new        TEXT,
    change_id  TEXT,
    decision   TEXT NOT NULL CHECK (decision IN ('allow', 'block')),
    uncovered  INTEGER NOT NULL DEFAULT 0,
    detail     TEXT
);
