SELECT report_id, figure_path, figure_value, run_id, execution_partition_id, event_storage_id,
       external_execution_id
FROM lineage_leaves
