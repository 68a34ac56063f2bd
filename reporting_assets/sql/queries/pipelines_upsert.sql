INSERT INTO reporting.pipelines AS p
    (pipeline_type, display_name, asset_key, source_system, run_link_template, expected_daily,
     new_label, updated_label)
VALUES (%(pipeline_type)s, %(display_name)s, %(asset_key)s, %(source_system)s, %(run_link_template)s,
        %(expected_daily)s, %(new_label)s, %(updated_label)s)
ON CONFLICT (pipeline_type) DO UPDATE SET
    display_name = EXCLUDED.display_name,
    asset_key = EXCLUDED.asset_key,
    source_system = EXCLUDED.source_system,
    run_link_template = EXCLUDED.run_link_template,
    expected_daily = EXCLUDED.expected_daily,
    new_label = EXCLUDED.new_label,
    updated_label = EXCLUDED.updated_label,
    updated_at = now()
