-- Appended to summaries_insert_new for the upsert: a changed summary gets the next version (the
-- old one was archived by summaries_archive); an unchanged one is left alone.
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
