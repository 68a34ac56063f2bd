-- One export of a tenant.
SELECT * FROM reporting.exports WHERE id = %(id)s AND tenant_id = %(tenant_id)s
