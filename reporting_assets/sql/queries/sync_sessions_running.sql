-- Sync sessions still marked running (few; partial index sync_sessions_running), oldest first.
SELECT sync_id, run_id FROM reporting.sync_sessions WHERE status = 'running' ORDER BY started_at
