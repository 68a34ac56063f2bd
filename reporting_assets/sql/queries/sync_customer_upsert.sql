-- A customer's line of a session (written when it starts and when it ends).
INSERT INTO reporting.sync_session_customers AS c
    (sync_id, customer_key, customer_name, position, status, records_in_scope, records_processed,
     records_synced, items_created, items_updated, subitems_created, subitems_updated, errors,
     pending_before, group_id, group_title, group_action, group_applied, started_at, finished_at,
     seconds, error, report_file, contract_emitted)
VALUES (%(sync_id)s, %(customer_key)s, %(customer_name)s, %(position)s, %(status)s,
        %(records_in_scope)s, %(records_processed)s, %(records_synced)s, %(items_created)s,
        %(items_updated)s, %(subitems_created)s, %(subitems_updated)s, %(errors)s, %(pending_before)s,
        %(group_id)s, %(group_title)s, %(group_action)s, %(group_applied)s, %(started_at)s,
        %(finished_at)s, %(seconds)s, %(error)s, %(report_file)s, %(contract_emitted)s)
ON CONFLICT (sync_id, customer_key) DO UPDATE SET
    customer_name = EXCLUDED.customer_name, position = EXCLUDED.position, status = EXCLUDED.status,
    records_in_scope = EXCLUDED.records_in_scope, records_processed = EXCLUDED.records_processed,
    records_synced = EXCLUDED.records_synced, items_created = EXCLUDED.items_created,
    items_updated = EXCLUDED.items_updated, subitems_created = EXCLUDED.subitems_created,
    subitems_updated = EXCLUDED.subitems_updated, errors = EXCLUDED.errors,
    pending_before = EXCLUDED.pending_before, group_id = EXCLUDED.group_id,
    group_title = EXCLUDED.group_title, group_action = EXCLUDED.group_action,
    group_applied = EXCLUDED.group_applied, started_at = EXCLUDED.started_at,
    finished_at = EXCLUDED.finished_at, seconds = EXCLUDED.seconds, error = EXCLUDED.error,
    report_file = COALESCE(EXCLUDED.report_file, c.report_file),
    contract_emitted = c.contract_emitted OR EXCLUDED.contract_emitted
