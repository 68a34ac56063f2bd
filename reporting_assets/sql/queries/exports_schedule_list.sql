-- Schedules a user may see: all of the tenant's for an admin, else their own.
SELECT * FROM reporting.schedules
WHERE tenant_id = %(tenant_id)s
  AND (%(is_admin)s OR created_by = %(user_id)s)
  AND (%(report_id)s::uuid IS NULL OR report_id = %(report_id)s::uuid)
ORDER BY name, created_at
LIMIT %(limit)s
