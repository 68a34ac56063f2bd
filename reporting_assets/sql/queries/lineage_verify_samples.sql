SELECT r.customer_key, r.execution_date, r.pipeline_type, l.figure_path, l.figure_value,
       l.run_id, l.event_storage_id, l.external_execution_id
FROM reporting.report_lineage l
JOIN reporting.pipeline_execution_reports r ON r.id = l.report_id
ORDER BY l.updated_at DESC, l.report_id DESC, l.figure_path
LIMIT %(limit)s
