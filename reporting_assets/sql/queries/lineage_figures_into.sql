-- Followed by lineage_leaves (a first write) or lineage_leaves_staged (the upsert, with
-- lineage_figures_on_conflict); see reporting_assets/db/first_write.py.
INSERT INTO reporting.report_lineage AS l
    (report_id, figure_path, figure_value, run_id, execution_partition_id, event_storage_id,
     external_execution_id)
