-- The pending records of the customers in scope, at most %(limit)s per customer (NULL: all),
-- least-tried first, with each customer's total number of pending records.
SELECT id, customer_key, order_id, product, quantity, delivery_date, status, sizes, group_id, item_id,
       sync_attempts, pending_total
FROM (
    SELECT o.*,
           row_number() OVER (PARTITION BY o.customer_key ORDER BY o.sync_attempts, o.order_id) AS rn,
           count(*) OVER (PARTITION BY o.customer_key) AS pending_total
    FROM reporting.sync_order_list o
    WHERE o.customer_key = ANY(%(customer_keys)s) AND o.sync_state = 'PENDING'
) ranked
WHERE %(limit)s::integer IS NULL OR rn <= %(limit)s::integer
ORDER BY customer_key, rn
