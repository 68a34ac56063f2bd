SELECT * FROM reporting.sync_session_customers WHERE sync_id = %(sync_id)s ORDER BY position
