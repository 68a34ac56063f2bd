-- A session's record errors grouped by cause, with one example and the customers affected.
SELECT cause,
       count(*) AS errors,
       count(DISTINCT customer_key) AS customers,
       array_agg(DISTINCT customer_key ORDER BY customer_key) AS customer_keys,
       (array_agg(message ORDER BY id))[1] AS example
FROM reporting.sync_record_errors
WHERE sync_id = %(sync_id)s
GROUP BY cause
ORDER BY count(*) DESC, cause
