-- Appended to reports_insert_new for the upsert: a row whose content is unchanged is left
-- alone (updated_at kept).
ON CONFLICT ON CONSTRAINT pipeline_execution_reports_one_per_run DO UPDATE SET
    customer_name = EXCLUDED.customer_name,
    external_execution_id = EXCLUDED.external_execution_id,
    partition_key = EXCLUDED.partition_key,
    status = EXCLUDED.status,
    source_event = EXCLUDED.source_event,
    event_storage_id = EXCLUDED.event_storage_id,
    run_started_at = EXCLUDED.run_started_at,
    markdown_content = EXCLUDED.markdown_content,
    summary_json = EXCLUDED.summary_json,
    metrics_json = EXCLUDED.metrics_json,
    contract_json = EXCLUDED.contract_json,
    content_hash = EXCLUDED.content_hash,
    updated_at = now()
WHERE r.content_hash IS DISTINCT FROM EXCLUDED.content_hash
   OR r.event_storage_id IS DISTINCT FROM EXCLUDED.event_storage_id
   OR r.customer_name IS DISTINCT FROM EXCLUDED.customer_name
