-- The check loop's outcome, per generation: the command, whether its last run passed, how it
-- ended (`exit 1`, `killed after 300 s`), its output (head and tail) and how many times it ran.
-- NULL check_command: no check ran.
ALTER TABLE generations ADD COLUMN check_command TEXT;
ALTER TABLE generations ADD COLUMN check_passed INTEGER;
ALTER TABLE generations ADD COLUMN check_status TEXT;
ALTER TABLE generations ADD COLUMN check_output TEXT;
ALTER TABLE generations ADD COLUMN check_runs INTEGER;
