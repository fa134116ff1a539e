-- Reviews submitted through the Message Batches API and not yet collected. What a review needs
-- to conclude (its plan: parts, withheld files, local findings, the lines an approval covers) is
-- kept with it, so that collecting needs nothing but the store and the API.
CREATE TABLE review_batches (
    id           TEXT PRIMARY KEY,               -- the API's batch id
    model        TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('submitted', 'collected', 'lost')),
    requests     INTEGER NOT NULL,
    submitted_at INTEGER NOT NULL,
    expires_at   TEXT,                           -- as the API gave it (RFC 3339)
    collected_at INTEGER,
    note         TEXT                            -- why it was lost, when it was
);
CREATE INDEX review_batches_by_state ON review_batches (state);

CREATE TABLE batched_reviews (
    batch_id   TEXT NOT NULL REFERENCES review_batches (id),
    seq        INTEGER NOT NULL,                 -- its requests' custom ids are r<seq>-p<part>
    change_id  TEXT NOT NULL,
    target     TEXT NOT NULL,
    plan       TEXT NOT NULL,                    -- JSON
    concluded  INTEGER NOT NULL DEFAULT 0,      -- 1 once its results were turned into a verdict (or none)
    verdict_id INTEGER REFERENCES verdicts (id),
    PRIMARY KEY (batch_id, seq)
);
CREATE INDEX batched_reviews_by_change ON batched_reviews (change_id);
