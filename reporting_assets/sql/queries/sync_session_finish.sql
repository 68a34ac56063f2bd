-- Close a session with its status and executive summary (idempotent: re-finishing rewrites it).
UPDATE reporting.sync_sessions
SET status = %(status)s, finished_at = COALESCE(finished_at, %(finished_at)s), error = %(error)s,
    reports_error = %(reports_error)s, finalized_by = %(finalized_by)s, summary_json = %(summary_json)s,
    summary_markdown = %(summary_markdown)s, updated_at = now()
WHERE sync_id = %(sync_id)s
