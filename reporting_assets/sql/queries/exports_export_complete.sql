-- processing -> completed.
UPDATE reporting.exports
SET status = 'completed', completed_at = now(), error_message = NULL,
    download_url = coalesce(%(download_url)s, download_url),
    expires_at = coalesce(%(expires_at)s, expires_at),
    execution_time_ms = %(execution_time_ms)s, updated_at = now()
WHERE id = %(id)s AND status = 'processing'
RETURNING *
