-- Per source: the actions (reporting.automation_actions) whose run started in the report window
-- [window_start, window_end) and in the window before it [previous_start, window_start).
-- Durations count actions that did not fail (a failed step's time says nothing about how long
-- the work takes). One pass over the rows of the two windows.
SELECT a.source,
       count(*) FILTER (WHERE a.started_at >= %(window_start)s) AS total_actions,
       count(*) FILTER (WHERE a.started_at >= %(window_start)s AND a.status = 'success') AS successful_actions,
       count(*) FILTER (WHERE a.started_at >= %(window_start)s AND a.status = 'failed') AS failed_actions,
       count(*) FILTER (WHERE a.started_at >= %(window_start)s AND a.status = 'partial') AS partial_actions,
       avg(a.seconds) FILTER (WHERE a.started_at >= %(window_start)s AND a.status <> 'failed') AS avg_seconds,
       max(a.started_at) FILTER (WHERE a.started_at >= %(window_start)s) AS last_action_at,
       count(*) FILTER (WHERE a.started_at < %(window_start)s) AS previous_total_actions,
       count(*) FILTER (WHERE a.started_at < %(window_start)s AND a.status = 'success')
           AS previous_successful_actions,
       count(*) FILTER (WHERE a.started_at < %(window_start)s AND a.status <> 'failed') AS previous_timed_actions,
       avg(a.seconds) FILTER (WHERE a.started_at < %(window_start)s AND a.status <> 'failed')
           AS previous_avg_seconds,
       max(a.started_at) FILTER (WHERE a.started_at < %(window_start)s) AS previous_last_action_at
FROM reporting.automation_actions a
WHERE a.started_at >= %(previous_start)s AND a.started_at < %(window_end)s
  AND (%(sources)s::text[] IS NULL OR a.source = ANY(%(sources)s::text[]))
GROUP BY a.source
ORDER BY a.source
