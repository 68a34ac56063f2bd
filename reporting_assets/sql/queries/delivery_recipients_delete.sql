-- Remove a summary recipient (past deliveries stay in reporting.deliveries).
DELETE FROM reporting.summary_recipients
WHERE customer_key = %(customer_key)s AND email = %(email)s
RETURNING email
