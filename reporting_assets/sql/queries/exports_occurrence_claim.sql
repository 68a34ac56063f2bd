-- Create the export of one schedule occurrence, once: a second claim of the same (schedule,
-- due time) inserts nothing (UNIQUE exports_occurrence_once). Only for an active schedule whose
-- report still exists (it always does: the schedule would have been deleted with it).
INSERT INTO reporting.exports
    (report_id, schedule_id, tenant_id, initiated_by, format, status, trigger, scheduled_for,
     as_of, delivery_method, delivery_config)
SELECT s.report_id, s.id, s.tenant_id, s.created_by, s.format, 'pending', 'schedule', %(scheduled_for)s,
       %(scheduled_for)s, s.delivery_method, %(delivery_config)s
FROM reporting.schedules s
WHERE s.id = %(schedule_id)s AND s.is_active
ON CONFLICT (schedule_id, scheduled_for) DO NOTHING
RETURNING *
