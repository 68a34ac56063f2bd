-- Restated days: the staged summaries replace the stored ones with the next version (the old
-- version was archived by summaries_archive first). Only staged days whose hash changed are
-- staged at all; the WHERE keeps an unchanged one as it is if a caller stages it anyway.
INSERT INTO reporting.daily_customer_summaries AS s
    (customer_name, customer_key, summary_date, partition_key, total_pipelines,
     successful_pipelines, new_orders, updated_orders, manufacturing_updates, shipping_updates,
     combined_markdown, status_json, is_complete, missing_pipelines, content_hash)
SELECT customer_name, customer_key, summary_date, partition_key, total_pipelines,
       successful_pipelines, new_orders, updated_orders, manufacturing_updates, shipping_updates,
       combined_markdown, status_json, is_complete, missing_pipelines, content_hash
FROM summaries_stage
ON CONFLICT (customer_key, summary_date) DO UPDATE SET
    customer_name = EXCLUDED.customer_name,
    partition_key = EXCLUDED.partition_key,
    total_pipelines = EXCLUDED.total_pipelines,
    successful_pipelines = EXCLUDED.successful_pipelines,
    new_orders = EXCLUDED.new_orders,
    updated_orders = EXCLUDED.updated_orders,
    manufacturing_updates = EXCLUDED.manufacturing_updates,
    shipping_updates = EXCLUDED.shipping_updates,
    combined_markdown = EXCLUDED.combined_markdown,
    status_json = EXCLUDED.status_json,
    is_complete = EXCLUDED.is_complete,
    missing_pipelines = EXCLUDED.missing_pipelines,
    content_hash = EXCLUDED.content_hash,
    version = s.version + 1,
    updated_at = now()
WHERE s.content_hash <> EXCLUDED.content_hash
RETURNING customer_key, summary_date, version
