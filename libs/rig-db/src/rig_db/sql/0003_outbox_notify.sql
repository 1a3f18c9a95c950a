-- A commit that wrote outbox rows wakes the relay (NOTIFY is sent at commit, once per transaction and schema),
-- so a writer needs no round trip of its own for it. A statement that inserted no row (an empty batch folded
-- into a larger statement) notifies nobody.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM inserted) THEN
        PERFORM pg_notify('rig_outbox', TG_TABLE_SCHEMA);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
