-- --detailed: the most frequent error messages per source (failed and partial actions), with
-- how many actions reported each and the latest run that did.
-- Every source: the caller keeps the ones it asked for (see automation_window_metrics.sql).
WITH messages AS (
    SELECT a.source, left(btrim(m.message), 500) AS message, a.run_id, a.started_at
    FROM reporting.automation_actions a
    CROSS JOIN LATERAL jsonb_array_elements_text(
        CASE WHEN jsonb_typeof(a.errors) = 'array' THEN a.errors ELSE '[]'::jsonb END) AS m(message)
    WHERE a.started_at >= %(window_start)s AND a.started_at < %(window_end)s
      AND a.status IN ('failed', 'partial')
), counted AS (
    SELECT source, message, count(*) AS occurrences,
           (array_agg(run_id ORDER BY started_at DESC, run_id))[1] AS latest_run_id,
           row_number() OVER (PARTITION BY source ORDER BY count(*) DESC, message) AS rank
    FROM messages
    GROUP BY source, message
)
SELECT source, message, occurrences, latest_run_id
FROM counted
WHERE rank <= %(limit)s
ORDER BY source, rank
