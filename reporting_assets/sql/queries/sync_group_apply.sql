-- Give the customer's group id to ALL its pending records (not only this session's batch), so a
-- later session never creates a second group for the same customer.
UPDATE reporting.sync_order_list
SET group_id = %(group_id)s, updated_at = now()
WHERE customer_key = %(customer_key)s AND sync_state = 'PENDING'
  AND group_id IS DISTINCT FROM %(group_id)s
