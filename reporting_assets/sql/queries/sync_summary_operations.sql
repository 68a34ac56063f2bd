-- API operations of a session per customer: attempts, outcomes, retries, time.
SELECT customer_key,
       count(*) AS operations,
       count(*) FILTER (WHERE status = 'ok') AS ok,
       count(*) FILTER (WHERE status = 'partial') AS partial,
       count(*) FILTER (WHERE status = 'error') AS failed,
       count(*) FILTER (WHERE status = 'timeout') AS timeouts,
       count(*) FILTER (WHERE status = 'planned') AS planned,
       count(*) FILTER (WHERE attempt > 1) AS retries,
       COALESCE(sum(duration_ms), 0) AS duration_ms
FROM reporting.sync_api_operations
WHERE sync_id = %(sync_id)s
GROUP BY customer_key
ORDER BY customer_key
