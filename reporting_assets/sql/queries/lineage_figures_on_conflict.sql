-- Appended to lineage_figures_into + lineage_leaves_staged for the upsert: one row per leaf
-- figure, updated only when something changed.
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
