-- Save a new schedule (validated by the engine first; next_run_at computed from its cron).
INSERT INTO reporting.schedules
    (report_id, name, description, cron_expression, timezone, format, delivery_method, recipients,
     s3_config, email_config, is_active, next_run_at, tenant_id, created_by, system_key)
VALUES (%(report_id)s, %(name)s, %(description)s, %(cron_expression)s, %(timezone)s, %(format)s,
        %(delivery_method)s, %(recipients)s, %(s3_config)s, %(email_config)s, %(is_active)s,
        %(next_run_at)s, %(tenant_id)s, %(created_by)s, %(system_key)s)
ON CONFLICT (tenant_id, system_key) DO NOTHING
RETURNING *
