-- Every error and warning of the day's reports (each run's report counts), fingerprinted in
-- SQL and grouped by (severity, fingerprint, customer): occurrences, reports, pipelines, and the
-- latest run's message and ids. The fingerprint placeholder is the masking expression over
-- `message` (error_patterns/fingerprint.py), its patterns bound as parameters.
INSERT INTO error_patterns_stage
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
       count(*)::integer,
       count(DISTINCT report_id)::integer,
       array_agg(DISTINCT pipeline_type ORDER BY pipeline_type),
       (array_agg(message ORDER BY run_started_at DESC NULLS LAST, report_id DESC))[1],
       max(report_id),
       (array_agg(execution_id ORDER BY run_started_at DESC NULLS LAST, report_id DESC))[1]
FROM fingerprinted
WHERE fingerprint <> ''
GROUP BY severity, fingerprint, customer_key
