-- Fill the sample order list (the synthetic source stands in for the upstream ETL). A changed
-- order goes back to PENDING so the next session sends the change; an unchanged one is left alone.
INSERT INTO reporting.sync_order_list AS o
    (customer_key, order_id, product, quantity, delivery_date, status, sizes)
SELECT * FROM unnest(%(customer_keys)s::text[], %(order_ids)s::text[], %(products)s::text[],
                     %(quantities)s::integer[], %(delivery_dates)s::date[], %(statuses)s::text[],
                     %(sizes)s::jsonb[])
ON CONFLICT (customer_key, order_id) DO UPDATE SET
    product = EXCLUDED.product,
    quantity = EXCLUDED.quantity,
    delivery_date = EXCLUDED.delivery_date,
    status = EXCLUDED.status,
    sizes = EXCLUDED.sizes,
    sync_state = 'PENDING',
    updated_at = now()
WHERE (o.product, o.quantity, o.delivery_date, o.status, o.sizes)
      IS DISTINCT FROM (EXCLUDED.product, EXCLUDED.quantity, EXCLUDED.delivery_date, EXCLUDED.status,
                        EXCLUDED.sizes)
RETURNING (xmax = 0) AS inserted
