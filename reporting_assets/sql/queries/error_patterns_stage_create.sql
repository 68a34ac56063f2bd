-- The day's error and warning lines grouped by (severity, fingerprint, customer), kept until the
-- transaction ends; error_patterns_stage.sql fills it.
CREATE TEMP TABLE error_patterns_stage (
    severity text NOT NULL,
    fingerprint text NOT NULL,
    customer_key text NOT NULL,
    occurrences integer NOT NULL,
    reports integer NOT NULL,
    pipelines text[] NOT NULL,
    example_message text NOT NULL,
    latest_report_id bigint NOT NULL,
    latest_run_id text NOT NULL
) ON COMMIT DROP
