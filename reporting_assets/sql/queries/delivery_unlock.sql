-- Release the lock taken by delivery_lock.sql.
SELECT pg_advisory_unlock(hashtextextended('delivery:' || %(subject_key)s, 0))
