-- The pipeline registry: every pipeline whose runs get execution reports, lineage and summaries.
-- A pipeline is registered by `reporting-assets pipelines add` (no package edit): its type (the
-- contract's pipeline_type), display name, the Dagster asset key its runs materialize (an asset of
-- any code location on the instance, or one that only external reports materialize), the source
-- system automation reports group it under, the link to an external run (`{id}` is replaced by
-- the external execution id; http and https only) and whether every customer is expected to run
-- it daily. The report labels name the report's "new" and "updated" rows.
CREATE TABLE reporting.pipelines (
    pipeline_type varchar(100) PRIMARY KEY CHECK (pipeline_type ~ '^[a-z][a-z0-9_]{0,99}$'),
    display_name varchar(255) NOT NULL
        CHECK (length(btrim(display_name)) > 0 AND display_name !~ '[\u0001-\u001f\u007f-\u009f\u2028\u2029]'),
    asset_key text NOT NULL UNIQUE CHECK (asset_key ~ '^[A-Za-z0-9_]+(/[A-Za-z0-9_]+)*$'),
    source_system varchar(100) NOT NULL CHECK (source_system ~ '^[a-z][a-z0-9_]{0,99}$'),
    run_link_template text
        CHECK (run_link_template ~* '^https?://[^[:space:]]+$' AND run_link_template LIKE '%{id}%'),
    expected_daily boolean NOT NULL DEFAULT true,
    new_label varchar(100) NOT NULL DEFAULT 'New Records',
    updated_label varchar(100) NOT NULL DEFAULT 'Updated Records',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The sample pipelines and the sync job.
INSERT INTO reporting.pipelines
    (pipeline_type, display_name, asset_key, source_system, expected_daily, new_label, updated_label)
VALUES
    ('order_sync', 'Order Sync', 'order_sync', 'order_sync', true, 'New Orders', 'Updated Orders'),
    ('manufacturing_sync', 'Manufacturing Sync', 'manufacturing_sync', 'manufacturing_sync', true,
     'Orders Entering Production', 'Production Updates'),
    ('shipping_sync', 'Shipping Sync', 'shipping_sync', 'shipping_sync', true,
     'Orders Ready to Ship', 'Shipping Updates'),
    ('sync_order_list', 'Sync Order List', 'sync_order_list', 'sync_order_list', false,
     'New Records', 'Updated Records')
ON CONFLICT (pipeline_type) DO NOTHING;

-- Where a run came from: a Dagster run, or a report sent from outside Dagster (save(),
-- `reporting-assets report-run`, POST /api/pipeline-runs), recorded as a runless event.
ALTER TABLE reporting.workflow_executions
    ADD COLUMN source varchar(20) NOT NULL DEFAULT 'dagster' CHECK (source IN ('dagster', 'external'));
ALTER TABLE reporting.pipeline_execution_reports
    DROP CONSTRAINT pipeline_execution_reports_source_event_check,
    ADD CONSTRAINT pipeline_execution_reports_source_event_check
        CHECK (source_event IN ('materialization', 'observation', 'run_failure', 'external'));

-- Automation reports group actions by the registry's source system (a pipeline that is not
-- registered is its own source, as before).
CREATE OR REPLACE VIEW reporting.automation_actions AS
SELECT coalesce(pl.source_system, p.pipeline_type) AS source,
       p.run_id,
       e.job_name,
       p.customer_key,
       p.execution_date,
       p.partition_key,
       p.status,
       e.started_at,
       e.completed_at,
       coalesce((r.metrics_json ->> 'execution_time_seconds')::double precision,
                extract(epoch FROM e.completed_at - e.started_at)::double precision) AS seconds,
       r.customer_name,
       r.contract_json -> 'errors' AS errors
FROM reporting.workflow_execution_partitions p
JOIN reporting.workflow_executions e ON e.run_id = p.run_id
LEFT JOIN reporting.pipelines pl ON pl.pipeline_type = p.pipeline_type
LEFT JOIN reporting.pipeline_execution_reports r
       ON r.execution_id = p.run_id AND r.pipeline_type = p.pipeline_type
      AND r.customer_key = p.customer_key AND r.execution_date = p.execution_date;
