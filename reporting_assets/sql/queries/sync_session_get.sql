SELECT * FROM reporting.sync_sessions
WHERE (%(sync_id)s::text IS NOT NULL AND sync_id = %(sync_id)s)
   OR (%(run_id)s::text IS NOT NULL AND run_id = %(run_id)s)
ORDER BY started_at DESC
LIMIT 1
