-- Claim one delivery for sending: insert it as 'sending', or move a pending/failed row (or a
-- 'sending' row abandoned longer than %(stale_after)s by a crashed process) to 'sending'.
-- Returns no row when it was already sent or another process is sending it right now.
INSERT INTO reporting.deliveries AS d
    (kind, subject_key, channel, recipient, content_hash, status, metadata)
VALUES (%(kind)s, %(subject_key)s, %(channel)s, %(recipient)s, %(content_hash)s, 'sending', %(metadata)s)
ON CONFLICT (kind, subject_key, channel, recipient, content_hash) DO UPDATE
    SET status = 'sending',
        metadata = d.metadata || EXCLUDED.metadata,
        updated_at = now()
    WHERE d.status IN ('pending', 'failed')
       OR (d.status = 'sending' AND d.updated_at < now() - %(stale_after)s::interval)
RETURNING d.*
