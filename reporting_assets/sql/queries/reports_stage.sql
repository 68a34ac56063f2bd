CREATE TEMP TABLE IF NOT EXISTS reports_stage (
    customer_name text, customer_key text, execution_date date, pipeline_type text,
    execution_id text, external_execution_id text, partition_key text, status text,
    source_event text, event_storage_id bigint, run_started_at timestamptz,
    markdown_content text, summary_json jsonb, metrics_json jsonb, contract_json jsonb,
    content_hash text, generated_at timestamptz
) ON COMMIT DELETE ROWS
