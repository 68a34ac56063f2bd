-- Records that failed stay PENDING with their error (the next session retries them); an item
-- that was created before the failure keeps its id, so the retry updates it instead of
-- creating a duplicate.
UPDATE reporting.sync_order_list AS o
SET item_id = COALESCE(f.item_id, o.item_id), last_sync_id = %(sync_id)s,
    sync_attempts = o.sync_attempts + 1, last_error = f.message, last_error_cause = f.cause,
    updated_at = now()
FROM unnest(%(ids)s::bigint[], %(item_ids)s::text[], %(causes)s::text[], %(messages)s::text[])
     AS f(id, item_id, cause, message)
WHERE o.id = f.id
