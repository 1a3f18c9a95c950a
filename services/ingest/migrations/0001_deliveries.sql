-- Every webhook delivery we accepted, keyed by GitHub's X-GitHub-Delivery guid (a redelivery keeps it).
CREATE TABLE deliveries (
    guid        text PRIMARY KEY,
    event       text NOT NULL,
    action      text,
    received_at timestamptz NOT NULL DEFAULT now(),
    payload     jsonb NOT NULL
);
CREATE INDEX deliveries_received_at ON deliveries (received_at);

-- Pull requests seen in webhooks and the issue each closes (null: no closing keyword); repo in lower case.
CREATE TABLE pull_requests (
    repo         text NOT NULL,
    pr_number    integer NOT NULL,
    issue_number integer,
    head_sha     text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repo, pr_number)
);

-- Head SHA -> pull request, so checks on a commit find their work item (fork PRs list no pull_requests).
CREATE TABLE heads (
    repo      text NOT NULL,
    sha       text NOT NULL,
    pr_number integer NOT NULL,
    PRIMARY KEY (repo, sha)
);
