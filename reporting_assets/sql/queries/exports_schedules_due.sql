-- The sensor's work list: active schedules whose next occurrence has come (or was never
-- computed), soonest first. Uses the partial index schedules_due.
SELECT * FROM reporting.schedules
WHERE is_active AND (next_run_at IS NULL OR next_run_at <= %(now)s)
ORDER BY next_run_at NULLS FIRST
LIMIT %(limit)s
