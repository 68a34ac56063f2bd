-- One lineage row per leaf figure of each report's summary_json.
INSERT INTO reporting.report_lineage AS l
    (report_id, figure_path, figure_value, run_id, execution_partition_id, event_storage_id,
     external_execution_id)
SELECT r.id, leaf.path, leaf.value, r.execution_id, p.id, r.event_storage_id, r.external_execution_id
FROM reporting.pipeline_execution_reports r
JOIN reporting.workflow_execution_partitions p
  ON p.run_id = r.execution_id AND p.pipeline_type = r.pipeline_type
 AND p.customer_key = r.customer_key AND p.execution_date = r.execution_date
CROSS JOIN LATERAL reporting.jsonb_leaves(r.summary_json) leaf
WHERE r.partition_key = ANY(%(partition_keys)s)
ON CONFLICT (report_id, figure_path) DO UPDATE SET
    figure_value = EXCLUDED.figure_value,
    run_id = EXCLUDED.run_id,
    execution_partition_id = EXCLUDED.execution_partition_id,
    event_storage_id = EXCLUDED.event_storage_id,
    external_execution_id = EXCLUDED.external_execution_id,
    updated_at = now()
WHERE (l.figure_value, l.run_id, l.execution_partition_id, l.event_storage_id, l.external_execution_id)
      IS DISTINCT FROM (EXCLUDED.figure_value, EXCLUDED.run_id, EXCLUDED.execution_partition_id,
                        EXCLUDED.event_storage_id, EXCLUDED.external_execution_id)
