INSERT INTO reporting.sync_record_errors (sync_id, customer_key, order_id, batch_no, cause, message)
SELECT %(sync_id)s, %(customer_key)s, u.order_id, u.batch_no, u.cause, u.message
FROM unnest(%(order_ids)s::text[], %(batch_nos)s::integer[], %(causes)s::text[], %(messages)s::text[])
     AS u(order_id, batch_no, cause, message)
