-- Generations read from other tools' attribution notes (git-ai, Agent Trace), or of a kind a
-- newer git-hybrid records: stored as kind 'adopt' (what the kind CHECK allows) with the real
-- kind here, so nothing a records ref brings is dropped by the constraint.
ALTER TABLE generations ADD COLUMN source TEXT;
