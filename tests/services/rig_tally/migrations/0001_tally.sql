CREATE TABLE tally (subject text PRIMARY KEY, count integer NOT NULL, last_event uuid NOT NULL);
CREATE TABLE applied (event_id uuid NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
-- Subjects the projection refuses (a test makes an entry fail until it removes the row).
CREATE TABLE refused (subject text PRIMARY KEY);
