-- The pipeline registry, whole (one query per sensor tick or report step).
SELECT pipeline_type, display_name, asset_key, source_system, run_link_template, expected_daily,
       new_label, updated_label
FROM reporting.pipelines
ORDER BY pipeline_type
