-- Open a session. Returns no row when the sync id is taken (the caller draws a new one).
INSERT INTO reporting.sync_sessions
    (sync_id, run_id, environment, dry_run, filters, customers, status, started_at, folder)
VALUES (%(sync_id)s, %(run_id)s, %(environment)s, %(dry_run)s, %(filters)s, %(customers)s, 'running',
        %(started_at)s, %(folder)s)
ON CONFLICT (sync_id) DO NOTHING
RETURNING sync_id
