-- The router's projection: one row per work item (the state machine's item as JSON, its policy, the issue's text).
CREATE TABLE work_items (
    subject     text PRIMARY KEY,
    repo        text NOT NULL,
    number      integer NOT NULL,
    state       text NOT NULL,
    item        jsonb NOT NULL,
    policy      jsonb NOT NULL DEFAULT '{}',
    details     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- What each event did to its item: applied, duplicate (its key was acted on), anomaly, or not routed on.
CREATE TABLE work_item_history (
    seq          bigserial PRIMARY KEY,
    subject      text NOT NULL,
    event_id     uuid NOT NULL,
    type         text NOT NULL,
    key          text NOT NULL,
    outcome      text NOT NULL,
    state_before text,
    state_after  text,
    anomaly      text,
    decisions    jsonb NOT NULL DEFAULT '[]',
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_item_history_subject ON work_item_history (subject, seq);

-- Every assignment handed out; pull-mode pools (ibuild-e) take theirs from here with a lease.
CREATE TABLE assignments (
    id           uuid PRIMARY KEY,
    subject      text NOT NULL,
    agent        text NOT NULL,
    kind         text NOT NULL,
    attempt      integer NOT NULL DEFAULT 1,
    fields       jsonb NOT NULL,
    status       text NOT NULL DEFAULT 'waiting',
    leased_by    text,
    lease_until  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    closed_at    timestamptz
);
CREATE INDEX assignments_open ON assignments (agent, created_at) WHERE status IN ('waiting', 'leased', 'running');
CREATE INDEX assignments_subject ON assignments (subject);

-- `.rig-agent.yaml` readings by blob SHA: a file seen before is not parsed or validated again.
CREATE TABLE repo_configs (
    sha       text PRIMARY KEY,
    repo      text NOT NULL,
    config    jsonb,
    problems  jsonb NOT NULL DEFAULT '[]',
    read_at   timestamptz NOT NULL DEFAULT now()
);

-- Comments to post on GitHub, written with the decision; posted after the commit, once (hidden marker).
CREATE TABLE comments (
    key        text PRIMARY KEY,
    repo       text NOT NULL,
    number     integer NOT NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    posted_at  timestamptz,
    url        text,
    attempts   integer NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX comments_pending ON comments (created_at) WHERE posted_at IS NULL;

-- What agents learned about a repository (docs/design.md section 9).
CREATE TABLE repo_learnings (
    repo       text NOT NULL,
    key        text NOT NULL,
    value      text NOT NULL,
    agent_id   text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repo, key)
);
