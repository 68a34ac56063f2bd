-- Sample target: the items of a group whose key column holds one of these values, with subitems.
SELECT i.item_id, i.external_key, i.name, i.column_values,
       COALESCE(jsonb_agg(jsonb_build_object('id', s.subitem_id, 'name', s.name,
                                             'column_values', s.column_values)
                          ORDER BY s.subitem_id) FILTER (WHERE s.subitem_id IS NOT NULL),
                '[]'::jsonb) AS subitems
FROM sample_target.items i
LEFT JOIN sample_target.subitems s ON s.item_id = i.item_id
WHERE i.group_id = %(group_id)s AND i.external_key = ANY(%(keys)s)
GROUP BY i.item_id
ORDER BY i.item_id
