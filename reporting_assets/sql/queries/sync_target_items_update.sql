-- Sample target: change items' name and column values.
UPDATE sample_target.items AS i
SET name = u.name, column_values = i.column_values || u.column_values, updated_at = now()
FROM unnest(%(item_ids)s::text[], %(names)s::text[], %(column_values)s::jsonb[])
     AS u(item_id, name, column_values)
WHERE i.item_id = u.item_id
RETURNING i.item_id
