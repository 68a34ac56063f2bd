-- The latest day with a pattern the caller may see (NULL: none yet).
SELECT max(o.day) AS day
FROM reporting.error_pattern_occurrences o
WHERE %(all)s
   OR o.customer_key IN (SELECT c.partition_key FROM reporting.customers c WHERE c.tenant_id = %(tenant)s)
