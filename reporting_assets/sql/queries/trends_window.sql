-- Per customer, the 30 days ending on the partition day: runs, success rate, new orders, time.
-- New orders follow the daily summaries' rule: each day's latest order_sync report counts (a
-- re-run replaces its figures, it does not add to them). Registered customers without a run in
-- the window are listed with zero runs: a customer that went quiet is a trend too.
WITH window_reports AS (
    SELECT r.customer_key, r.customer_name, r.execution_date, r.pipeline_type, r.status,
           (r.summary_json #>> '{counts,new}')::integer AS new,
           (r.metrics_json ->> 'execution_time_seconds')::double precision AS seconds,
           row_number() OVER (
               PARTITION BY r.customer_key, r.execution_date, r.pipeline_type
               ORDER BY r.run_started_at DESC NULLS LAST, r.event_storage_id DESC NULLS LAST, r.id DESC
           ) AS newest
    FROM reporting.pipeline_execution_reports r
    WHERE r.execution_date > %(day)s::date - %(window_days)s AND r.execution_date <= %(day)s::date
), per_customer AS (
    SELECT customer_key,
           max(customer_name) AS customer_name,
           count(*) AS runs,
           count(*) FILTER (WHERE status = 'success') AS successful_runs,
           coalesce(sum(new) FILTER (WHERE pipeline_type = 'order_sync' AND newest = 1), 0) AS new_orders,
           coalesce(sum(seconds), 0) AS total_seconds,
           count(DISTINCT execution_date) AS active_days
    FROM window_reports
    GROUP BY customer_key
)
SELECT coalesce(p.customer_key, c.partition_key) AS customer_key,
       coalesce(c.display_name, p.customer_name) AS customer_name,
       coalesce(p.runs, 0) AS runs,
       coalesce(p.successful_runs, 0) AS successful_runs,
       coalesce(p.new_orders, 0) AS new_orders,
       coalesce(p.total_seconds, 0) AS total_seconds,
       coalesce(p.active_days, 0) AS active_days
FROM per_customer p
FULL JOIN reporting.customers c ON c.partition_key = p.customer_key
ORDER BY 1
