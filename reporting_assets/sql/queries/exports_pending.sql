-- Exports waiting for a run, oldest first: manual ones (the API or `exports create --queue`),
-- retried ones (`exports retry --queue`, any trigger) and schedule occurrences whose run died
-- between claiming and starting them. The caller's grace period keeps an occurrence that its own
-- run is about to start out of this list.
SELECT id, attempts FROM reporting.exports
WHERE status = 'pending' AND updated_at <= %(before)s
ORDER BY created_at
LIMIT %(limit)s
