-- Store one automation report per source for a window; a re-run of the same window replaces
-- the document only when its content changed (updated_at says when), and always records the
-- run that last wrote it (the alert step finds its reports by run).
INSERT INTO reporting.automation_reports AS a
    (source, report_time, window_start, time_window_hours, report_type, detailed, run_id,
     total_actions, successful_actions, failed_actions, partial_actions, success_rate,
     below_alert_threshold, report, content_hash)
SELECT * FROM unnest(
    %(sources)s::text[], %(report_times)s::timestamptz[], %(window_starts)s::timestamptz[],
    %(hours)s::integer[], %(report_types)s::text[], %(detailed)s::boolean[], %(run_ids)s::text[],
    %(totals)s::integer[], %(successful)s::integer[], %(failed)s::integer[], %(partial)s::integer[],
    %(rates)s::double precision[], %(below)s::boolean[], %(reports)s::jsonb[], %(hashes)s::text[])
ON CONFLICT (source, report_time, time_window_hours) DO UPDATE SET
    window_start = EXCLUDED.window_start,
    report_type = EXCLUDED.report_type,
    detailed = EXCLUDED.detailed,
    run_id = EXCLUDED.run_id,
    total_actions = EXCLUDED.total_actions,
    successful_actions = EXCLUDED.successful_actions,
    failed_actions = EXCLUDED.failed_actions,
    partial_actions = EXCLUDED.partial_actions,
    success_rate = EXCLUDED.success_rate,
    below_alert_threshold = EXCLUDED.below_alert_threshold,
    report = EXCLUDED.report,
    content_hash = EXCLUDED.content_hash,
    updated_at = CASE WHEN a.content_hash = EXCLUDED.content_hash THEN a.updated_at ELSE now() END
WHERE (a.content_hash, a.run_id) IS DISTINCT FROM (EXCLUDED.content_hash, EXCLUDED.run_id)
RETURNING a.id, a.source
