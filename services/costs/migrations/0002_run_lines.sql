-- Output lines from `runlogs`, in stream order. Not events: a rebuild keeps them (they are not in the event store).
-- entry_ms/entry_seq are the stream entry id, so a line delivered twice is stored once and lines keep their order.
CREATE TABLE run_lines (
    entry_ms  bigint NOT NULL,
    entry_seq bigint NOT NULL,
    run_id    text,
    agent     text NOT NULL,
    repo      text NOT NULL DEFAULT '',
    number    integer,
    ts        text NOT NULL DEFAULT '',
    level     text NOT NULL DEFAULT 'info',
    message   text NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (entry_ms, entry_seq)
);
CREATE INDEX run_lines_run ON run_lines (run_id, entry_ms, entry_seq) WHERE run_id IS NOT NULL;
