-- A claimed delivery went out.
UPDATE reporting.deliveries
SET status = 'sent',
    attempts = attempts + %(attempts)s,
    message_id = %(message_id)s,
    object_key = %(object_key)s,
    last_error = NULL,
    sent_at = now(),
    updated_at = now()
WHERE id = %(id)s AND status = 'sending'
RETURNING *
