-- The recipients of one daily summary version whose email failed, when the last of them failed,
-- and whether a run is sending to any of them right now (deliveries_subject index): the email
-- sensor retries failed recipients in a new run after a delay.
SELECT count(*) FILTER (WHERE d.status = 'failed') AS failed,
       count(*) FILTER (WHERE d.status = 'sending') AS sending,
       max(d.updated_at) FILTER (WHERE d.status = 'failed') AS last_failure_at
FROM reporting.deliveries d
WHERE d.subject_key = %(subject_key)s AND d.channel = 'email'
  AND d.content_hash = %(content_hash)s
  AND d.kind IN ('daily_summary', 'summary_correction')
