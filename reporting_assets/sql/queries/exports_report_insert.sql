-- Save a new report (validated by the engine first).
INSERT INTO reporting.reports
    (name, description, tenant_id, created_by, query_config, visualization_config, filters,
     row_limit, is_public, tags, system_key)
VALUES (%(name)s, %(description)s, %(tenant_id)s, %(created_by)s, %(query_config)s,
        %(visualization_config)s, %(filters)s, %(row_limit)s, %(is_public)s, %(tags)s, %(system_key)s)
ON CONFLICT (tenant_id, system_key) DO NOTHING
RETURNING *
