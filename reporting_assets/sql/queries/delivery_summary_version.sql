-- The version of a daily summary that had a given content hash: the current row or a row of
-- the history of restatements (history rows have no name or missing list of their own).
SELECT * FROM (
    SELECT s.customer_key, s.customer_name, s.summary_date, s.version, s.content_hash,
           s.combined_markdown, s.status_json, s.is_complete, s.missing_pipelines,
           s.total_pipelines, s.successful_pipelines, s.new_orders, s.updated_orders,
           s.manufacturing_updates, s.shipping_updates, s.updated_at
    FROM reporting.daily_customer_summaries s
    WHERE s.customer_key = %(customer_key)s AND s.summary_date = %(summary_date)s
      AND s.content_hash = %(content_hash)s
    UNION ALL
    SELECT h.customer_key, s.customer_name, h.summary_date, h.version, h.content_hash,
           h.combined_markdown, h.status_json, h.is_complete, NULL::text[],
           h.total_pipelines, h.successful_pipelines, h.new_orders, h.updated_orders,
           h.manufacturing_updates, h.shipping_updates, h.replaced_at
    FROM reporting.daily_customer_summary_history h
    JOIN reporting.daily_customer_summaries s ON s.id = h.summary_id
    WHERE h.customer_key = %(customer_key)s AND h.summary_date = %(summary_date)s
      AND h.content_hash = %(content_hash)s
) v
ORDER BY version DESC
LIMIT 1
