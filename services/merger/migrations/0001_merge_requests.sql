-- Merge requests: one per (repository, PR, approved head SHA), however often it is asked for.
-- repo keeps the spelling GitHub is called with; repo_key is its lower case, for matching events.
CREATE TABLE merge_requests (
    id               bigserial PRIMARY KEY,
    repo             text NOT NULL,
    repo_key         text NOT NULL,
    pr_number        integer NOT NULL,
    head_sha         text NOT NULL,
    subject          text NOT NULL,
    requested_by     text NOT NULL,
    request_event_id uuid NOT NULL,
    -- waiting | blocked (both still evaluated) | merged (merge call done) | done (MERGED seen) | stopped
    state            text NOT NULL DEFAULT 'waiting',
    reason           text NOT NULL DEFAULT 'requested',
    detail           text NOT NULL DEFAULT '',
    blocks           integer NOT NULL DEFAULT 0,
    unknown_tries    integer NOT NULL DEFAULT 0,
    error_tries      integer NOT NULL DEFAULT 0,
    due_at           timestamptz DEFAULT now(),
    lease_until      timestamptz,
    merge_sha        text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (repo_key, pr_number, head_sha)
);
CREATE INDEX merge_requests_due ON merge_requests (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX merge_requests_pr ON merge_requests (repo_key, pr_number);

-- What the events said about each PR: its work item, head, latest approval, labels, whether it ended.
CREATE TABLE pulls (
    repo_key           text NOT NULL,
    pr_number          integer NOT NULL,
    subject            text,
    head_sha           text,
    approved_sha       text,
    approved_review_id bigint,
    labels             text[],
    closed             boolean NOT NULL DEFAULT false,
    merge_sha          text,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repo_key, pr_number)
);

-- Work items whose ISSUE_DONE was written, so it is written once however often MERGED arrives.
CREATE TABLE done_items (
    subject   text PRIMARY KEY,
    pr_number integer NOT NULL,
    merge_sha text NOT NULL,
    done_at   timestamptz NOT NULL DEFAULT now()
);
