-- Every error and warning of the day's reports (each run's report counts), fingerprinted in
-- SQL and grouped by (severity, fingerprint, customer) into a temp table dropped at commit:
-- occurrences, reports, pipelines, and the latest line's message, report and run (latest run
-- start first, a run without a start last, then the newest report, then the first message, so a
-- re-run picks the same line). The fingerprint placeholder is the masking expression over
-- `message` (error_patterns/fingerprint.py), its patterns bound as parameters.
-- CREATE TABLE AS, unlike INSERT ... SELECT, may run its query in parallel workers: the
-- masking, the bulk of the work, is spread over the cores. Blank fingerprints are dropped
-- afterwards (error_patterns_stage_blank.sql): a filter here would mask each line twice.
CREATE TEMP TABLE error_patterns_stage ON COMMIT DROP AS
WITH lines AS (
    SELECT l.severity, l.message, r.customer_key, r.pipeline_type, r.id AS report_id, r.execution_id,
           r.run_started_at
    FROM reporting.pipeline_execution_reports r
    CROSS JOIN LATERAL (
        SELECT 'error' AS severity, e.message
        FROM jsonb_array_elements_text(
            CASE WHEN jsonb_typeof(r.contract_json -> 'errors') = 'array' THEN r.contract_json -> 'errors' END
        ) AS e (message)
        UNION ALL
        SELECT 'warning', w.message
        FROM jsonb_array_elements_text(
            CASE WHEN jsonb_typeof(r.contract_json -> 'warnings') = 'array' THEN r.contract_json -> 'warnings' END
        ) AS w (message)
    ) l
    WHERE r.execution_date = %(day)s
), fingerprinted AS (
    SELECT severity, {fingerprint} AS fingerprint, message, customer_key, pipeline_type, report_id,
           execution_id, run_started_at
    FROM lines
)
SELECT severity, fingerprint, customer_key,
       count(*)::integer AS occurrences,
       count(DISTINCT report_id)::integer AS reports,
       array_agg(DISTINCT pipeline_type ORDER BY pipeline_type)::text[] AS pipelines,
       (array_agg(message ORDER BY run_started_at DESC NULLS LAST, report_id DESC, message))[1]
           AS example_message,
       (array_agg(report_id ORDER BY run_started_at DESC NULLS LAST, report_id DESC, message))[1]
           AS latest_report_id,
       (array_agg(execution_id ORDER BY run_started_at DESC NULLS LAST, report_id DESC, message))[1]
           AS latest_run_id
FROM fingerprinted
GROUP BY severity, fingerprint, customer_key
