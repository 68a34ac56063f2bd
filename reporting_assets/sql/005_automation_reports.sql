-- Automation reports (docs/automation.md): one row per source system (pipeline type) and report window,
-- written by the automation_reports asset (schedule 04:00 and 21:00 UTC). The report's JSON
-- document is kept whole in `report` (metadata, performance_metrics, system_health,
-- recommendations, plus `details` when detailed); the headline figures are columns too, so
-- history and alerts can be queried without unpacking JSON. docs/automation.md explains it.

CREATE TABLE reporting.automation_reports (
    id bigserial PRIMARY KEY,
    source varchar(100) NOT NULL CHECK (source ~ '^[a-z][a-z0-9_]{0,99}$'),
    report_time timestamptz NOT NULL,            -- end of the window (exclusive) = report_generated_at
    window_start timestamptz NOT NULL,
    time_window_hours integer NOT NULL CHECK (time_window_hours BETWEEN 1 AND 720),
    report_type varchar(10) NOT NULL CHECK (report_type IN ('standard', 'fallback')),
    detailed boolean NOT NULL DEFAULT false,
    run_id varchar(255),                         -- the Dagster run that wrote it
    total_actions integer NOT NULL CHECK (total_actions >= 0),
    successful_actions integer NOT NULL CHECK (successful_actions >= 0),
    failed_actions integer NOT NULL CHECK (failed_actions >= 0),
    partial_actions integer NOT NULL CHECK (partial_actions >= 0),
    success_rate double precision CHECK (success_rate BETWEEN 0 AND 1),   -- NULL: no actions
    below_alert_threshold boolean NOT NULL DEFAULT false,
    report jsonb NOT NULL CHECK (jsonb_typeof(report) = 'object'),
    content_hash char(64) NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT automation_reports_window CHECK (
        window_start = report_time - make_interval(hours => time_window_hours)),
    CONSTRAINT automation_reports_counts CHECK (
        successful_actions + failed_actions + partial_actions = total_actions),
    CONSTRAINT automation_reports_once UNIQUE (source, report_time, time_window_hours)
);
CREATE INDEX automation_reports_time ON reporting.automation_reports (report_time DESC);
CREATE INDEX automation_reports_run ON reporting.automation_reports (run_id);

-- Window queries find runs by start time, so a report costs the rows of its window, not the
-- whole history.
CREATE INDEX IF NOT EXISTS workflow_executions_started_at ON reporting.workflow_executions (started_at);
-- The list of known sources (every pipeline type that ever reported) is a loose index scan.
CREATE INDEX IF NOT EXISTS workflow_execution_partitions_pipeline
    ON reporting.workflow_execution_partitions (pipeline_type);

-- What an automation report counts: one action per run x pipeline x customer x day of the
-- lineage, placed in time by its run's start. `seconds` is the pipeline's own execution time
-- from its report (else the run's duration). Queries filter on started_at, so the planner uses
-- the index above; columns from the reports table are only joined when a query reads them.
CREATE VIEW reporting.automation_actions AS
SELECT p.pipeline_type AS source,
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
LEFT JOIN reporting.pipeline_execution_reports r
       ON r.execution_id = p.run_id AND r.pipeline_type = p.pipeline_type
      AND r.customer_key = p.customer_key AND r.execution_date = p.execution_date;
