SELECT customer_key, array_agg(pipeline_type ORDER BY pipeline_type) AS pipelines
FROM reporting.customer_expected_pipelines
WHERE customer_key = ANY(%(customer_keys)s)
GROUP BY customer_key
