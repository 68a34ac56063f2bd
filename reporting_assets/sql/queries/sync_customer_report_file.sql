UPDATE reporting.sync_session_customers
SET report_file = u.report_file
FROM unnest(%(customer_keys)s::text[], %(report_files)s::text[]) AS u(customer_key, report_file)
WHERE sync_id = %(sync_id)s AND reporting.sync_session_customers.customer_key = u.customer_key
