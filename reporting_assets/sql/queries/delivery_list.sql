-- Recent deliveries for the CLI, newest first (optionally by status and subject prefix).
SELECT *
FROM reporting.deliveries
WHERE (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(subject_prefix)s::text IS NULL OR starts_with(subject_key, %(subject_prefix)s))
ORDER BY updated_at DESC, id DESC
LIMIT %(limit)s
