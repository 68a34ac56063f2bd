-- The latest day with a pattern the caller may see (NULL: none yet).
SELECT max(o.day) AS day
FROM reporting.error_pattern_occurrences o
LEFT JOIN reporting.customers c ON c.partition_key = o.customer_key
WHERE %(all)s OR c.tenant_id = %(tenant)s
