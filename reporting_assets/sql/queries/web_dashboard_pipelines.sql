-- Per customer of a dashboard page: every expected pipeline (the customer's own list, else the
-- registry's pipelines expected daily) and every pipeline that reported on %(day)s, with that
-- day's latest report of it ('missing' when an expected pipeline has none yet).
WITH expected AS (
    SELECT k.key AS customer_key, unnest(coalesce(e.pipelines, %(default_expected)s::text[])) AS pipeline_type
    FROM unnest(%(customer_keys)s::text[]) AS k(key)
    LEFT JOIN (
        SELECT customer_key, array_agg(pipeline_type::text) AS pipelines
        FROM reporting.customer_expected_pipelines
        WHERE customer_key = ANY(%(customer_keys)s)
        GROUP BY customer_key
    ) e ON e.customer_key = k.key
), latest AS (
    SELECT DISTINCT ON (r.customer_key, r.pipeline_type)
           r.customer_key, r.pipeline_type, r.id AS report_id, r.execution_id, r.status, r.run_started_at
    FROM reporting.pipeline_execution_reports r
    WHERE r.customer_key = ANY(%(customer_keys)s) AND r.execution_date = %(day)s
    ORDER BY r.customer_key, r.pipeline_type, r.run_started_at DESC NULLS LAST,
             r.event_storage_id DESC NULLS LAST, r.id DESC
)
SELECT coalesce(l.customer_key, x.customer_key) AS customer_key,
       coalesce(l.pipeline_type, x.pipeline_type) AS pipeline_type,
       l.report_id, l.execution_id, coalesce(l.status, 'missing') AS status, l.run_started_at
FROM expected x
FULL JOIN latest l ON l.customer_key = x.customer_key AND l.pipeline_type = x.pipeline_type
ORDER BY 1, 2
