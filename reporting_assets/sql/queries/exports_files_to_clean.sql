-- Stored files to remove: expired, or whose export (or report) was deleted.
SELECT * FROM reporting.export_files
WHERE deleted_at IS NULL AND (expires_at <= %(now)s OR export_id IS NULL)
ORDER BY expires_at
LIMIT %(limit)s
