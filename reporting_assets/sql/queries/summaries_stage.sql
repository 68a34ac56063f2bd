-- Restated summaries wait here until the versions they replace are archived.
CREATE TEMP TABLE IF NOT EXISTS summaries_stage (
    customer_name text, customer_key text, summary_date date, partition_key text,
    total_pipelines integer, successful_pipelines integer, new_orders integer, updated_orders integer,
    manufacturing_updates integer, shipping_updates integer, combined_markdown text,
    status_json jsonb, is_complete boolean, missing_pipelines text[], content_hash text
) ON COMMIT DELETE ROWS
