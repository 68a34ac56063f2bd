-- Patterns the day no longer has: their day row goes; the first and last seen days of those
-- patterns are recomputed from the days left, and a pattern with no day left goes too.
WITH gone AS (
    DELETE FROM reporting.error_pattern_days d
    WHERE d.day = %(day)s
      AND NOT EXISTS (SELECT 1 FROM reporting.error_pattern_occurrences o
                      WHERE o.pattern_id = d.pattern_id AND o.day = d.day)
    RETURNING d.pattern_id
), seen AS (
    SELECT g.pattern_id, min(d.day) AS first_seen, max(d.day) AS last_seen
    FROM gone g
    LEFT JOIN reporting.error_pattern_days d ON d.pattern_id = g.pattern_id AND d.day <> %(day)s::date
    GROUP BY g.pattern_id
), emptied AS (
    DELETE FROM reporting.error_patterns p USING seen s
    WHERE p.id = s.pattern_id AND s.first_seen IS NULL
)
UPDATE reporting.error_patterns p
SET first_seen = s.first_seen, last_seen = s.last_seen, updated_at = now()
FROM seen s
WHERE p.id = s.pattern_id AND s.first_seen IS NOT NULL
