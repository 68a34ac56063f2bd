-- --detailed: duration percentiles per source over the actions that did not fail.
-- Every source: the caller keeps the ones it asked for (see automation_window_metrics.sql).
SELECT a.source,
       count(a.seconds) AS timed_actions,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY a.seconds) AS p50_seconds,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY a.seconds) AS p95_seconds,
       max(a.seconds) AS max_seconds
FROM reporting.automation_actions a
WHERE a.started_at >= %(window_start)s AND a.started_at < %(window_end)s
  AND a.status <> 'failed' AND a.seconds IS NOT NULL
GROUP BY a.source
