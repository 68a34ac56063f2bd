-- Pending records per customer after the session: count, how many carry an error, and the first
-- few (the partial index on pending records serves each customer separately).
SELECT c.customer_key, p.pending, p.with_error, f.first_orders
FROM unnest(%(customer_keys)s::text[]) AS c(customer_key)
CROSS JOIN LATERAL (
    SELECT count(*) AS pending, count(*) FILTER (WHERE o.last_error IS NOT NULL) AS with_error
    FROM reporting.sync_order_list o
    WHERE o.customer_key = c.customer_key AND o.sync_state = 'PENDING'
) p
CROSS JOIN LATERAL (
    SELECT array_agg(x.order_id) AS first_orders
    FROM (
        SELECT o.order_id FROM reporting.sync_order_list o
        WHERE o.customer_key = c.customer_key AND o.sync_state = 'PENDING'
        ORDER BY o.sync_attempts, o.order_id
        LIMIT %(per_customer)s
    ) x
) f
WHERE p.pending > 0
