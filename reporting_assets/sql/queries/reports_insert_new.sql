-- First write of the staged reports: a plain insert (see reporting_assets/db/first_write.py).
INSERT INTO reporting.pipeline_execution_reports AS r (
    customer_name, customer_key, execution_date, pipeline_type, execution_id,
    external_execution_id, partition_key, status, source_event, event_storage_id, run_started_at,
    markdown_content, summary_json, metrics_json, contract_json, content_hash, generated_at)
SELECT customer_name, customer_key, execution_date, pipeline_type, execution_id,
       external_execution_id, partition_key, status, source_event, event_storage_id, run_started_at,
       markdown_content, summary_json, metrics_json, contract_json, content_hash, generated_at
FROM reports_stage
