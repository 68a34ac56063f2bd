-- Per pattern of the day: its occurrences, customers, the average of the 7 days before (a day
-- without the pattern counts 0) and its flag: 'new' when no earlier day has it, 'growing' when
-- the day has more than %(growth)s times that average (a pattern back after a quiet week too).
WITH today AS (
    SELECT pattern_id, sum(occurrences)::integer AS occurrences, count(*)::integer AS customers
    FROM reporting.error_pattern_occurrences
    WHERE day = %(day)s
    GROUP BY pattern_id
), history AS (
    SELECT t.pattern_id,
           coalesce((SELECT sum(d.occurrences) FROM reporting.error_pattern_days d
                     WHERE d.pattern_id = t.pattern_id
                       AND d.day >= %(day)s::date - 7 AND d.day < %(day)s::date), 0) / 7.0 AS average,
           EXISTS (SELECT 1 FROM reporting.error_pattern_days d
                   WHERE d.pattern_id = t.pattern_id AND d.day < %(day)s::date) AS seen_before
    FROM today t
)
INSERT INTO reporting.error_pattern_days AS d (pattern_id, day, occurrences, customers, seven_day_average, flag)
SELECT t.pattern_id, %(day)s::date, t.occurrences, t.customers, h.average,
       CASE WHEN NOT h.seen_before THEN 'new'
            WHEN t.occurrences > %(growth)s * h.average THEN 'growing' END
FROM today t
JOIN history h ON h.pattern_id = t.pattern_id
ON CONFLICT (pattern_id, day) DO UPDATE
SET occurrences = excluded.occurrences, customers = excluded.customers,
    seven_day_average = excluded.seven_day_average, flag = excluded.flag, updated_at = now()
WHERE (d.occurrences, d.customers, d.seven_day_average, d.flag)
      IS DISTINCT FROM (excluded.occurrences, excluded.customers, excluded.seven_day_average, excluded.flag)
