-- Ids of the events this service has handled, written in the same transaction as the projection change.
CREATE TABLE inbox (
    event_id   uuid PRIMARY KEY,
    handled_at timestamptz NOT NULL DEFAULT now()
);
