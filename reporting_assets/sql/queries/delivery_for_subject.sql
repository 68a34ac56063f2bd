-- Deliveries of a subject (optionally one channel, recipient, status and kinds), oldest first.
SELECT *
FROM reporting.deliveries
WHERE subject_key = %(subject_key)s
  AND (%(channel)s::text IS NULL OR channel = %(channel)s)
  AND (%(recipient)s::text IS NULL OR recipient = %(recipient)s)
  AND (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(kinds)s::text[] IS NULL OR kind = ANY(%(kinds)s::text[]))
ORDER BY sent_at NULLS LAST, id
