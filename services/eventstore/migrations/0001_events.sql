-- Every event, append-only, numbered by our own sequence in arrival order (ids from many producers are not).
CREATE TABLE events (
    seq         bigserial PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE,
    type        text NOT NULL,
    v           integer NOT NULL,
    source      text NOT NULL,
    subject     text NOT NULL,
    key         text NOT NULL,
    at          timestamptz NOT NULL,
    body        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_subject ON events (subject, seq);
CREATE INDEX events_type ON events (type, seq);
CREATE INDEX events_at ON events (at);

-- Append-only: the store refuses to change or remove what it holds.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event store is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
