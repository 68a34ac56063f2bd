INSERT INTO reporting.sync_batches
    (sync_id, customer_key, batch_no, records, synced, errors, api_operations, seconds, status)
VALUES (%(sync_id)s, %(customer_key)s, %(batch_no)s, %(records)s, %(synced)s, %(errors)s,
        %(api_operations)s, %(seconds)s, %(status)s)
