-- Sample target: create subitems under their parent items.
INSERT INTO sample_target.subitems (subitem_id, item_id, name, column_values)
SELECT nextval('sample_target.ids')::text, u.item_id, u.name, u.column_values
FROM unnest(%(item_ids)s::text[], %(names)s::text[], %(column_values)s::jsonb[])
     AS u(item_id, name, column_values)
WHERE EXISTS (SELECT 1 FROM sample_target.items i WHERE i.item_id = u.item_id)
RETURNING subitem_id, item_id, name
