-- The group id a customer's records already carry (one group per customer on the target).
SELECT group_id FROM reporting.sync_order_list
WHERE customer_key = %(customer_key)s AND group_id IS NOT NULL
ORDER BY updated_at DESC
LIMIT 1
