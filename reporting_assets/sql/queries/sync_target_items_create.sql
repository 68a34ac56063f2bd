-- Sample target: create items in a group.
INSERT INTO sample_target.items (item_id, group_id, name, external_key, column_values)
SELECT nextval('sample_target.ids')::text, %(group_id)s, u.name, u.external_key, u.column_values
FROM unnest(%(names)s::text[], %(keys)s::text[], %(column_values)s::jsonb[])
     AS u(name, external_key, column_values)
RETURNING item_id, external_key
