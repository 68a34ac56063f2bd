-- Sample target: create a group (no uniqueness check, like the real API).
INSERT INTO sample_target.groups (group_id, board, title)
VALUES ('group_' || nextval('sample_target.ids'), %(board)s, %(title)s)
RETURNING group_id, title
