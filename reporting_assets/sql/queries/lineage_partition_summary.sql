-- Per partition and run: the run, the report's status and how many figures it links. Runs inside
-- the lineage write's transaction, counting the figures from the leaves just computed.
SELECT r.partition_key, r.execution_id AS run_id, r.pipeline_type, w.job_name, w.status AS run_status,
       r.status AS report_status, w.external_execution_id, COALESCE(f.figures, 0) AS figures
FROM reporting.pipeline_execution_reports r
JOIN reporting.workflow_executions w ON w.run_id = r.execution_id
LEFT JOIN (SELECT report_id, count(*) AS figures FROM lineage_leaves GROUP BY report_id) f
       ON f.report_id = r.id
WHERE r.partition_key = ANY(%(partition_keys)s)
ORDER BY r.partition_key, r.run_started_at NULLS FIRST, r.pipeline_type
