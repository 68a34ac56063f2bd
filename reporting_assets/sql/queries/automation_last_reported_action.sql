-- The last action stored automation reports saw for each source before this window: how long
-- a source with no runs in the window (or the one before) has been quiet.
SELECT DISTINCT ON (source) source,
       (report #>> '{performance_metrics,last_action_at}')::timestamptz AS last_action_at
FROM reporting.automation_reports
WHERE source = ANY(%(sources)s::text[])
  AND report_time < %(window_end)s
  AND report #>> '{performance_metrics,last_action_at}' IS NOT NULL
ORDER BY source, report_time DESC
