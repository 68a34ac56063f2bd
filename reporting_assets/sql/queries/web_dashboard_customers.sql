-- One page of the customers a viewer may see (the operations tenant: all), optionally only those
-- whose key or display name contains %(q)s, with how many there are in all.
SELECT c.partition_key AS key, c.display_name, c.tenant_id, count(*) OVER () AS total
FROM reporting.customers c
WHERE (%(all)s OR c.tenant_id = %(tenant)s)
  AND (%(q)s::text IS NULL
       OR strpos(lower(c.partition_key || ' ' || coalesce(c.display_name, '')), lower(%(q)s::text)) > 0)
ORDER BY c.partition_key
LIMIT %(limit)s OFFSET %(offset)s
