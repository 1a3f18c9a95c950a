-- Redeliveries the missed-delivery sweep asked GitHub for, one row per delivery GUID, so several ingest
-- processes (and later passes) do not ask twice for a delivery whose redelivery is still on its way.
CREATE TABLE redeliveries (
    guid           text PRIMARY KEY,
    event          text NOT NULL,
    attempts       integer NOT NULL,
    last_asked_at  timestamptz NOT NULL,
    newest_id_then bigint NOT NULL,   -- the newest delivery id listed when we last asked
    recovered_at   timestamptz        -- set by the first pass that finds the GUID stored
);
CREATE INDEX redeliveries_unrecovered ON redeliveries (guid) WHERE recovered_at IS NULL;

-- When the last sweep pass finished, so that several ingest processes make one pass per interval between them.
CREATE TABLE sweep_passes (
    name        text PRIMARY KEY,
    finished_at timestamptz NOT NULL
);
