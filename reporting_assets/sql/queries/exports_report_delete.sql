-- Delete a report; its schedules and exports go with it (ON DELETE CASCADE), its stored
-- files stay in export_files with export_id NULL until the cleanup removes them.
DELETE FROM reporting.reports WHERE id = %(id)s AND tenant_id = %(tenant_id)s RETURNING id
