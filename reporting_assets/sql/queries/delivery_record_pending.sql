-- Record planned deliveries as 'pending' (one row per key; existing rows stay as they are).
INSERT INTO reporting.deliveries (kind, subject_key, channel, recipient, content_hash, metadata)
SELECT k.kind, k.subject_key, k.channel, k.recipient, k.content_hash, k.metadata
FROM unnest(%(kinds)s::text[], %(subject_keys)s::text[], %(channels)s::text[], %(recipients)s::text[],
            %(content_hashes)s::text[], %(metadata)s::jsonb[])
     AS k(kind, subject_key, channel, recipient, content_hash, metadata)
ON CONFLICT (kind, subject_key, channel, recipient, content_hash) DO NOTHING
