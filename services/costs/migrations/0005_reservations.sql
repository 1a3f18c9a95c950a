-- Spend reserved before a run starts (POST /api/budgets/reservations), so that parallel runs cannot overshoot a cap
-- together. Not built from events: a rebuild keeps them. A reservation holds its amount until its run has finished
-- (its `runs` row leaves 'running') or it expires (its agent died before the run ended).
CREATE TABLE reservations (
    run_id      text PRIMARY KEY,            -- the run the agent is about to start (RUN_STARTED's run_id)
    agent       text NOT NULL,
    repo        text NOT NULL,
    repo_key    text NOT NULL,               -- lower(repo), as runs.repo_key
    subject     text NOT NULL,               -- the work item owner/name#N
    amount_usd  numeric NOT NULL,            -- reserved, and the most the run may spend
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX reservations_open ON reservations (expires_at);

-- Caps a repository's .rig-agent.yaml sets for its items (`budget`), from ISSUE_ASSIGNED; settings may only be
-- tightened by them, never loosened.
CREATE TABLE item_budgets (
    subject     text PRIMARY KEY,
    repo_key    text NOT NULL,
    issue_usd   numeric,
    day_usd     numeric
);
