-- Days without a summary yet: a plain insert of the staged rows (no row can conflict while
-- summaries_lock is held). With summaries_on_conflict appended, the upsert of restatements.
INSERT INTO reporting.daily_customer_summaries AS s
    (customer_name, customer_key, summary_date, partition_key, total_pipelines,
     successful_pipelines, new_orders, updated_orders, manufacturing_updates, shipping_updates,
     combined_markdown, status_json, is_complete, missing_pipelines, content_hash)
SELECT customer_name, customer_key, summary_date, partition_key, total_pipelines,
       successful_pipelines, new_orders, updated_orders, manufacturing_updates, shipping_updates,
       combined_markdown, status_json, is_complete, missing_pipelines, content_hash
FROM summaries_stage
