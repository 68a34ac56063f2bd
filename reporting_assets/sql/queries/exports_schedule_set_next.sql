-- Record a schedule's next occurrence (the sensor fills it where it was never computed).
UPDATE reporting.schedules SET next_run_at = %(next_run_at)s
WHERE id = %(id)s AND next_run_at IS NOT DISTINCT FROM %(expected)s
