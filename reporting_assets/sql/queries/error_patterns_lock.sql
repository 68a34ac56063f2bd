-- One refresh of a day at a time: a second run of the same day waits for the first to commit.
SELECT pg_advisory_xact_lock(hashtextextended('error_patterns:' || %(day)s::date::text, 0))
