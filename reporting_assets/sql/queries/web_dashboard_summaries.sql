-- The current daily summaries of a dashboard page's customers for %(day)s and the day before.
SELECT customer_key, customer_name, summary_date, version, content_hash, combined_markdown,
       status_json, is_complete, missing_pipelines, total_pipelines, successful_pipelines,
       new_orders, updated_orders, manufacturing_updates, shipping_updates, updated_at
FROM reporting.daily_customer_summaries
WHERE customer_key = ANY(%(customer_keys)s)
  AND summary_date BETWEEN %(day)s::date - 1 AND %(day)s::date
