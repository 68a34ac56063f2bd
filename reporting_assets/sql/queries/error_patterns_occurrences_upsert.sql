-- The day's occurrences per pattern and customer, as staged (a re-run writes the same values).
INSERT INTO reporting.error_pattern_occurrences AS o
    (pattern_id, day, customer_key, occurrences, reports, pipelines, example_message, latest_report_id,
     latest_run_id)
SELECT p.id, %(day)s::date, s.customer_key, s.occurrences, s.reports, s.pipelines, s.example_message,
       s.latest_report_id, s.latest_run_id
FROM error_patterns_stage s
JOIN reporting.error_patterns p ON p.severity = s.severity AND p.fingerprint = s.fingerprint
ON CONFLICT (pattern_id, day, customer_key) DO UPDATE
SET occurrences = excluded.occurrences, reports = excluded.reports, pipelines = excluded.pipelines,
    example_message = excluded.example_message, latest_report_id = excluded.latest_report_id,
    latest_run_id = excluded.latest_run_id, updated_at = now()
WHERE (o.occurrences, o.reports, o.pipelines, o.example_message, o.latest_report_id, o.latest_run_id)
      IS DISTINCT FROM (excluded.occurrences, excluded.reports, excluded.pipelines, excluded.example_message,
                        excluded.latest_report_id, excluded.latest_run_id)
