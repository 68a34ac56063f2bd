-- Per partition and run: the run, the report's status and how many figures it links. Runs inside
-- the lineage write's transaction, after the report's figures are written.
SELECT r.partition_key, r.execution_id AS run_id, r.pipeline_type, w.job_name, w.status AS run_status,
       r.status AS report_status, w.external_execution_id, f.figures
FROM reporting.pipeline_execution_reports r
JOIN reporting.workflow_executions w ON w.run_id = r.execution_id
CROSS JOIN LATERAL (
    SELECT count(*) AS figures FROM reporting.report_lineage l WHERE l.report_id = r.id
) f
WHERE r.partition_key = ANY(%(partition_keys)s)
ORDER BY r.partition_key, r.run_started_at NULLS FIRST, r.pipeline_type
