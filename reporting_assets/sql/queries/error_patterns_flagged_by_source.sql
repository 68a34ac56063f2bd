-- The flagged patterns of the days %(first_day)s..%(last_day)s per source system (the
-- registry's, else the pipeline type): each pattern once, on its latest flagged day; most
-- occurrences first.
SELECT * FROM (
    SELECT DISTINCT ON (source, p.id)
           coalesce(pl.source_system, x.pipeline_type) AS source, d.day, d.flag, p.severity, p.fingerprint,
           d.occurrences, d.customers, d.seven_day_average
    FROM reporting.error_pattern_days d
    JOIN reporting.error_patterns p ON p.id = d.pattern_id
    CROSS JOIN LATERAL (
        SELECT DISTINCT unnest(o.pipelines) AS pipeline_type
        FROM reporting.error_pattern_occurrences o
        WHERE o.pattern_id = d.pattern_id AND o.day = d.day
    ) x
    LEFT JOIN reporting.pipelines pl ON pl.pipeline_type = x.pipeline_type
    WHERE d.day BETWEEN %(first_day)s AND %(last_day)s AND d.flag IS NOT NULL
    ORDER BY source, p.id, d.day DESC
) flagged
ORDER BY source, occurrences DESC, fingerprint
