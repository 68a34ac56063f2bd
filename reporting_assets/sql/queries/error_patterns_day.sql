-- The patterns of a day over the customers the caller may see (%(all)s: every customer, else
-- those of tenant %(tenant)s), flagged first, then by occurrences: totals, customers, pipelines,
-- the latest message and run, and the first and last day those customers had the pattern (every
-- customer: the pattern's own days; a tenant: the newest/oldest of its customers' rows, an index
-- walk in day order per pattern).
-- %(flagged)s keeps only flagged patterns; %(limit)s / %(offset)s page; `total` and
-- `flagged_total` count them all.
WITH visible AS (
    SELECT coalesce(array_agg(c.partition_key), '{}') AS keys
    FROM reporting.customers c
    WHERE NOT %(all)s AND c.tenant_id = %(tenant)s
), occurrences AS (
    SELECT o.*
    FROM reporting.error_pattern_occurrences o
    WHERE o.day = %(day)s AND (%(all)s OR o.customer_key = ANY ((SELECT keys FROM visible)::text[]))
), patterns AS (
    SELECT o.pattern_id,
           sum(o.occurrences)::integer AS occurrences,
           sum(o.reports)::integer AS reports,
           array_agg(o.customer_key ORDER BY o.customer_key) AS customers,
           (array_agg(o.example_message ORDER BY o.latest_report_id DESC))[1] AS example_message,
           max(o.latest_report_id) AS latest_report_id,
           (array_agg(o.latest_run_id ORDER BY o.latest_report_id DESC))[1] AS latest_run_id
    FROM occurrences o
    GROUP BY o.pattern_id
), pipelines AS (
    SELECT o.pattern_id, array_agg(DISTINCT pl ORDER BY pl) AS pipelines
    FROM occurrences o CROSS JOIN LATERAL unnest(o.pipelines) AS pl
    GROUP BY o.pattern_id
)
SELECT p.id AS pattern_id, p.severity, p.fingerprint, d.flag, t.occurrences, t.reports,
       round(d.seven_day_average::numeric, 2)::double precision AS seven_day_average,
       t.customers, pl.pipelines, t.example_message, t.latest_report_id, t.latest_run_id,
       CASE WHEN %(all)s THEN p.first_seen
            ELSE (SELECT min(o.day) FROM reporting.error_pattern_occurrences o
                  WHERE o.pattern_id = p.id AND o.customer_key = ANY ((SELECT keys FROM visible)::text[])) END
           AS first_seen,
       CASE WHEN %(all)s THEN p.last_seen
            ELSE (SELECT max(o.day) FROM reporting.error_pattern_occurrences o
                  WHERE o.pattern_id = p.id AND o.customer_key = ANY ((SELECT keys FROM visible)::text[])) END
           AS last_seen,
       count(*) OVER () AS total,
       count(*) FILTER (WHERE d.flag IS NOT NULL) OVER () AS flagged_total
FROM patterns t
JOIN reporting.error_patterns p ON p.id = t.pattern_id
JOIN reporting.error_pattern_days d ON d.pattern_id = t.pattern_id AND d.day = %(day)s
JOIN pipelines pl ON pl.pattern_id = t.pattern_id
WHERE NOT %(flagged)s OR d.flag IS NOT NULL
ORDER BY d.flag IS NULL, t.occurrences DESC, p.id
LIMIT %(limit)s OFFSET %(offset)s
