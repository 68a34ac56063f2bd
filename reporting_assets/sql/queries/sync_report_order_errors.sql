-- Customer reports read the order list only for errors and pending records: the records of these
-- customers whose last sync failed, at most %(per_customer)s each.
SELECT e.*
FROM unnest(%(customer_keys)s::text[]) AS c(customer_key)
CROSS JOIN LATERAL (
    SELECT o.customer_key, o.order_id, o.product, o.status, o.last_error_cause, o.last_error, o.sync_attempts,
           o.last_sync_id
    FROM reporting.sync_order_list o
    WHERE o.customer_key = c.customer_key AND o.sync_state = 'PENDING' AND o.last_error IS NOT NULL
    ORDER BY o.updated_at DESC, o.order_id
    LIMIT %(per_customer)s
) e
