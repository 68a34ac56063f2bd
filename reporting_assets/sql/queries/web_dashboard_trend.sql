-- Per customer of a dashboard page and day of the %(window_days)s days ending %(day)s: runs,
-- successful runs, new orders and processing time, by the rules of trends_window.sql (each day's
-- latest order_sync report counts for new orders). Days without runs have no row.
WITH window_reports AS (
    SELECT r.customer_key, r.execution_date, r.pipeline_type, r.status,
           (r.summary_json #>> '{counts,new}')::integer AS new,
           (r.metrics_json ->> 'execution_time_seconds')::double precision AS seconds,
           row_number() OVER (
               PARTITION BY r.customer_key, r.execution_date, r.pipeline_type
               ORDER BY r.run_started_at DESC NULLS LAST, r.event_storage_id DESC NULLS LAST, r.id DESC
           ) AS newest
    FROM reporting.pipeline_execution_reports r
    WHERE r.customer_key = ANY(%(customer_keys)s)
      AND r.execution_date > %(day)s::date - %(window_days)s AND r.execution_date <= %(day)s::date
)
SELECT customer_key, execution_date AS day,
       count(*) AS runs,
       count(*) FILTER (WHERE status = 'success') AS successful_runs,
       coalesce(sum(new) FILTER (WHERE pipeline_type = 'order_sync' AND newest = 1), 0) AS new_orders,
       coalesce(sum(seconds), 0) AS total_seconds
FROM window_reports
GROUP BY customer_key, execution_date
ORDER BY customer_key, execution_date
