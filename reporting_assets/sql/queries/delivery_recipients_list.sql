-- Summary recipients (one customer or all; optionally only active ones).
SELECT customer_key, email, display_name, active, created_at, updated_at
FROM reporting.summary_recipients
WHERE (%(customer_key)s::text IS NULL OR customer_key = %(customer_key)s)
  AND (NOT %(active_only)s OR active)
ORDER BY customer_key, email
