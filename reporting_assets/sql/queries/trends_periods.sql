-- Per customer, two periods ending on the partition day and the two before them (period 0 is
-- the current one, 1 the one before): runs, successful runs, new orders (each day's latest
-- order_sync report, as in the daily summaries) and the median and 95th percentile of processing
-- time. %(days)s is the period length (7: week over week, 30: month over month).
WITH period_reports AS (
    SELECT r.customer_key, r.execution_date, r.pipeline_type, r.status,
           (%(day)s::date - r.execution_date) / %(days)s AS period,
           (r.summary_json #>> '{counts,new}')::integer AS new,
           (r.metrics_json ->> 'execution_time_seconds')::double precision AS seconds,
           row_number() OVER (
               PARTITION BY r.customer_key, r.execution_date, r.pipeline_type
               ORDER BY r.run_started_at DESC NULLS LAST, r.event_storage_id DESC NULLS LAST, r.id DESC
           ) AS newest
    FROM reporting.pipeline_execution_reports r
    WHERE r.execution_date > %(day)s::date - 2 * %(days)s AND r.execution_date <= %(day)s::date
)
SELECT c.partition_key AS customer_key, c.display_name AS customer_name, p.period,
       count(r.*) AS runs,
       count(r.*) FILTER (WHERE r.status = 'success') AS successful_runs,
       coalesce(sum(r.new) FILTER (WHERE r.pipeline_type = 'order_sync' AND r.newest = 1), 0) AS new_orders,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.seconds) AS p50_seconds,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY r.seconds) AS p95_seconds
FROM reporting.customers c
CROSS JOIN (VALUES (0), (1)) AS p (period)
LEFT JOIN period_reports r ON r.customer_key = c.partition_key AND r.period = p.period
GROUP BY c.partition_key, c.display_name, p.period
ORDER BY c.partition_key, p.period
