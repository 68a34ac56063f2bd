-- One delivery by its natural key.
SELECT *
FROM reporting.deliveries
WHERE kind = %(kind)s AND subject_key = %(subject_key)s AND channel = %(channel)s
  AND recipient = %(recipient)s AND content_hash = %(content_hash)s
