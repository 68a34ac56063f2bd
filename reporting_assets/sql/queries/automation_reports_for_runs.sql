-- The automation reports a run (or the run it re-executes) stored; with no run ids, the
-- reports of the latest report window.
SELECT a.*
FROM reporting.automation_reports a
WHERE CASE WHEN cardinality(%(run_ids)s::text[]) > 0 THEN a.run_id = ANY(%(run_ids)s::text[])
           ELSE (a.report_time, a.time_window_hours) = (
                SELECT report_time, time_window_hours FROM reporting.automation_reports
                ORDER BY report_time DESC, updated_at DESC LIMIT 1)
      END
ORDER BY a.source
