-- Per customer, the 30 days ending on the partition day: runs, success rate, new orders, time.
SELECT r.customer_key,
       max(r.customer_name) AS customer_name,
       count(*) AS runs,
       count(*) FILTER (WHERE r.status = 'success') AS successful_runs,
       coalesce(sum((r.summary_json #>> '{counts,new}')::integer)
                FILTER (WHERE r.pipeline_type = 'order_sync'), 0) AS new_orders,
       coalesce(avg((r.metrics_json ->> 'execution_time_seconds')::double precision), 0) AS avg_seconds,
       count(DISTINCT r.execution_date) AS active_days
FROM reporting.pipeline_execution_reports r
WHERE r.execution_date > %(day)s::date - %(window_days)s AND r.execution_date <= %(day)s::date
GROUP BY r.customer_key
ORDER BY r.customer_key
