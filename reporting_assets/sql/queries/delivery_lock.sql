-- Serialise deliveries of one subject across processes (session-level advisory lock; two runs
-- for the same customer and day must not both decide "first send" vs "correction").
SELECT pg_advisory_lock(hashtextextended('delivery:' || %(subject_key)s, 0))
