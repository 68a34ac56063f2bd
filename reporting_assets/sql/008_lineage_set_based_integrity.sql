-- report_lineage keeps its integrity with statement-level triggers instead of row-level foreign
-- keys, and its natural key instead of a surrogate one. A lineage write inserts ~15 rows per report (one per figure); the two foreign keys ran
-- two row-level RI triggers per row, about half of the lineage write time in
-- benchmarks/render_store.py. The triggers below check and lock each parent once per statement
-- (set-based), and cascade parent deletes the same way, so the guarantees are those of the
-- foreign keys: no lineage row names a report or execution partition that does not exist.

ALTER TABLE reporting.report_lineage DROP CONSTRAINT IF EXISTS report_lineage_report_id_fkey;
ALTER TABLE reporting.report_lineage
    DROP CONSTRAINT IF EXISTS report_lineage_execution_partition_id_fkey;

-- A row is one figure of one report: (report_id, figure_path) is its key, and the surrogate id
-- (a third index to maintain per row, referenced by nothing) goes.
ALTER TABLE reporting.report_lineage
    DROP CONSTRAINT report_lineage_pkey,
    DROP CONSTRAINT report_lineage_report_id_figure_path_key,
    DROP COLUMN id,
    ADD PRIMARY KEY (report_id, figure_path);

CREATE FUNCTION reporting.report_lineage_check_parents() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    orphan record;
BEGIN
    -- Lock the parents the rows name, as a foreign key would: a concurrent delete waits for us,
    -- then its cascade removes these rows.
    PERFORM 1 FROM reporting.pipeline_execution_reports r
     WHERE r.id IN (SELECT DISTINCT report_id FROM new_rows)
       FOR KEY SHARE;
    PERFORM 1 FROM reporting.workflow_execution_partitions p
     WHERE p.id IN (SELECT DISTINCT execution_partition_id FROM new_rows)
       FOR KEY SHARE;
    SELECT n.report_id, n.execution_partition_id, n.figure_path INTO orphan
      FROM new_rows n
     WHERE NOT EXISTS (SELECT 1 FROM reporting.pipeline_execution_reports r WHERE r.id = n.report_id)
        OR NOT EXISTS (SELECT 1 FROM reporting.workflow_execution_partitions p
                        WHERE p.id = n.execution_partition_id)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'foreign_key_violation',
            MESSAGE = format(
                'report_lineage row for figure %s names report %s and execution partition %s, '
                'and one of them does not exist',
                orphan.figure_path, orphan.report_id, orphan.execution_partition_id),
            HINT = 'Lineage is written from stored reports; re-materialize workflow_lineage for '
                   'the partition after its execution_reports.';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER report_lineage_parents_on_insert
    AFTER INSERT ON reporting.report_lineage
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reporting.report_lineage_check_parents();

CREATE TRIGGER report_lineage_parents_on_update
    AFTER UPDATE ON reporting.report_lineage
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reporting.report_lineage_check_parents();

-- Deleting parents deletes their lineage rows; the trigger argument names the referencing column.
CREATE FUNCTION reporting.report_lineage_cascade() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DELETE FROM reporting.report_lineage l USING old_rows o WHERE l.%I = o.id',
                   TG_ARGV[0]);
    RETURN NULL;
END
$$;

CREATE TRIGGER report_lineage_cascade
    AFTER DELETE ON reporting.pipeline_execution_reports
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reporting.report_lineage_cascade('report_id');

CREATE TRIGGER report_lineage_cascade
    AFTER DELETE ON reporting.workflow_execution_partitions
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reporting.report_lineage_cascade('execution_partition_id');

-- Parent ids are identity values and never change; refuse an update that would orphan rows.
CREATE FUNCTION reporting.refuse_id_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'foreign_key_violation',
        MESSAGE = format('%I.%I ids are referenced by report_lineage and cannot change (id %s -> %s)',
                         TG_TABLE_SCHEMA, TG_TABLE_NAME, OLD.id, NEW.id);
END
$$;

CREATE TRIGGER report_lineage_parent_id_fixed
    BEFORE UPDATE OF id ON reporting.pipeline_execution_reports
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION reporting.refuse_id_change();

CREATE TRIGGER report_lineage_parent_id_fixed
    BEFORE UPDATE OF id ON reporting.workflow_execution_partitions
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION reporting.refuse_id_change();

-- TRUNCATE of a parent empties lineage too (a foreign key would have demanded CASCADE).
CREATE FUNCTION reporting.report_lineage_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reporting.report_lineage;  -- TRUNCATE would clash when the same statement truncates it
    RETURN NULL;
END
$$;

CREATE TRIGGER report_lineage_truncate
    AFTER TRUNCATE ON reporting.pipeline_execution_reports
    FOR EACH STATEMENT EXECUTE FUNCTION reporting.report_lineage_truncate();

CREATE TRIGGER report_lineage_truncate
    AFTER TRUNCATE ON reporting.workflow_execution_partitions
    FOR EACH STATEMENT EXECUTE FUNCTION reporting.report_lineage_truncate();
