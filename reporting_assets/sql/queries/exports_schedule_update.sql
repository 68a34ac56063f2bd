-- Replace a schedule's editable settings (merged and validated by the engine).
UPDATE reporting.schedules
SET name = %(name)s,
    description = %(description)s,
    cron_expression = %(cron_expression)s,
    timezone = %(timezone)s,
    format = %(format)s,
    delivery_method = %(delivery_method)s,
    recipients = %(recipients)s,
    s3_config = %(s3_config)s,
    email_config = %(email_config)s,
    is_active = %(is_active)s,
    next_run_at = %(next_run_at)s,
    updated_at = now()
WHERE id = %(id)s AND tenant_id = %(tenant_id)s
RETURNING *
