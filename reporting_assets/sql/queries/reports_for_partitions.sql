SELECT id, execution_id, pipeline_type, customer_key, customer_name, execution_date,
       partition_key, status, markdown_content, summary_json, metrics_json,
       run_started_at, generated_at, event_storage_id
FROM reporting.pipeline_execution_reports
WHERE partition_key = ANY(%(partition_keys)s)
ORDER BY partition_key, run_started_at NULLS FIRST, event_storage_id NULLS FIRST, id
