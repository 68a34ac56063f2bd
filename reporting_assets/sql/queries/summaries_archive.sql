-- Before a summary is restated, keep the version being replaced. The customers bound the
-- lookup to their rows whatever join the planner picks (run unprepared: the table grows).
INSERT INTO reporting.daily_customer_summary_history
    (summary_id, customer_key, summary_date, version, replaced_by_version, total_pipelines,
     successful_pipelines, new_orders, updated_orders, manufacturing_updates, shipping_updates,
     combined_markdown, status_json, is_complete, content_hash, valid_from)
SELECT s.id, s.customer_key, s.summary_date, s.version, s.version + 1, s.total_pipelines,
       s.successful_pipelines, s.new_orders, s.updated_orders, s.manufacturing_updates,
       s.shipping_updates, s.combined_markdown, s.status_json, s.is_complete, s.content_hash,
       s.updated_at
FROM reporting.daily_customer_summaries s
JOIN summaries_stage n ON n.customer_key = s.customer_key AND n.summary_date = s.summary_date
WHERE s.content_hash <> n.content_hash AND s.customer_key = ANY(%(customer_keys)s)
ON CONFLICT (summary_id, version) DO NOTHING
