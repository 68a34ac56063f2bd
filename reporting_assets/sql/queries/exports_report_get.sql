-- One report of a tenant (another tenant's report is "not found").
SELECT * FROM reporting.reports WHERE id = %(id)s AND tenant_id = %(tenant_id)s
