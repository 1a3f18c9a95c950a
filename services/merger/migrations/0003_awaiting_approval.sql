-- Merge requests by {repo, prNumber} that came before their approval was projected (the public runtime asks as
-- soon as it approved and never again): acted on when REVIEW_PASSED arrives, else they expire with a reason.
CREATE TABLE awaiting_approval (
    repo_key     text NOT NULL,
    pr_number    integer NOT NULL,
    repo         text NOT NULL,
    requested_by text NOT NULL,
    -- awaiting | acted (a merge request was recorded at the approved SHA) | expired | stopped (PR closed)
    state        text NOT NULL DEFAULT 'awaiting',
    reason       text NOT NULL DEFAULT 'waiting for the approval',
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repo_key, pr_number)
);
