SELECT * FROM reporting.sync_batches WHERE sync_id = %(sync_id)s ORDER BY customer_key, batch_no
