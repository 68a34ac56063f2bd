-- Customers, per-execution reports (docs/report-format.md) and workflow lineage.
CREATE SCHEMA IF NOT EXISTS reporting;

-- A leaf walk of a JSONB document: one row per scalar with its dotted path
-- ("counts.new", "shipping.shipped_by_carrier.FedEx", "items[0].qty"). Used both when lineage
-- is written and when it is verified, so the two can never disagree on paths.
CREATE OR REPLACE FUNCTION reporting.jsonb_leaves(doc jsonb)
RETURNS TABLE (path text, value jsonb)
LANGUAGE sql IMMUTABLE AS $$
    WITH RECURSIVE walk(path, value) AS (
        SELECT e.key, e.value FROM jsonb_each(CASE WHEN jsonb_typeof(doc) = 'object' THEN doc END) e
        UNION ALL
        SELECT w.path || c.suffix, c.value
        FROM walk w
        CROSS JOIN LATERAL (
            SELECT '.' || o.key AS suffix, o.value
            FROM jsonb_each(CASE WHEN jsonb_typeof(w.value) = 'object' THEN w.value END) o
            UNION ALL
            SELECT '[' || (a.ord - 1) || ']', a.value
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(w.value) = 'array' THEN w.value END)
                 WITH ORDINALITY AS a(value, ord)
        ) c
        WHERE jsonb_typeof(w.value) IN ('object', 'array')
    )
    SELECT path, value FROM walk WHERE jsonb_typeof(value) NOT IN ('object', 'array')
$$;

CREATE TABLE reporting.customers (
    partition_key text PRIMARY KEY
        CHECK (partition_key ~ '^[A-Za-z0-9][A-Za-z0-9 &''._-]{0,99}$'
               AND partition_key !~ '\.\.' AND partition_key = btrim(partition_key)),
    display_name varchar(255) NOT NULL CHECK (length(btrim(display_name)) > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The execution reports. One row per (run, pipeline, customer, day): a day may have many
-- executions and one batched run may cover many days. One report per
-- (customer_name, execution_date, pipeline_type) is the view below.
CREATE TABLE reporting.pipeline_execution_reports (
    id bigserial PRIMARY KEY,
    customer_name varchar(255) NOT NULL,
    customer_key text NOT NULL,
    execution_date date NOT NULL,
    pipeline_type varchar(100) NOT NULL CHECK (pipeline_type ~ '^[a-z][a-z0-9_]{0,99}$'),
    execution_id varchar(255) NOT NULL,          -- the Dagster run id
    external_execution_id varchar(255),          -- e.g. a Kestra or AMC execution id
    partition_key text NOT NULL,
    status varchar(50) NOT NULL CHECK (status IN ('success', 'failed', 'partial')),
    source_event varchar(20) NOT NULL
        CHECK (source_event IN ('materialization', 'observation', 'run_failure')),
    event_storage_id bigint,                     -- the Dagster event that carried the contract
    run_started_at timestamptz,
    markdown_content text NOT NULL,
    summary_json jsonb NOT NULL,
    metrics_json jsonb,
    contract_json jsonb NOT NULL,                -- the validated contract, for audit and re-render
    content_hash char(64) NOT NULL,
    generated_at timestamptz NOT NULL,           -- first generation; kept on re-render
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pipeline_execution_reports_one_per_run
        UNIQUE (execution_id, pipeline_type, customer_key, execution_date)
);
CREATE INDEX pipeline_execution_reports_customer_day
    ON reporting.pipeline_execution_reports (customer_key, execution_date, pipeline_type);
CREATE INDEX pipeline_execution_reports_partition
    ON reporting.pipeline_execution_reports (partition_key);

CREATE VIEW reporting.latest_pipeline_execution_reports AS
SELECT DISTINCT ON (customer_key, execution_date, pipeline_type) *
FROM reporting.pipeline_execution_reports
ORDER BY customer_key, execution_date, pipeline_type,
         run_started_at DESC NULLS LAST, event_storage_id DESC NULLS LAST, id DESC;

-- Workflow lineage: every run that produced a report, and what it produced.
CREATE TABLE reporting.workflow_executions (
    run_id varchar(255) PRIMARY KEY,
    job_name text NOT NULL,
    status varchar(20) NOT NULL
        CHECK (status IN ('queued', 'starting', 'started', 'success', 'failed', 'canceled', 'unknown')),
    started_at timestamptz,
    completed_at timestamptz,
    external_execution_id varchar(255),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reporting.workflow_execution_partitions (
    id bigserial PRIMARY KEY,
    run_id varchar(255) NOT NULL REFERENCES reporting.workflow_executions (run_id) ON DELETE CASCADE,
    pipeline_type varchar(100) NOT NULL,
    customer_key text NOT NULL,
    execution_date date NOT NULL,
    partition_key text NOT NULL,
    status varchar(50) NOT NULL CHECK (status IN ('success', 'failed', 'partial')),
    record_count integer NOT NULL DEFAULT 0 CHECK (record_count >= 0),
    external_execution_id varchar(255),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, pipeline_type, customer_key, execution_date)
);
CREATE INDEX workflow_execution_partitions_customer_day
    ON reporting.workflow_execution_partitions (customer_key, execution_date);

CREATE TABLE reporting.report_lineage (
    id bigserial PRIMARY KEY,
    report_id bigint NOT NULL
        REFERENCES reporting.pipeline_execution_reports (id) ON DELETE CASCADE,
    figure_path text NOT NULL,
    figure_value jsonb NOT NULL,
    run_id varchar(255) NOT NULL REFERENCES reporting.workflow_executions (run_id),
    execution_partition_id bigint NOT NULL
        REFERENCES reporting.workflow_execution_partitions (id) ON DELETE CASCADE,
    event_storage_id bigint,
    external_execution_id varchar(255),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (report_id, figure_path)
);
CREATE INDEX report_lineage_run ON reporting.report_lineage (run_id);
