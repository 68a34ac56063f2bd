-- One row per staged pattern: new ones are added; known ones widen their first/last seen days
-- and take the message of their latest day. Unchanged rows are not rewritten.
INSERT INTO reporting.error_patterns AS p (severity, fingerprint, example_message, first_seen, last_seen)
SELECT severity, fingerprint, (array_agg(example_message ORDER BY latest_report_id DESC))[1],
       %(day)s::date, %(day)s::date
FROM error_patterns_stage
GROUP BY severity, fingerprint
ON CONFLICT (severity, fingerprint) DO UPDATE
SET example_message = CASE WHEN excluded.last_seen >= p.last_seen THEN excluded.example_message
                           ELSE p.example_message END,
    first_seen = least(p.first_seen, excluded.first_seen),
    last_seen = greatest(p.last_seen, excluded.last_seen),
    updated_at = now()
WHERE (p.first_seen, p.last_seen) IS DISTINCT FROM
          (least(p.first_seen, excluded.first_seen), greatest(p.last_seen, excluded.last_seen))
   OR (excluded.last_seen >= p.last_seen AND p.example_message IS DISTINCT FROM excluded.example_message)
