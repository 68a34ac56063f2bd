-- Delete a schedule; its exports stay (exports.schedule_id ON DELETE SET NULL).
DELETE FROM reporting.schedules WHERE id = %(id)s AND tenant_id = %(tenant_id)s RETURNING id
