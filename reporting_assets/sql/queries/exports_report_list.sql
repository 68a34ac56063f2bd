-- Reports a user may see: all of the tenant's for an admin, else their own and public ones.
SELECT * FROM reporting.reports
WHERE tenant_id = %(tenant_id)s
  AND (%(is_admin)s OR created_by = %(user_id)s OR is_public)
ORDER BY name, created_at
LIMIT %(limit)s
