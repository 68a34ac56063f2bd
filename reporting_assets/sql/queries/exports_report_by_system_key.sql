-- A default report created by `exports init-defaults`.
SELECT * FROM reporting.reports WHERE tenant_id = %(tenant_id)s AND system_key = %(system_key)s
