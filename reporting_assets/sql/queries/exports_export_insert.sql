-- A manual export (download, or "run schedule now"), pending until a run processes it.
INSERT INTO reporting.exports
    (report_id, schedule_id, tenant_id, initiated_by, format, status, trigger, as_of,
     delivery_method, delivery_config)
VALUES (%(report_id)s, %(schedule_id)s, %(tenant_id)s, %(initiated_by)s, %(format)s, 'pending', 'manual',
        %(as_of)s, %(delivery_method)s, %(delivery_config)s)
RETURNING *
