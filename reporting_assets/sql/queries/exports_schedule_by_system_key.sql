-- A default schedule created by `exports init-defaults`.
SELECT * FROM reporting.schedules WHERE tenant_id = %(tenant_id)s AND system_key = %(system_key)s
