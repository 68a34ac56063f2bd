-- --detailed: per source, actions by pipeline (the Dagster job that ran them) and by customer.
-- Every source: the caller keeps the ones it asked for (see automation_window_metrics.sql).
SELECT a.source,
       CASE WHEN GROUPING(a.job_name) = 0 THEN 'pipeline' ELSE 'customer' END AS dimension,
       coalesce(a.job_name, a.customer_key) AS name,
       max(a.customer_name) AS display_name,
       count(*) AS total_actions,
       count(*) FILTER (WHERE a.status = 'success') AS successful_actions,
       count(*) FILTER (WHERE a.status = 'failed') AS failed_actions,
       count(*) FILTER (WHERE a.status = 'partial') AS partial_actions,
       avg(a.seconds) FILTER (WHERE a.status <> 'failed') AS avg_seconds
FROM reporting.automation_actions a
WHERE a.started_at >= %(window_start)s AND a.started_at < %(window_end)s
GROUP BY GROUPING SETS ((a.source, a.job_name), (a.source, a.customer_key))
ORDER BY a.source, dimension DESC, total_actions DESC, name
