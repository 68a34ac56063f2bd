-- Records whose item (and subitems) now exist on the target.
UPDATE reporting.sync_order_list AS o
SET sync_state = 'SYNCED', item_id = s.item_id, group_id = %(group_id)s, last_sync_id = %(sync_id)s,
    sync_attempts = o.sync_attempts + 1, last_error = NULL, last_error_cause = NULL,
    synced_at = now(), updated_at = now()
FROM unnest(%(ids)s::bigint[], %(item_ids)s::text[]) AS s(id, item_id)
WHERE o.id = s.id
