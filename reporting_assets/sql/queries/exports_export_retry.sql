-- failed -> pending (the next run sends only what the delivery ledger says did not go out).
UPDATE reporting.exports
SET status = 'pending', updated_at = now()
WHERE id = %(id)s AND tenant_id = %(tenant_id)s AND status = 'failed'
RETURNING *
