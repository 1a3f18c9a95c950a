-- Sums of the runs per UTC day (and agent, repository, status), so GET /api/costs?group_by=day reads a few rows
-- per day instead of every run. Kept by statement triggers on runs, so every write keeps it exact (the projection,
-- a rebuild, a hand fix); TRUNCATE fires none of them, which is why projection.reset truncates both tables.
-- NULL cost is unpriced, never $0: `priced` counts the runs whose cost is known (cost_usd is their sum), and
-- `provider_known` the runs with the provider's own figure.
CREATE TABLE run_days (
    day                date,
    agent              text,
    repo_key           text,
    status             text NOT NULL,
    runs               bigint NOT NULL,
    input_tokens       bigint NOT NULL,
    output_tokens      bigint NOT NULL,
    cache_read_tokens  bigint NOT NULL,
    cache_write_tokens bigint NOT NULL,
    cost_usd           numeric NOT NULL,
    priced             bigint NOT NULL,
    provider_cost_usd  numeric NOT NULL,
    provider_known     bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (day, agent, repo_key, status)
);
-- groups left without runs are deleted after each change; this finds them without a scan
CREATE INDEX run_days_empty ON run_days (day) WHERE runs = 0;

-- Adds the rows `added` and takes away the rows `removed` (a statement's transition tables). PL/pgSQL rather than
-- SQL: a session plans its statements once, not at every call.
CREATE FUNCTION run_days_change(removed runs[], added runs[]) RETURNS void LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    IF cardinality(removed) = 0 AND cardinality(added) = 0 THEN
        RETURN;  -- an upsert that only inserted still fires the UPDATE trigger, with nothing in it
    END IF;
    INSERT INTO run_days AS d
    SELECT c.day, c.agent, c.repo_key, c.status, sum(c.sign), sum(c.sign * c.input_tokens),
           sum(c.sign * c.output_tokens), sum(c.sign * c.cache_read_tokens), sum(c.sign * c.cache_write_tokens),
           coalesce(sum(c.sign * c.cost_usd), 0), count(c.cost_usd) FILTER (WHERE c.sign > 0)
               - count(c.cost_usd) FILTER (WHERE c.sign < 0),
           coalesce(sum(c.sign * c.provider_cost_usd), 0), count(c.provider_cost_usd) FILTER (WHERE c.sign > 0)
               - count(c.provider_cost_usd) FILTER (WHERE c.sign < 0)
    FROM (SELECT -1 AS sign, o.* FROM unnest(removed) o UNION ALL SELECT 1, n.* FROM unnest(added) n) c
    GROUP BY c.day, c.agent, c.repo_key, c.status
    ON CONFLICT (day, agent, repo_key, status) DO UPDATE SET
        runs = d.runs + excluded.runs, input_tokens = d.input_tokens + excluded.input_tokens,
        output_tokens = d.output_tokens + excluded.output_tokens,
        cache_read_tokens = d.cache_read_tokens + excluded.cache_read_tokens,
        cache_write_tokens = d.cache_write_tokens + excluded.cache_write_tokens,
        cost_usd = d.cost_usd + excluded.cost_usd, priced = d.priced + excluded.priced,
        provider_cost_usd = d.provider_cost_usd + excluded.provider_cost_usd,
        provider_known = d.provider_known + excluded.provider_known;
    DELETE FROM run_days WHERE runs = 0;
END $$;

CREATE FUNCTION run_days_inserted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM run_days_change('{}', ARRAY(SELECT n::runs FROM added_runs n));
    RETURN NULL;
END $$;

CREATE FUNCTION run_days_updated() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM run_days_change(ARRAY(SELECT o::runs FROM removed_runs o), ARRAY(SELECT n::runs FROM added_runs n));
    RETURN NULL;
END $$;

CREATE FUNCTION run_days_deleted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM run_days_change(ARRAY(SELECT o::runs FROM removed_runs o), '{}');
    RETURN NULL;
END $$;

-- no writer while the existing runs are summed, so none is missed or counted twice
LOCK TABLE runs IN SHARE MODE;
SELECT run_days_change('{}', ARRAY(SELECT r FROM runs r));

CREATE TRIGGER run_days_inserted AFTER INSERT ON runs REFERENCING NEW TABLE AS added_runs
    FOR EACH STATEMENT EXECUTE FUNCTION run_days_inserted();
CREATE TRIGGER run_days_updated AFTER UPDATE ON runs REFERENCING OLD TABLE AS removed_runs NEW TABLE AS added_runs
    FOR EACH STATEMENT EXECUTE FUNCTION run_days_updated();
CREATE TRIGGER run_days_deleted AFTER DELETE ON runs REFERENCING OLD TABLE AS removed_runs
    FOR EACH STATEMENT EXECUTE FUNCTION run_days_deleted();
