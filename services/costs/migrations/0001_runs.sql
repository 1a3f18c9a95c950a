-- Execution logs, projected from RUN_STARTED / RUN_STEP / RUN_FINISHED and TOKEN_USAGE (rebuildable: `rig replay`).
-- Costs are numeric dollars, API-equivalent (a subscription-authenticated run is not a bill). NULL cost_usd means
-- unpriced (a model the price table does not know), never $0.
CREATE TABLE runs (
    run_id             text PRIMARY KEY,
    agent              text,
    repo               text,
    repo_key           text,
    number             integer,
    subject            text,
    pr_number          integer,
    provider           text NOT NULL DEFAULT '',
    model              text NOT NULL DEFAULT '',
    -- running (no RUN_FINISHED yet) | succeeded | failed | stopped | escalated | …
    status             text NOT NULL DEFAULT 'running',
    started_at         timestamptz,
    finished_at        timestamptz,
    duration_ms        bigint,
    duration_api_ms    bigint,
    turns              integer NOT NULL DEFAULT 0,
    input_tokens       bigint NOT NULL DEFAULT 0,
    output_tokens      bigint NOT NULL DEFAULT 0,
    cache_read_tokens  bigint NOT NULL DEFAULT 0,
    cache_write_tokens bigint NOT NULL DEFAULT 0,
    -- ours, recomputed from the four buckets with price_source's table
    cost_usd           numeric,
    -- what the agent reported as our cost in RUN_FINISHED, kept for audit
    reported_cost_usd  numeric,
    -- the provider's own figure (Claude Code's total_cost_usd), if it gives one
    provider_cost_usd  numeric,
    price_source       text,
    -- ours and the provider's differ by more than 1%
    cost_gap           boolean NOT NULL DEFAULT false,
    -- the UTC day the run started, for roll-ups by day without formatting every row
    day                date GENERATED ALWAYS AS ((started_at AT TIME ZONE 'UTC')::date) STORED
);
CREATE INDEX runs_started ON runs (started_at DESC, run_id DESC);
-- the work item (issue) a run was for: its events' subject (a review run's number is its PR's)
CREATE INDEX runs_subject ON runs (lower(subject), started_at);
CREATE INDEX runs_repo ON runs (repo_key, started_at);
CREATE INDEX runs_agent ON runs (agent, started_at DESC);

-- One row per RUN_STEP event (a step reported started, then succeeded, is two rows: the latest is its state).
CREATE TABLE run_steps (
    run_id             text NOT NULL,
    position           integer NOT NULL,
    step               text NOT NULL,
    status             text NOT NULL,
    detail             text NOT NULL DEFAULT '',
    turns              integer NOT NULL DEFAULT 0,
    input_tokens       bigint NOT NULL DEFAULT 0,
    output_tokens      bigint NOT NULL DEFAULT 0,
    cache_read_tokens  bigint NOT NULL DEFAULT 0,
    cache_write_tokens bigint NOT NULL DEFAULT 0,
    cost_usd           numeric,
    reported_cost_usd  numeric,
    at                 timestamptz NOT NULL,
    PRIMARY KEY (run_id, position)
);

-- Model calls outside a run (TOKEN_USAGE), by category: work, idle, chat.
CREATE TABLE token_usage (
    event_id           uuid PRIMARY KEY,
    agent              text NOT NULL,
    model              text NOT NULL,
    category           text NOT NULL,
    input_tokens       bigint NOT NULL DEFAULT 0,
    output_tokens      bigint NOT NULL DEFAULT 0,
    cache_read_tokens  bigint NOT NULL DEFAULT 0,
    cache_write_tokens bigint NOT NULL DEFAULT 0,
    cost_usd           numeric,
    reported_cost_usd  numeric,
    price_source       text,
    at                 timestamptz NOT NULL
);
CREATE INDEX token_usage_at ON token_usage (at);
