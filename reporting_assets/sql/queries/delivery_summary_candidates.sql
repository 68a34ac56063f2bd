-- Daily summaries the email sensor looks at: recent days, and older days restated recently
-- that were emailed before (they need a correction; an old day computed for the first time,
-- e.g. by a backfill, is not emailed). Both filters are indexed, so the cost follows the
-- window, not the history. For each: how many active recipients it has, how many of them
-- already have this exact content, and of this content's deliveries how many failed (and when
-- the last one did) and how many a run is sending right now (the sensor retries failures). A
-- 'sending' or 'pending' row older than %(stale_after)s was abandoned by a run that died
-- mid-send: it counts as failed (the ledger lets the next run claim it), so it is retried.
SELECT s.customer_key, s.summary_date, s.content_hash, s.version, s.is_complete,
       s.missing_pipelines, s.status_json,
       count(r.email) AS active_recipients,
       count(r.email) FILTER (WHERE EXISTS (
           SELECT 1 FROM reporting.deliveries d
           WHERE d.subject_key = %(subject_prefix)s || s.customer_key || '|' || to_char(s.summary_date, 'YYYY-MM-DD')
             AND d.channel = 'email' AND d.recipient = r.email
             AND d.content_hash = s.content_hash AND d.status = 'sent'
             AND d.kind IN ('daily_summary', 'summary_correction')
       )) AS delivered_recipients,
       f.failed AS failed_deliveries, f.abandoned AS abandoned_deliveries, f.sending AS sending_deliveries,
       f.last_failure_at
FROM reporting.daily_customer_summaries s
LEFT JOIN reporting.summary_recipients r ON r.customer_key = s.customer_key AND r.active
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE d.status = 'failed' OR abandoned) AS failed,
           count(*) FILTER (WHERE abandoned) AS abandoned,
           count(*) FILTER (WHERE d.status = 'sending' AND NOT abandoned) AS sending,
           max(d.updated_at) FILTER (WHERE d.status = 'failed' OR abandoned) AS last_failure_at
    FROM reporting.deliveries d
    CROSS JOIN LATERAL (
        SELECT d.status IN ('sending', 'pending') AND d.updated_at < now() - %(stale_after)s::interval
               AS abandoned
    ) a
    WHERE d.subject_key = %(subject_prefix)s || s.customer_key || '|' || to_char(s.summary_date, 'YYYY-MM-DD')
      AND d.channel = 'email' AND d.content_hash = s.content_hash
      AND d.kind IN ('daily_summary', 'summary_correction')
) f
WHERE s.summary_date >= %(since_date)s
   OR (s.updated_at >= %(since)s AND s.version > 1 AND EXISTS (
           SELECT 1 FROM reporting.deliveries d
           WHERE d.subject_key = %(subject_prefix)s || s.customer_key || '|' || to_char(s.summary_date, 'YYYY-MM-DD')
             AND d.channel = 'email' AND d.status = 'sent'
             AND d.kind IN ('daily_summary', 'summary_correction')))
GROUP BY s.id, f.failed, f.abandoned, f.sending, f.last_failure_at
ORDER BY s.summary_date, s.customer_key
