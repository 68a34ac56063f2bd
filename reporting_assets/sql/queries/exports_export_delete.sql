-- Delete an export row; its files stay in export_files (export_id NULL) for the cleanup.
DELETE FROM reporting.exports WHERE id = %(id)s AND tenant_id = %(tenant_id)s RETURNING id
