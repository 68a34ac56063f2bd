-- Every leaf figure of the partitions' reports, computed once per lineage write.
CREATE TEMP TABLE IF NOT EXISTS lineage_leaves (
    report_id bigint, figure_path text, figure_value jsonb, run_id text,
    execution_partition_id bigint, event_storage_id bigint, external_execution_id text
) ON COMMIT DELETE ROWS
