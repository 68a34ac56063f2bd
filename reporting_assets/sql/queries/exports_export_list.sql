-- Export history a user may see (admins: the tenant's; users: the exports they initiated),
-- newest first.
SELECT * FROM reporting.exports
WHERE tenant_id = %(tenant_id)s
  AND (%(is_admin)s OR initiated_by = %(user_id)s)
  AND (%(report_id)s::uuid IS NULL OR report_id = %(report_id)s::uuid)
  AND (%(schedule_id)s::uuid IS NULL OR schedule_id = %(schedule_id)s::uuid)
  AND (%(status)s::text IS NULL OR status = %(status)s::text)
ORDER BY created_at DESC, id
LIMIT %(limit)s
