-- Concurrency limits: assignments beyond a pool's or a repository's limit wait here, with what to publish.
ALTER TABLE assignments ADD COLUMN repo text NOT NULL DEFAULT '';
ALTER TABLE assignments ADD COLUMN priority integer NOT NULL DEFAULT 2;
ALTER TABLE assignments ADD COLUMN held jsonb;
UPDATE assignments SET repo = split_part(subject, '#', 1);
CREATE INDEX assignments_queued ON assignments (priority, created_at) WHERE status = 'queued';
