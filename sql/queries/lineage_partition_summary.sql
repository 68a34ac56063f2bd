SELECT r.partition_key, r.execution_id AS run_id, r.pipeline_type, w.job_name, w.status AS run_status,
       r.status AS report_status, w.external_execution_id, count(l.id) AS figures
FROM reporting.pipeline_execution_reports r
JOIN reporting.workflow_executions w ON w.run_id = r.execution_id
LEFT JOIN reporting.report_lineage l ON l.report_id = r.id
WHERE r.partition_key = ANY(%(partition_keys)s)
GROUP BY r.partition_key, r.execution_id, r.pipeline_type, w.job_name, w.status, r.status,
         w.external_execution_id, r.run_started_at
ORDER BY r.partition_key, r.run_started_at NULLS FIRST, r.pipeline_type
