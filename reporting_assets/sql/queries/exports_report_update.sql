-- Replace a report's editable settings (the engine merged and validated them).
UPDATE reporting.reports
SET name = %(name)s,
    description = %(description)s,
    query_config = %(query_config)s,
    visualization_config = %(visualization_config)s,
    filters = %(filters)s,
    row_limit = %(row_limit)s,
    is_public = %(is_public)s,
    tags = %(tags)s,
    updated_at = now()
WHERE id = %(id)s AND tenant_id = %(tenant_id)s
RETURNING *
