SELECT execution_id AS run_id, max(external_execution_id) AS external_execution_id
FROM reporting.pipeline_execution_reports
WHERE partition_key = ANY(%(partition_keys)s)
GROUP BY execution_id
ORDER BY execution_id
