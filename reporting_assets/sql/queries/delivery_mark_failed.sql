-- A claimed delivery could not be made (after its in-run retries).
UPDATE reporting.deliveries
SET status = 'failed',
    attempts = attempts + %(attempts)s,
    last_error = %(error)s,
    updated_at = now()
WHERE id = %(id)s AND status = 'sending'
RETURNING *
