-- First lineage write for these reports: a plain insert (see reporting_assets/db/first_write.py).
INSERT INTO reporting.report_lineage AS l
    (report_id, figure_path, figure_value, run_id, execution_partition_id, event_storage_id,
     external_execution_id)
SELECT report_id, figure_path, figure_value, run_id, execution_partition_id, event_storage_id,
       external_execution_id
FROM lineage_leaves
