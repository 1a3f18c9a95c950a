-- Events agents and people posted that carry an identity of their own (a client-given id, a client-given key, or
-- a natural key such as a run's end): a retried post finds its first event here instead of making a second.
CREATE TABLE reported_events (
    event_id    uuid PRIMARY KEY,
    source      text NOT NULL,
    key         text NOT NULL,
    type        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, key)
);
CREATE INDEX reported_events_received_at ON reported_events (received_at);

-- Runs the public agent runtime opened with POST /api/execution-logs: the id it got back finds the run again.
CREATE TABLE runs (
    run_id       uuid PRIMARY KEY,
    agent        text NOT NULL,
    repo         text NOT NULL,
    issue_number integer NOT NULL,
    model        text NOT NULL DEFAULT '',
    steps        integer NOT NULL DEFAULT 0,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);

-- Revocations made through the admin API, with who asked and why (TOKEN_REVOKED carries no reason).
CREATE TABLE revocations (
    jti        text PRIMARY KEY,
    event_id   uuid NOT NULL,
    reason     text NOT NULL DEFAULT '',
    revoked_by text NOT NULL,
    expires_at timestamptz,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
