-- One schedule of a tenant.
SELECT * FROM reporting.schedules WHERE id = %(id)s AND tenant_id = %(tenant_id)s
