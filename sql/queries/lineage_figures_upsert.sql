-- One lineage row per leaf figure of each report's summary_json.
INSERT INTO reporting.report_lineage AS l
    (report_id, figure_path, figure_value, run_id, execution_partition_id, event_storage_id,
     external_execution_id)
SELECT report_id, figure_path, figure_value, run_id, execution_partition_id, event_storage_id,
       external_execution_id
FROM lineage_leaves
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
