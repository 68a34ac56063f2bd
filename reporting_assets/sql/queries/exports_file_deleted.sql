-- A stored file was removed.
UPDATE reporting.export_files SET deleted_at = now() WHERE id = %(id)s
