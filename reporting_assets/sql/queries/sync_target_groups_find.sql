-- Sample target: the groups of a board with this title (the target allows duplicates).
SELECT group_id, title FROM sample_target.groups
WHERE board = %(board)s AND title = %(title)s
ORDER BY created_at, group_id
