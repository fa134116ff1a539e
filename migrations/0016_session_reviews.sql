-- Reviews answered in an MCP client's session (`review_request`, then `review_submit`) besides
-- the API's: how each verdict was made (`api` or `mcp`), and the client and model the session
-- reported. A session verdict's approvals count only where the committed policy's
-- `[review] accept` lists "mcp" (the gate asks; see Store::count_session_reviews).
ALTER TABLE verdicts ADD COLUMN via TEXT NOT NULL DEFAULT 'api' CHECK (via IN ('api', 'mcp'));
ALTER TABLE verdicts ADD COLUMN client TEXT;

-- Reviews handed to a session and not answered yet, by one-time id: the plan that concludes
-- them (what was sent, and so exactly what an approval may cover).
CREATE TABLE session_reviews (
    id         TEXT PRIMARY KEY,
    plan       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
