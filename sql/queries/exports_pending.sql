-- Manual exports waiting for a run (created by the API or `exports create --queue`), oldest first.
SELECT id, attempts FROM reporting.exports
WHERE status = 'pending' AND trigger = 'manual' AND updated_at <= %(before)s
ORDER BY created_at
LIMIT %(limit)s
