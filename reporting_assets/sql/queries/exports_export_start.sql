-- pending/failed/processing (a crashed run) -> processing; counts the attempt.
UPDATE reporting.exports
SET status = 'processing', attempts = attempts + 1, started_at = now(), error_message = NULL,
    completed_at = NULL, updated_at = now()
WHERE id = %(id)s AND status IN ('pending', 'failed', 'processing')
RETURNING *
