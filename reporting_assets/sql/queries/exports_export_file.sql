-- The export's file was written (kept for retries even if delivery then fails).
UPDATE reporting.exports
SET file_path = %(file_path)s, file_size = %(file_size)s, row_count = %(row_count)s,
    content_hash = %(content_hash)s, expires_at = %(expires_at)s, updated_at = now()
WHERE id = %(id)s
RETURNING *
