-- When each (run, pipeline, customer, day) report was first generated, so re-renders keep it.
SELECT execution_id, pipeline_type, customer_key, execution_date, generated_at
FROM reporting.pipeline_execution_reports
WHERE partition_key = ANY(%(partition_keys)s)
