-- --detailed: the slowest actions per source (those with a duration), newest first on ties.
-- Every source: the caller keeps the ones it asked for (see automation_window_metrics.sql).
SELECT source, run_id, job_name, customer_key, execution_date, status, started_at, seconds
FROM (
    SELECT a.*, row_number() OVER (PARTITION BY a.source
                                   ORDER BY a.seconds DESC, a.started_at DESC, a.run_id) AS rank
    FROM reporting.automation_actions a
    WHERE a.started_at >= %(window_start)s AND a.started_at < %(window_end)s
      AND a.seconds IS NOT NULL
) ranked
WHERE rank <= %(limit)s
ORDER BY source, rank
