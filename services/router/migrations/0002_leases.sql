-- Leases (docs/design.md section 4): when an assignment was last signalled, and when its holder last showed progress.
ALTER TABLE assignments ADD COLUMN signalled_at timestamptz;
ALTER TABLE assignments ADD COLUMN signals integer NOT NULL DEFAULT 1;
ALTER TABLE assignments ADD COLUMN progress_at timestamptz;
