-- Sample target: change subitems' column values.
UPDATE sample_target.subitems AS s
SET column_values = s.column_values || u.column_values, updated_at = now()
FROM unnest(%(subitem_ids)s::text[], %(column_values)s::jsonb[]) AS u(subitem_id, column_values)
WHERE s.subitem_id = u.subitem_id
RETURNING s.subitem_id
