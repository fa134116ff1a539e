-- The daemon's job queue. A job survives the daemon being killed: a job left `running` by a
-- daemon that is gone is resumed by the next one, exactly once.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('implement')),
    payload     TEXT NOT NULL,                 -- JSON: what to run
    state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    owner_pid   INTEGER,
    result      TEXT,                          -- JSON, when done
    error       TEXT,                          -- when failed
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX jobs_by_state ON jobs (state);

-- Which job produced a generation, so that output of an interrupted attempt can be found.
ALTER TABLE generations ADD COLUMN job_id INTEGER REFERENCES jobs (id);
