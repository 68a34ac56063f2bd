-- processing (or pending) -> failed, with the reason.
UPDATE reporting.exports
SET status = 'failed', completed_at = NULL, error_message = %(error)s,
    download_url = coalesce(%(download_url)s, download_url),
    execution_time_ms = %(execution_time_ms)s, updated_at = now()
WHERE id = %(id)s AND status IN ('processing', 'pending')
RETURNING *
